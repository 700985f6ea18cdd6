"""A small knowledge base of our own hand-written FAQ entries, and questions about them.

Written for these tests (fictional 临江市); nothing here comes from the evaluation data.
"""

from __future__ import annotations

import datetime as dt

from knowledge_base.models import Entry, EntryKind, EntryStatus, PolicyDetails, PolicyValidity

FAQ_ROWS: list[tuple[str, str, str, list[str]]] = [
    ("hf-withdraw", "住房公积金提取", ("购房、租房、退休或离开本市的职工可以申请提取住房公积金，"
     "可在临江公积金APP线上办理，也可到公积金中心窗口办理。"), ["公积金怎么取出来", "租房能提公积金吗"]),
    ("hf-loan", "住房公积金贷款申请条件", ("连续足额缴存公积金满12个月、在本市购买自住住房的职工可以申请公积金贷款，"
     "最高额度120万元。"), ["公积金贷款要满足什么条件", "用公积金买房能贷多少"]),
    ("residence-permit", "居住证办理", ("在本市居住满半年、有合法稳定就业或住所的非本市户籍人员，"
     "可到居住地派出所申领居住证。"), ["外地人怎么办居住证", "居住证在哪里办"]),
    ("id-reissue", "居民身份证丢失补领", ("身份证丢失后可到任一派出所户籍窗口申请补领，工本费40元，"
     "一般15个工作日内制发。"), ["身份证丢了怎么办", "补办身份证要多久"]),
    ("hukou-move", "户口迁入本市", ("符合人才引进、投靠亲属或购房落户条件的，可申请将户口迁入本市，"
     "需提交户口簿、身份证和相关证明。"), ["怎么把户口迁过来", "落户需要什么条件"]),
    ("ss-card", "社会保障卡补换", ("社保卡丢失应先挂失，再到社保卡服务网点或通过APP申请补卡，"
     "补卡免收工本费。"), ["社保卡丢了怎么补", "社保卡坏了能换吗"]),
    ("med-remote", "异地就医备案", ("长期在外地居住或转诊到外地就医的参保人，需先办理异地就医备案，"
     "备案后可在外地定点医院直接结算。"), ["在外地看病怎么报销", "医保异地备案怎么弄"]),
    ("unemploy", "失业保险金申领", ("非因本人意愿中断就业、缴纳失业保险满一年并已办理失业登记的人员，"
     "可申领失业保险金。"), ["失业金怎么领", "被辞退了能领失业金吗"]),
    ("biz-license", "企业营业执照办理", ("设立公司可通过一网通办平台在线申请营业执照，"
     "材料齐全的一个工作日内办结，不收费。"), ["开公司怎么办执照", "注册公司要多久"]),
    ("self-employed", "个体工商户登记", "个人从事小规模经营的，可持身份证和经营场所证明申请个体工商户营业执照。",
     ["开个小店要办什么证", "个体户怎么注册"]),
    ("dl-renew", "驾驶证有效期满换证", ("驾驶证有效期满前90天内，可通过交管12123或车管所申请换证，"
     "需提交身体条件证明。"), ["驾照到期了怎么换", "驾驶证过期了去哪换新的"]),
    ("dl-lost", "驾驶证遗失补领", "驾驶证遗失的，可通过交管12123在线申请补领，补证期间不得驾驶机动车。",
     ["驾照丢了怎么补", "驾驶证找不到了怎么办"]),
    ("car-inspect", "机动车定期检验", "私家车6年以内免上线检验，只需申领检验标志；超过6年的每年检验一次。",
     ["私家车多久年检一次", "新车要年检吗"]),
    ("car-lottery", "小客车指标摇号申请", ("本市户籍或持居住证满五年的人员，名下无小客车的，"
     "可在每年申报期内申请小客车指标摇号。"), ["怎么申请摇号买车", "外地人能参加摇号吗"]),
    ("property-reg", "不动产登记办理", "买卖房屋后双方应到不动产登记中心申请转移登记，领取不动产权证书。",
     ["买了二手房怎么过户", "房产证怎么办理"]),
    ("marriage", "结婚登记", "男女双方应共同到婚姻登记处办理结婚登记，携带身份证和户口簿。",
     ["领结婚证要带什么", "结婚证在哪里领"]),
    ("birth-cert", "出生医学证明办理", ("新生儿出生后由助产医院签发出生医学证明，"
     "遗失的可向原签发医院申请补发。"), ["孩子出生证明怎么办", "出生证丢了怎么补"]),
    ("maternity", "生育津贴申领", "参加生育保险的职工生育后，由用人单位在规定期限内为其申领生育津贴。",
     ["生孩子的补贴怎么领", "产假工资谁发"]),
    ("pension", "城乡居民养老保险参保", ("年满16周岁、未参加职工养老保险的本市居民可参加城乡居民养老保险，"
     "按年缴费。"), ["没工作怎么交养老保险", "农村养老保险怎么交"]),
    ("subsistence", "最低生活保障申请", "家庭人均收入低于本市低保标准且财产符合规定的，可向街道申请低保。",
     ["怎么申请低保", "家里困难可以申请什么补助"]),
    ("garbage", "生活垃圾分类投放", "生活垃圾分为厨余垃圾、可回收物、有害垃圾和其他垃圾，应分类投放到对应容器。",
     ["垃圾怎么分类", "电池属于什么垃圾"]),
    ("noise", "夜间施工噪声投诉", "夜间22时至次日6时违规施工产生噪声的，可拨打12345热线投诉，城管执法部门依法查处。",
     ["晚上工地太吵怎么投诉", "半夜施工扰民找谁"]),
    ("passport", "普通护照申请", "中国公民可到出入境管理窗口申请普通护照，一般7个工作日内出证。",
     ["出国要办护照去哪办", "办护照要多长时间"]),
    ("hk-macau", "往来港澳通行证签注", "持往来港澳通行证的居民，可在自助签注机或出入境窗口办理赴港澳签注。",
     ["去香港旅游怎么签注", "港澳通行证签注在哪办"]),
]

# (question, expected entry id): colloquial questions that are not the stored similar questions.
QUALITY_QUERIES: list[tuple[str, str]] = [
    ("请问租房子可以把公积金取出来用吗", "hf-withdraw"),
    ("公积金买房最多可以贷多少钱", "hf-loan"),
    ("我是外地户口，在这边上班，要怎么申请居住证", "residence-permit"),
    ("身份证弄丢了，去哪补办", "id-reissue"),
    ("社保卡丢了在哪补办", "ss-card"),
    ("在外地住院医保可以直接结算吗", "med-remote"),
    ("公司把我裁了，失业金怎么申请", "unemploy"),
    ("新开一家公司，营业执照怎么办理", "biz-license"),
    ("驾照快到期了需要去哪里换证", "dl-renew"),
    ("驾驶执照丢了能在网上补办吗", "dl-lost"),
    ("私家车买了五年还要去年检吗", "car-inspect"),
    ("想参加小客车摇号需要什么条件", "car-lottery"),
    ("买的二手房怎么办理过户手续", "property-reg"),
    ("领结婚证需要带哪些证件", "marriage"),
    ("宝宝的出生证明丢了怎么办", "birth-cert"),
    ("女职工生孩子的生育津贴怎么领取", "maternity"),
    ("农民怎么交养老保险", "pension"),
    ("家里收入很低，能申请低保吗", "subsistence"),
    ("用完的废电池应该扔到哪个垃圾桶", "garbage"),
    ("隔壁工地半夜还在施工很吵，怎么投诉", "noise"),
    ("第一次出国，护照在哪里办", "passport"),
    ("去澳门玩之前港澳通行证要办什么", "hk-macau"),
]

UNRELATED_QUERIES = ["今天天气怎么样", "给我讲个笑话吧", "买彩票怎么才能中奖", "推荐一部好看的电影",
                     "红烧肉怎么做才好吃", "你是男的还是女的"]


def faq_entries() -> list[Entry]:
    return [Entry(id=i, kind=EntryKind.FAQ, title=t, text=x, questions=q, department="临江市政务服务中心")
            for i, t, x, q in FAQ_ROWS]


def policy_pair(today: dt.date) -> list[Entry]:
    """The same subsidy policy twice: an expired 2023 version and the one in force."""
    text = "在本市首次创业的高校毕业生，可申请一次性创业补贴1万元，须在营业执照取得后一年内申请。"
    old = PolicyDetails(validity=PolicyValidity.IN_FORCE, expires_on=today - dt.timedelta(days=30),
                        replaced_by="policy-startup-2025")
    new = PolicyDetails(validity=PolicyValidity.IN_FORCE, effective_on=today - dt.timedelta(days=29))
    return [
        Entry(id="policy-startup-2023", kind=EntryKind.POLICY, title="高校毕业生一次性创业补贴政策",
              text=text, policy=old),
        Entry(id="policy-startup-2025", kind=EntryKind.POLICY, title="高校毕业生一次性创业补贴政策",
              text=text, policy=new),
    ]


def draft_entry() -> Entry:
    return Entry(id="draft-only", title="公积金提取草稿", text="尚未发布的草稿内容", status=EntryStatus.DRAFT)
