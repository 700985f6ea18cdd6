"""What the console says to citizens (system turns) and to staff (API refusals)."""

RESOLVED = (
    "本次人工服务已结束，感谢您的耐心。请为本次服务评价（好差评），您的意见会帮助我们改进。"
    "之后有问题可以继续问智能助手。"
)
SILENT_RESOLVED = (
    "由于较长时间没有收到您的消息，本次人工服务已结束。请为本次服务评价（好差评）；"
    "如还有问题，可以继续问智能助手或再次转人工。"
)
EXPIRED = (
    "抱歉，工作人员暂时无法接入。您可以留言说明要反映的事情和联系方式，工作人员上线后会答复您；"
    "也可以拨打12345政务服务便民热线。现在您可以继续问智能助手。"
)
TICKET_ANSWER = "关于您的留言（编号：{number}），工作人员答复如下：\n{answer}"

# Refusals shown in the console
LOGIN_FAILED = "用户名或密码错误"
LOCKED_OUT = "登录失败次数过多，请{minutes}分钟后再试"
TOO_MANY_LOGINS = "这台电脑所在网络的登录失败次数过多，请{minutes}分钟后再试。忘记密码请联系值班主管。"
NOT_LOGGED_IN = "请先登录"
SESSION_EXPIRED = "登录已过期，请重新登录"
CSRF_FAILED = "页面已过期，请刷新后再试"
FORBIDDEN = "只有值班主管可以进行此操作"
ALREADY_TAKEN = "该会话已被其他工作人员接入"
NOT_YOURS = "该会话不在您名下，无法操作"
NOT_FOUND = "找不到该会话"
NO_SUCH_STAFF = "找不到这位工作人员"
TICKET_NOT_OPEN = "找不到该留言，或它已经答复过"
EMPTY_TEXT = "内容不能为空"
NO_CHANNEL = "该渠道暂不能主动推送消息，答复已保存，市民下次打开对话时可以看到"
