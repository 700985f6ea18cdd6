"""What the WeChat channel says in its own voice; everything else comes from the bot."""

from bot.texts import ASSISTANT_NAME

WELCOME = (
    f"您好，欢迎关注！我是{ASSISTANT_NAME}，可以帮您查办事指南、解读政策，也可以受理投诉和建议。"
    "直接发文字或语音问我就行。"
)
WELCOME_SERVICES = "大家常问：{services}。直接发送事项名称即可。"
WELCOME_ENTRY = "欢迎来到{place}！"
SCAN_AGAIN = "欢迎来到{place}！有什么想办的事，直接发文字问我。"
VOICE_UNCLEAR = "抱歉，没能听清您的语音。请用文字输入您的问题，比如“公积金怎么提取”。"
IMAGE = (
    "已收到您的图片。我暂时看不懂图片内容，请用文字描述您想办的事或遇到的问题；"
    "如需工作人员查看，请回复“人工”。"
)
VIDEO = "已收到您的视频。我暂时无法查看视频，请用文字描述您的问题；如需工作人员查看，请回复“人工”。"
LINK = "收到您分享的《{title}》。我暂时无法打开链接，请用文字说明您想咨询的问题。"
LOCATION = "已记下您的位置：{place}。查询办事地点时会优先参考这里。请问您想办什么事？"
UNSUPPORTED = "暂时不支持这种消息。请用文字描述您想咨询的问题。"
TOO_LONG = "消息太长了，请控制在{limit}字以内，或分几次发送。"
RATE_LIMITED = "您发送得有点快，请稍等一分钟再问，我会继续为您解答。"
BUSY = "抱歉，系统正忙，暂时没能回答您的问题。请稍后再发一次，或拨打12345政务服务便民热线。"
PICKUP_INVITE = "您的问题正在查询，请稍等片刻后发送任意文字（比如“1”），即可收到答复。"
PICKUP_STILL_WORKING = "还在为您查询，请稍后再发送任意文字获取答复。"
PICKUP_LOST = "抱歉，之前那个问题的答复已过期，请再发送一次您的问题。"
PICKUP_HEAD = "这是您之前咨询的答复：\n"
PICKUP_NEW_QUESTION = "\n\n（如果您刚才发送的是新问题，请再发送一次。）"
MORE_PENDING = "\n\n（内容较多，回复任意文字查看后续内容。）"
CONTINUE_FIELDS = "……\n回复{words}可查看完整内容"
CONTINUE_DETAILS = "……\n回复“详情”查看全部内容"
CONTINUE_LINK = "……\n完整内容请看：{link}"
CONTINUE_PLAIN = "……\n内容较长，详细情况可拨打12345政务服务便民热线咨询。"
CHOICES_HEAD = "回复序号即可："
LINKS_HEAD = "相关链接："
SOURCE = "来源："
NOT_DELIVERED = "微信消息未送达：{reason}。市民再次发消息后会自动补发。"

# Web chat widget (docs/webchat-protocol.md)
WEB_EMPTY = "您好像没有输入文字，请直接说出您想咨询的问题。"
WEB_RATE_LIMITED = "您发送得有点快，请稍等几秒再发，刚才的内容已保留在输入框里。"
WEB_BAD_FRAME = "消息格式不正确，请刷新页面后再试。"
WEB_NOT_FOUND = "找不到这条回答，无法评价。"
WEB_UNAVAILABLE = "服务暂时不可用，请稍后再试，您的消息没有丢失。"
WEB_BAD_PHONE = "联系电话好像不完整，请填写11位手机号或带区号的固定电话，也可以不填。"
WEB_MESSAGE_LEFT = (
    "已收到您的留言，编号：{number}。工作人员会在1个工作日内答复，答复会显示在这里；"
    "您也可以凭编号拨打12345政务服务便民热线查询。现在您可以继续问我其他问题。"
)
