"""Recognise follow-ups that refer to the last answer: field questions and choice picks."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

# A first question may name the matter and one detail of it at once ("办居住证要多久",
# "补办身份证要多少钱"). The guide answer then leads with that detail. Only details a guide
# answer does not already show first (materials, steps, where, online are always shown), and
# only the words that mean the detail in a whole question too: "对象", "符合", "法律" do not
# ("结婚对象是外国人", "法律援助怎么申请"), so they count only in a follow-up (below).
ASKED_FIELD_PATTERNS: dict[str, tuple[str, ...]] = {
    "time_limit": ("多久", "几天", "多长时间", "时限", "多少天", "什么时候能拿", "要多长"),
    "fee": ("要钱", "收费", "费用", "花钱", "收钱", "几块钱", "工本费", "交钱", "免费", "多少钱"),
    "phone": ("电话", "联系方式", "热线"),
    "eligibility": ("条件", "谁可以", "谁能", "资格", "能不能办", "能办吗", "可以办吗", "能领吗",
                    "能不能领", "可以领吗", "能申请吗", "能不能申请", "可以申请吗"),
    "basis": ("依据",),
}

# Field key -> patterns citizens use when asking about that field of the last entry.
FIELD_PATTERNS: dict[str, tuple[str, ...]] = {
    "materials": (
        "材料", "带什么", "带啥", "带哪些", "准备什么", "准备啥", "准备哪些",
        "要什么证", "需要什么", "需要啥", "需要哪些", "要啥", "资料", "证件",
    ),
    "location": (
        "在哪", "哪里办", "哪儿办", "去哪", "地点", "地址", "窗口", "办公时间",
        "几点", "上班时间", "哪个部门", "到哪", "周末", "周六", "星期六", "节假日",
    ),
    "time_limit": (*ASKED_FIELD_PATTERNS["time_limit"], "什么时候好"),
    "fee": ASKED_FIELD_PATTERNS["fee"],
    "phone": (*ASKED_FIELD_PATTERNS["phone"], "怎么联系"),
    "online": ("网上", "线上", "在线", "手机上", "app", "小程序", "网办", "不用跑"),
    "steps": ("流程", "步骤", "程序", "怎么办理", "怎么弄", "怎么操作", "手续"),
    # who may apply covers whether the citizen must come in person or someone else may
    "eligibility": (*ASKED_FIELD_PATTERNS["eligibility"], "对象", "符合", "代办", "代领", "本人",
                    "委托", "替我"),
    "basis": (*ASKED_FIELD_PATTERNS["basis"], "法规", "法律"),
    "effective_on": ("什么时候施行", "什么时候开始", "何时施行", "生效", "施行"),
    "expires_on": ("有效期", "什么时候到期", "失效", "到期"),
    "doc_number": ("文号",),
    "original": ("原文",),
    "details": ("详情", "全文", "全部", "详细", "具体内容", "更多"),
}

# Words that carry no topic of their own; what remains after removing them and the
# field pattern tells a follow-up ("要带什么材料") from a new question ("护照要带什么材料").
_FILLER = re.compile(
    r"[\s\d，。！？、,.!?~～…：:；;“”\"'（）()]|请问|那个|这个|那|这|还|还有|我|要|得|需|的|吗|呢|啊|呀|吧|"
    r"么|嘛|了|都|是|在|可以|能|不能|可不可以|办|办理|去|用|一下|一般|大概|具体|需要|哪些|什么|啥|有|"
    r"没有|多|个|怎么|如何|谢谢|您好|你好|告诉|知道|想|问|下|些|查看|看|给|回复|说说"
)

MAX_FOLLOW_UP_CHARS = 30


# Nouns that name the materials but may be what another detail is asked about ("补办证件要多久",
# "材料交了几天能好"): they mean the materials field only when no other field is asked.
_MATERIAL_NOUNS = frozenset({"材料", "资料", "证件"})


def detect_field(text: str) -> str | None:
    """The field a short follow-up asks about, or None when it is not a pure follow-up."""
    if len(text) > MAX_FOLLOW_UP_CHARS:
        return None
    lowered = text.lower()
    other_field = any(p in lowered for key, patterns in FIELD_PATTERNS.items()
                      if key != "materials" for p in patterns)
    for key, patterns in FIELD_PATTERNS.items():
        if key == "fee" and not _is_fee(lowered):
            continue  # "一个月多少钱" after the 低保 guide asks the standard, not the fee
        if key == "time_limit" and _NOT_PROCESSING_TIME.search(lowered):
            continue  # "能领多久" after the unemployment benefit's guide
        for pattern in patterns:
            if pattern in _MATERIAL_NOUNS and other_field:
                continue
            if pattern in lowered:
                rest = _FILLER.sub("", lowered.replace(pattern, ""))
                if len(rest) <= 2 and not names_matter(rest):  # "驾照怎么弄" is a new question
                    return key
    return None


# "How much" is the service's fee only when the question is about the service: "失业金能领多少钱"
# asks what the citizen receives, "低保一个月多少钱" a monthly standard, "养老保险一年交多少钱" a
# contribution, "公积金能贷多少钱" a loan. Words that name the fee itself ("收费", "工本费", "要钱
# 吗") mean the fee whatever else is said: "补领身份证要钱吗", "领结婚证收费吗".
_AMOUNT_WORDS = ("多少钱", "几块钱", "费用")
_NOT_A_FEE = re.compile(
    r"能领|可以领|领多少|领取多少|补贴|补助|津贴|奖励|发放|发多少|给多少|报销|报多少|能报|能拿|拿多少|"
    r"能贷|可以贷|贷多少|贷款|一个月|每个月|每月|一年|每年|按月|月供|低保|养老金|退休金|失业金|"
    r"抚恤|工资|待遇|救助金"
)


def _is_fee(lowered: str) -> bool:
    """Whether a question that names a fee or amount word asks what the service costs."""
    if any(p in lowered for p in ASKED_FIELD_PATTERNS["fee"] if p not in _AMOUNT_WORDS):
        return True
    return not _NOT_A_FEE.search(lowered)


# "居住证有效期多久", "出生多久内要上户口", "身份证多久换一次": how long a document stays valid,
# a deadline the citizen must meet or how long a benefit is paid, not how long the office takes
# (办理时限).
_NOT_PROCESSING_TIME = re.compile(
    r"有效期|有效多久|能用多久|管多久|过期|(?:多久|多长时间|几天|多少天)[之以]?内|多久[换续]|"
    r"(?:领|发|享受|拿)(?:多久|多长时间|几个月|几年)"  # how long a benefit is paid: "失业金能领多久"
)


def asked_field(text: str) -> str | None:
    """The detail of a guide that a whole question asks about, besides the matter itself."""
    lowered = text.lower()
    for key, patterns in ASKED_FIELD_PATTERNS.items():
        if any(pattern in lowered for pattern in patterns):
            if key == "fee" and not _is_fee(lowered):
                continue
            if key == "time_limit" and _NOT_PROCESSING_TIME.search(lowered):
                continue
            return key
    return None


# Details only a service guide has: a question that asks one of them is not about a policy
# explainer or an FAQ that came near it.
GUIDE_DETAILS = ("materials", "location", "steps", "online", "time_limit", "fee")


def guide_detail(text: str) -> str | None:
    """A detail of a service guide that a whole question asks ("办居住证要带什么材料": the
    materials), whatever else it says; None when it asks none."""
    key = asked_field(text)
    if key in GUIDE_DETAILS:
        return key
    lowered = text.lower()
    for key in GUIDE_DETAILS:
        if key in ("fee", "time_limit"):
            continue  # asked_field has judged these, with their exceptions
        if any(pattern in lowered for pattern in FIELD_PATTERNS[key]
               if pattern not in _MATERIAL_NOUNS or key != "materials"):
            return key
    return None


# What an elliptical question asks ("一个月多少钱", "最多能贷多少", "每个月发多少"): with these
# and the filler taken away, nothing is left that names a matter of its own.
_AMOUNT_ASK = re.compile(r"多少钱?|几块钱|钱|标准|额度|最高|最多|一个月|每个月|每月|一年|每年|能领|能贷|能报|发|领|贷|补")
MAX_ELLIPTICAL_CHARS = 15


@functools.cache
def _matter_terms() -> frozenset[str]:
    """The domain's nouns (the tokenizer's user dictionary and synonym groups): 护照, 驾照,
    低保 ... name a matter; 外地人, 小孩, 租房 qualify one."""
    from retrieval.tokenize import SYNONYMS_PATH, USERDICT_PATH, read_lines, read_synonyms

    words = {line.split()[0].lower() for line in read_lines(USERDICT_PATH)}
    # words jieba keeps whole without the dictionary's help, which name matters too
    words |= {"结婚", "离婚", "退休", "生育", "出生", "入学", "上学", "残疾人", "育儿补贴"}
    # topics a citizen may send alone ("养老", "找工作"), each a family of services
    words |= {"养老", "就业", "求职", "找工作", "创业", "人才", "纳税", "交税", "报税", "失业",
              "生孩子", "出国", "新生儿", "开店", "买房",
              # matters of their own, not a detail of the guide on screen ("产假多少天" after the
              # maternity allowance guide is not its processing time)
              "产假", "陪产假", "育儿假"}
    for term, canonical in read_synonyms(SYNONYMS_PATH).items():
        words |= {term, canonical}
    return frozenset(word for word in words if len(word) >= 2)


# Where a citizen's household is registered qualifies a matter ("外地户口的" after the school
# enrolment menu, "外地户口能办吗" after the marriage guide); it is not the 户口 matter.
_REGISTER_PLACE = re.compile(r"(?:外地|外省|外市|外县|本地|本市|非本市|农村|城镇|集体|老家)(?:户口|户籍)")


def names_matter(text: str) -> bool:
    """Whether the text names one of the domain's matters ("那护照呢", "低保呢")."""
    lowered = _REGISTER_PLACE.sub("", text.lower())
    return any(term in lowered for term in _matter_terms())


# Words of the domain's lists that say what to do or which detail, not which matter: they
# are taken away from a question like the filler ("身份证怎么办理", "驾照的手续").
_ACTION_TERMS = frozenset({
    "办理", "申办", "手续", "流程", "材料", "资料", "费用", "收费", "价格", "多少钱",
    "查询", "查看", "查找",
})
# What a question about a matter may say besides naming it and still not say which of the
# matter's services it means ("我想办个身份证", "驾照怎么弄").
_GENERIC = re.compile(r"申请|申领|业务|事项|相关|方面|问题|咨询|了解|怎样|怎么样|怎么弄|如何|一下|张|本|证件")


# Field patterns and action words, longest first: "在哪里办" loses "哪里办", not "在哪".
_DETAIL_WORDS = sorted(
    {p for patterns in FIELD_PATTERNS.values() for p in patterns} | _ACTION_TERMS,
    key=len, reverse=True,
)


@functools.cache
def _synonym_groups() -> dict[str, tuple[str, ...]]:
    from retrieval.tokenize import SYNONYMS_PATH, read_synonyms

    groups: dict[str, list[str]] = {}
    mapping = read_synonyms(SYNONYMS_PATH)
    for term, canonical in mapping.items():
        groups.setdefault(canonical, []).append(term)
    return {term: tuple(groups[canonical]) for term, canonical in mapping.items()}


def _terms_in(lowered: str) -> list[str]:
    """The domain's matter terms a lowered text holds (action words such as 办理 are none)."""
    return [term for term in _matter_terms() if term in lowered and term not in _ACTION_TERMS]


def bare_matter(text: str) -> str | None:
    """The matter a question names and nothing else ("办身份证", "驾照怎么办", "结婚证要带什么
    材料", "公积金怎么提取" = 公积金提取): which of the matter's services it means is left open.
    None when the question says more ("身份证丢了怎么办", "小孩办身份证", "办临时身份证" names a
    matter of its own)."""
    if len(text) > MAX_ELLIPTICAL_CHARS + 5:
        return None
    lowered = text.lower()
    # the words around a compound may be filler: "公积金怎么提取" names 公积金提取
    return _bare_matter(lowered) or _bare_matter(_FILLER.sub("", lowered))


def _bare_matter(lowered: str) -> str | None:
    found = _terms_in(lowered)
    # the longest term only: "居民身份证" holds "身份证", "临时身份证" is a matter of its own
    found = [t for t in found if not any(t != other and t in other for other in found)]
    if len(found) != 1:
        return None
    rest = lowered.replace(found[0], "")
    for word in _DETAIL_WORDS:
        rest = rest.replace(word, "")
    rest = _FILLER.sub("", _GENERIC.sub("", rest))
    return found[0] if not rest else None


# Everyday words for a family of services, and the word the knowledge base names it with.
_TOPIC_ALIASES = {
    "生孩子": "生育", "上学": "入学", "找工作": "就业", "求职": "就业", "出国": "出入境",
    "户籍": "户口", "交税": "纳税", "报税": "纳税",
}


def short_topic(text: str) -> str | None:
    """What a short message says once filler is taken away, when that is a word or two
    ("转学", "办个签注", "幼儿园呢"): perhaps the name of a service, for the knowledge base
    to tell."""
    if len(text) > MAX_ELLIPTICAL_CHARS:
        return None
    rest = _FILLER.sub("", text.lower())
    return rest if 2 <= len(rest) <= 6 else None


def matter_synonyms(term: str) -> tuple[str, ...]:
    """The term and the words that mean the same ("驾照": 驾驶证, 机动车驾驶证 ...; "找工作":
    就业)."""
    lowered = term.lower()
    words = _synonym_groups().get(lowered, (lowered,))
    alias = _TOPIC_ALIASES.get(lowered)
    if alias is not None:
        words = tuple(dict.fromkeys((*words, *_synonym_groups().get(alias, (alias,)))))
    return words


# Words of a service's title that make it one variant of its matter, for a citizen in one
# situation: a lost card, a temporary one, a change or closing, a change of school. A question
# that names only the matter is not asking for them first.
_VARIANT = re.compile(r"补领|补发|补办|补换|遗失|丢失|损毁|被盗|临时|注销|变更|再次|解押|转学")


def is_variant_title(title: str) -> bool:
    """Whether a service title names a variant ("居民身份证丢失补领"); words in brackets
    only qualify it ("居民身份证有效期满换领（含损坏换领）" is not a variant)."""
    return _VARIANT.search(re.sub(r"（[^）]*）|\([^)]*\)", "", title)) is not None


def same_matter(title: str, other: str) -> bool:
    """Whether two titles name a matter in common ("临江低保标准调整解读" and "最低生活保障
    （低保）申请" both name 低保)."""
    a, b = title.lower(), other.lower()
    return any(term in a and term in b for term in _matter_terms())


# A question, not a remark ("哈哈", "好的"): only a question can be about the last answer.
_QUESTION = re.compile(r"[?？]|呢|吗|么|多少|多久|多长|几|怎|能不能|可不可以|可以|什么|啥|哪|要不要|是否")


def is_question(text: str) -> bool:
    return _QUESTION.search(text) is not None


# Words of a remark about the conversation itself ("你叫什么", "真的吗", "啥意思", "然后呢").
_CHAT = re.compile(r"你|您|人|叫|谁|真|为|意思|然后|好|行|对|咋|整|样|哦|嗯|哈|呵|啦|就|哪|不")


def about_last_answer(text: str) -> bool:
    """A short question that only qualifies the last answer's matter ("外地人能办吗", "加急
    呢") or asks an amount of it ("一个月多少钱"); not one that names a matter of its own
    ("那护照呢"), nor a remark ("真的吗", "你叫什么", "然后呢")."""
    if not is_question(text):
        return False
    rest = elliptical_rest(text)
    if rest is None or names_matter(rest):
        return False
    return bool(_CHAT.sub("", rest)) or _AMOUNT_ASK.search(text) is not None


# Words that say which case of a matter a question is about: "那换领呢" after the lost-card
# guide asks about the same matter's renewal.
_CASE_WORDS = re.compile(r"换领|换证|换发|补领|补办|补发|首次|第一次|初次|临时|注销|变更|挂失|续签|迁入|迁出")


def context_for(title: str, text: str) -> str:
    """What to search a short question with, given the title of the entry it follows: the
    title, or only its matter when the question names another case of it ("那换领呢" after
    "居民身份证丢失补领" is searched with "居民身份证", not with "丢失补领")."""
    cases = {m.group(0) for m in _CASE_WORDS.finditer(text)}
    if not cases or any(case in title for case in cases):
        return title
    terms = _terms_in(title.lower())
    return max(terms, key=len) if terms else title


_OLD_VERSION = re.compile(r"旧|以前|原来|之前|过去|当时|老政策|废止|失效|〔")


def pins_version(text: str, title: str) -> bool:
    """Whether a question asks for this version of a policy, not whatever is in force: it
    names a year of the title ("2021年的公积金贷款政策"), its document number, or an earlier
    time ("以前的落户政策")."""
    years = re.findall(r"(?:19|20)\d{2}", text)
    return any(year in title for year in years) or _OLD_VERSION.search(text) is not None


def elliptical_rest(text: str) -> str | None:
    """For a short question that names no matter of its own, what is left of it once the
    amount, detail and filler words are taken away: "" for "一个月多少钱", "外地人" for
    "外地人能领吗". None for a question with a matter of its own ("身份证丢了怎么补办")."""
    if len(text) > MAX_ELLIPTICAL_CHARS:
        return None
    # "外地户口能办吗" asks what "外地人能办吗" asks
    rest = _AMOUNT_ASK.sub("", _REGISTER_PLACE.sub(lambda m: m.group(0)[:-2], text.lower()))
    for patterns in FIELD_PATTERNS.values():
        for pattern in patterns:
            rest = rest.replace(pattern, "")
    rest = _FILLER.sub("", rest)
    return rest if len(rest) <= 3 else None


_ASK_TAIL = re.compile(r"(?:[的要需得还又是有]|什么|啥|哪些|咨询|办理)+$")


def matter_of(text: str) -> str | None:
    """The question without the detail it asks ("驾照换证的咨询电话是多少" -> "驾照换证"),
    or None when it asks no detail after naming its matter."""
    key = asked_field(text)
    if key is None:
        return None
    lowered = text.lower()
    at = min(lowered.find(p) for p in ASKED_FIELD_PATTERNS[key] if p in lowered)
    head = _ASK_TAIL.sub("", text[:at].rstrip("，,。？?！! "))
    return head if len(head) >= 2 else None


_ORDINALS = {
    **{c: n for n, c in enumerate("一二三四五六七八九", 1)}, "两": 2,
    **{str(n): n for n in range(1, 10)}, **{c: n for n, c in enumerate("①②③④⑤⑥⑦⑧⑨", 1)},
}
_CHOICE = re.compile(
    r"^(?:选|选择|要|看|办)?\s*(?:第)?\s*([一二两三四五六七八九1-9①-⑨])\s*(?:个|项|条|号|种)?\s*[。.!！]?$"
)


def parse_choice(text: str, titles: Sequence[str]) -> int | None:
    """Index (0-based) of the option a reply picks: "1", "第二个", "选3" or a title."""
    stripped = text.strip()
    match = _CHOICE.match(stripped)
    if match:
        number = _ORDINALS[match.group(1)]
        return number - 1 if number <= len(titles) else None
    for index, title in enumerate(titles):
        if stripped and (stripped == title or (len(stripped) >= 4 and stripped in title)):
            return index
    return None


_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d{9})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3}-?\d{7,8})(?!\d)")


def parse_phone(text: str) -> str | None:
    compact = text.replace(" ", "")
    for pattern in (_MOBILE, _LANDLINE):
        match = pattern.search(compact)
        if match:
            return match.group(1)
    return None


SKIP_WORDS = ("跳过", "不用", "不需要", "不方便", "不留", "没有", "算了", "无")
CANCEL_WORDS = ("取消", "不说了", "不投诉了", "退出")


def is_skip(text: str) -> bool:
    return any(word in text for word in SKIP_WORDS) and len(text) <= 10


def is_cancel(text: str) -> bool:
    return any(word in text for word in CANCEL_WORDS) and len(text) <= 10


_TICKET_NUMBER = re.compile(r"LJ\d{14}", re.IGNORECASE)
_TICKET_WORDS = re.compile(r"投诉|反映|工单|诉求|建议|留言|编号")
_PROGRESS_WORDS = re.compile(
    r"进度|怎么样了|处理了吗|处理得怎么样|处理到哪|处理好了吗|有结果|结果呢|结果怎么样|回复了吗|答复了吗|"
    r"有回复|有答复|有没有回复|有没有答复|查询|查一下|查查"
)
MAX_PROGRESS_CHARS = 40


def ticket_number(text: str) -> str | None:
    """A ticket number the citizen quotes ("LJ20261207000001")."""
    match = _TICKET_NUMBER.search(text)
    return match.group(0).upper() if match else None


def asks_ticket_progress(text: str) -> bool:
    """"我的投诉处理得怎么样了", "查一下我反映的问题有结果了吗": how the citizen's own
    complaint or suggestion is getting on, not a new one."""
    return (len(text) <= MAX_PROGRESS_CHARS and _TICKET_WORDS.search(text) is not None
            and _PROGRESS_WORDS.search(text) is not None)

