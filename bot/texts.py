"""User-facing text of the assistant, in one place so every channel speaks with one voice."""

ASSISTANT_NAME = "临江市政务服务智能助手"

SERVICE_AREAS = (
    "户籍和身份证、居住证、社保医保、住房公积金、不动产登记、婚姻生育登记、出入境、"
    "驾驶证和机动车、营业执照、就业人才、入学、养老救助和残疾人服务、纳税"
)

EXAMPLES = "“身份证丢了怎么补办”“公积金怎么提取”“新生儿怎么办医保”"

GREET = (
    f"您好！我是{ASSISTANT_NAME}。我可以帮您查办事指南、解读政策，也可以受理投诉和建议。"
    f"请直接说出您想办的事，比如{EXAMPLES}。"
)
THANKS = "不客气，能帮上忙就好！还有其他问题，随时问我。"
GOODBYE = "感谢您的咨询，祝您生活愉快！如果对这次服务有什么意见，欢迎随时告诉我们。"
AFFIRM = "好的。还有什么可以帮您？"
DENY = "好的。如果还有其他问题，直接告诉我就行。"
CHITCHAT = f"我是政务服务助手，聊天不太在行。您可以问我办事和政策方面的问题，比如{EXAMPLES}。"
OUT_OF_SCOPE = (
    f"抱歉，这个问题不在我的服务范围内。我主要解答临江市的政务服务问题，包括{SERVICE_AREAS}等。"
)
NOT_FOUND = (
    "抱歉，我暂时没有找到和您的问题相符的内容。您可以换个说法，或者说明要办的具体事项"
    "（比如“补办身份证”“提取公积金”）；也可以回复“人工”联系工作人员，或拨打12345政务服务便民热线。"
)
DID_YOU_MEAN = "我没有找到完全对应的答案。您想问的是不是下面这些？回复序号即可："
CLARIFY = "您想了解的是哪一项？回复序号即可："
# {matter}: the matter as the citizen named it ("身份证")
MENU = "{matter}相关的业务有下面几项，您要办的是哪一项？回复序号，或者说说您的情况就行："
# {detail}: what the citizen asked about before picking one (DETAIL_NAMES)
MENU_FIRST = "{detail}要看您办的是哪一项。请先回复序号："
DETAIL_NAMES = {
    "materials": "要带的材料",
    "steps": "办理流程",
    "location": "办理地点",
    "online": "网上怎么办",
    "eligibility": "办理条件",
    "time_limit": "办理时限",
    "fee": "收费",
    "phone": "咨询电话",
    "basis": "办理依据",
}
CHOICE_INVALID = "没看明白您选的是哪一项，请回复序号（比如“1”），或者直接说出您的问题。"
# {old}: the title of the policy the question found; {label}: 已废止 / 已修订 / 已到期失效
SUPERSEDED = "您问到的《{old}》{label}，下面是现行的规定："
AGAIN_GUIDE = "其他内容可以接着问我，比如“要带什么材料”“在哪里办”“多久能办好”。"
AGAIN_POLICY = "其他内容可以接着问我，比如“什么时候施行”“原文在哪看”。"
FOLLOW_UP_MISSING = "《{title}》里没有这方面的说明。您可以拨打12345政务服务便民热线进一步咨询。"
NO_REPLACEMENT = "暂时没有查到替代它的新政策，建议拨打12345政务服务便民热线确认。"
EMPTY_MESSAGE = "您好像没有输入文字，请直接说出您想咨询的问题。"
SYMBOLS_ONLY = f"我只能看懂文字哦。请用文字描述您的问题，比如{EXAMPLES}。"

# {hours}: the service hours as the server is configured (ServiceHours.describe)
SERVICE_HOURS = "工作日9:00-17:00"
HANDOFF_QUEUED = (
    "好的，正在为您转接人工服务，请稍候。工作人员接入后会在这里回复您"
    "（人工服务时间：{hours}，其他时间可以先留言）。回复“返回”可以继续和智能助手对话。"
)
HANDOFF_AFTER_MISSES = "抱歉，连续两次没能回答您的问题。已为您转接人工服务，工作人员接入后会在这里回复您。"
HANDOFF_ALREADY = "您已在等待人工服务，工作人员接入后会回复您。您的留言已记录。"
HANDOFF_LEFT = "好的，已取消人工服务，您可以继续问我。"
HANDOFF_NOT_HELPFUL = "抱歉，刚才的回答没能帮到您。已为您转接人工服务，工作人员接入后会在这里回复您。"
HANDOFF_TOPIC = "您反映的事情需要工作人员处理，已为您转接人工服务，工作人员接入后会在这里回复您。"
HANDOFF_NO_STAFF = (
    "现在没有工作人员在线（人工服务时间以外或暂时都在忙）。您可以直接留言，说明要反映的事情和联系方式，"
    "工作人员上线后会尽快回复您；回复“返回”可以继续和智能助手对话。"
)

TICKET_ASK_MATTER = "好的，请您简要描述要反映的问题或建议（回复“取消”可退出）。"
TICKET_ASK_PLACE = "请问这件事发生在哪里？请说明区县、街道或小区（不方便说可以回复“跳过”）。"
TICKET_ASK_PHONE = (
    "如果需要工作人员回电，请留下手机号码。留下号码即表示您同意我们仅为处理这件诉求使用它；"
    "不需要回电请回复“跳过”。"
)
TICKET_BAD_PHONE = "这个号码好像不完整，请重新输入11位手机号或带区号的固定电话，不需要回电请回复“跳过”。"
TICKET_CREATED = (
    "已为您登记，编号：{number}。我们会转交相关部门办理，一般在5个工作日内答复。"
    "之后发送这个编号给我就能查询进度，也可以拨打12345热线查询。感谢您的反映！"
)
# {number}, {date}, {matter}: one of the citizen's tickets
TICKET_STATUS_OPEN = "编号{number}（{date}登记）：{matter}\n进度：已受理，正在转交相关部门办理，一般在登记后5个工作日内答复。"
# {answered}: the date of the answer; {answer}: the staff's answer
TICKET_STATUS_ANSWERED = "编号{number}（{date}登记）：{matter}\n进度：已于{answered}答复。答复内容：{answer}"
TICKET_STATUS_NOT_FOUND = "没有查到编号为{number}的诉求。请核对编号（只能查询您在这里登记的诉求），或拨打12345热线查询。"
TICKET_STATUS_NONE = "您在这里还没有登记过投诉或建议。如需反映问题，直接告诉我具体情况就行。"
TICKET_STATUS_MORE = "以上是您最近登记的诉求。查询其他的，请发送诉求编号。"
TICKET_CANCELLED = "好的，已取消登记。还有其他问题可以继续问我。"
REPLACEMENT_HINT = "看新政策"
