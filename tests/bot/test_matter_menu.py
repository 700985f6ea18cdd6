"""A question that names only a matter ("办身份证") gets the matter's services to choose
from, not whichever of them its words came nearest (it was the lost-card guide)."""

from __future__ import annotations

import pytest

from bot import texts
from bot.followup import bare_matter, detect_field, is_variant_title, parse_choice
from tests.bot.test_chat_api import new_sender, say

ID_CARD_MENU = [
    "guide-id-card-first-apply",
    "guide-id-card-renewal",
    "guide-id-card-reissue",
    "guide-id-card-temporary",
]


@pytest.mark.parametrize(("question", "matter"), [
    ("办身份证", "身份证"),
    ("身份证怎么办理", "身份证"),
    ("我想办个身份证", "身份证"),
    ("身份证在哪里办", "身份证"),
    ("办身份证要带什么材料", "身份证"),
    ("驾照怎么弄", "驾照"),
    ("结婚证怎么办", "结婚证"),
    ("我想了解一下公积金", "公积金"),
    ("公积金怎么提取", "公积金提取"),  # a compound of the dictionary, split by filler
    ("身份证丢了怎么办", None),  # the case is said: the lost card
    ("补办身份证", None),
    ("小孩办身份证", None),
    ("第一次办身份证", None),
    ("办临时身份证", "临时身份证"),  # a matter of its own, with one service
    ("户口本和身份证都丢了", None),
    ("你好", None),
])
def test_what_names_only_a_matter(question: str, matter: str | None) -> None:
    assert bare_matter(question) == matter


@pytest.mark.parametrize(("title", "variant"), [
    ("居民身份证丢失补领", True),
    ("临时居民身份证申领", True),
    ("营业执照变更登记（地址、法定代表人、经营范围等）", True),
    ("居民身份证首次申领", False),
    ("居民身份证有效期满换领（含损坏换领）", False),  # brackets only qualify it
    ("个体工商户设立登记（办营业执照）", False),
])
def test_variant_titles(title: str, variant: bool) -> None:
    assert is_variant_title(title) is variant


def test_menus_take_numbers_past_three() -> None:
    titles = ["a", "b", "c", "d", "e"]
    assert parse_choice("4", titles) == 3
    assert parse_choice("第五个", titles) == 4
    assert parse_choice("④", titles) == 3
    assert parse_choice("第六个", titles) is None


def test_a_matter_with_a_detail_word_is_a_new_question_not_a_follow_up() -> None:
    assert detect_field("驾照怎么弄") is None  # was read as "steps" of the entry on screen
    assert detect_field("怎么弄") == "steps"


async def test_a_bare_matter_offers_its_services(client):
    sender = new_sender()
    [menu] = await say(client, sender, "办身份证")
    assert menu["custom"]["entry_ids"] == ID_CARD_MENU
    assert menu["text"].startswith(texts.MENU.format(matter="身份证"))
    assert len(menu["buttons"]) == 4 and menu["buttons"][0]["title"] == "居民身份证首次申领"
    [picked] = await say(client, sender, "4")
    assert picked["custom"]["entry_ids"] == ["guide-id-card-temporary"]
    assert "申请材料" in picked["text"]


@pytest.mark.parametrize(("question", "expected"), [
    ("身份证怎么办", ID_CARD_MENU),
    ("结婚证怎么办", ["guide-marriage-registration", "guide-marriage-certificate-reissue"]),
    ("驾驶证怎么办", ["guide-driving-license-first-apply", "guide-driving-license-renewal",
                    "guide-driving-license-reissue"]),
    ("户口怎么办", ["guide-newborn-hukou", "guide-hukou-transfer-in",
                  "guide-hukou-book-reissue"]),
    ("公积金提取", ["guide-housing-fund-withdraw-rent", "guide-housing-fund-withdraw-purchase",
                  "guide-housing-fund-withdraw-retirement"]),
    # the best hit is an FAQ (多久能拿到房产证): not a service to pick, so not in the menu
    ("办房产证", ["guide-property-new-home-certificate", "guide-property-transfer-second-hand",
                "guide-property-certificate-reissue"]),
])
async def test_menus_lead_with_the_general_services(client, question, expected):
    [menu] = await say(client, new_sender(), question)
    assert menu["custom"]["entry_ids"] == expected


@pytest.mark.parametrize(("question", "expected"), [
    ("办护照", "guide-passport-apply"),  # its one general service; lost passports say so
    ("办临时身份证", "guide-id-card-temporary"),
    ("身份证丢了怎么办", "guide-id-card-reissue"),
    ("户口本丢了怎么办", "guide-hukou-book-reissue"),
    ("我想考驾照", "guide-driving-license-first-apply"),
])
async def test_a_matter_with_its_case_is_answered_directly(client, question, expected):
    [reply] = await say(client, new_sender(), question)
    assert reply["custom"]["entry_ids"] == [expected]
    assert "申请材料" in reply["text"]


@pytest.mark.parametrize(("reply", "expected"), [
    ("丢了", "guide-id-card-reissue"),
    ("第一次办", "guide-id-card-first-apply"),
    ("给小孩办的", "guide-id-card-first-apply"),
])
async def test_describing_the_case_picks_the_service(client, reply, expected):
    sender = new_sender()
    await say(client, sender, "办身份证")
    [answer] = await say(client, sender, reply)
    assert answer["custom"]["entry_ids"] == [expected]


async def test_a_case_that_fits_two_services_narrows_the_menu(client):
    sender = new_sender()
    await say(client, sender, "办身份证")
    [narrowed] = await say(client, sender, "坏了")  # lost-card guide, or renewal of a damaged one
    assert sorted(narrowed["custom"]["entry_ids"]) == ["guide-id-card-reissue",
                                                       "guide-id-card-renewal"]
    [answer] = await say(client, sender, "2")
    assert answer["custom"]["entry_ids"] == [narrowed["custom"]["entry_ids"][1]]


async def test_a_detail_asked_before_picking_waits_for_the_pick(client):
    sender = new_sender()
    await say(client, sender, "办身份证")
    [again] = await say(client, sender, "要多少钱")
    assert again["text"].startswith(texts.MENU_FIRST.format(detail="收费"))
    assert again["custom"]["entry_ids"] == ID_CARD_MENU
    [answer] = await say(client, sender, "3")
    assert answer["custom"]["entry_ids"] == ["guide-id-card-reissue"]
    assert answer["text"].splitlines()[1].startswith("收费标准")  # leads with the fee


async def test_a_detail_in_the_first_question_leads_the_picked_answer(client):
    sender = new_sender()
    await say(client, sender, "办身份证要带什么材料")
    [answer] = await say(client, sender, "第一次办")
    assert answer["custom"]["entry_ids"] == ["guide-id-card-first-apply"]
    assert answer["text"].splitlines()[2] == "申请材料："  # materials lead every guide answer


@pytest.mark.parametrize(("reply", "intent", "not_entry"), [
    ("谢谢", "thanks", None),
    ("转人工", "request_human", None),
    ("外地人能办吗", None, "guide-id-card-temporary"),  # the FAQ on other provinces' cards
])
async def test_other_replies_to_a_menu_take_their_own_way(client, reply, intent, not_entry):
    sender = new_sender()
    await say(client, sender, "办身份证")
    [answer] = await say(client, sender, reply)
    if intent:
        assert answer["custom"]["intent"] == intent
    if not_entry:
        assert answer["custom"]["entry_ids"] == ["faq-id-card-offsite"]


async def test_a_new_matter_after_a_menu_is_a_new_question(client):
    sender = new_sender()
    await say(client, sender, "办身份证")
    [answer] = await say(client, sender, "户口本丢了怎么办")
    assert answer["custom"]["entry_ids"] == ["guide-hukou-book-reissue"]


async def test_a_compound_matter_offers_its_services(client):
    """"公积金怎么提取" offered the FAQ on how often one may withdraw and the rent guide only;
    the purchase and retirement withdrawals were missing. "租房" then picks the rent guide."""
    sender = new_sender()
    [menu] = await say(client, sender, "公积金怎么提取")
    assert {"guide-housing-fund-withdraw-rent", "guide-housing-fund-withdraw-purchase",
            "guide-housing-fund-withdraw-retirement"} <= set(menu["custom"]["entry_ids"])
    [answer] = await say(client, sender, "租房")
    assert answer["custom"]["entry_ids"] == ["guide-housing-fund-withdraw-rent"], answer["text"]



async def test_a_domain_menu_keeps_to_its_domain(client):
    """公租房 is housing aid, not property registration: it was in 不动产登记's menu through the
    domain tag it carried."""
    [menu] = await say(client, new_sender(), "不动产登记怎么办")
    offered = menu["custom"]["entry_ids"]
    assert "guide-property-transfer-second-hand" in offered
    assert "guide-property-new-home-certificate" in offered
    assert "guide-public-rental-housing" not in offered


ENROLMENT = {"guide-primary-school-enrollment", "guide-junior-high-enrollment",
             "guide-migrant-children-enrollment", "guide-kindergarten-enrollment"}


@pytest.mark.parametrize(("topic", "offered"), [
    # each read as small talk by the intent model, and answered "聊天不太在行"
    ("入学", ENROLMENT),
    ("上学", ENROLMENT),  # the everyday word for 入学
    ("生孩子", {"guide-birth-registration", "guide-maternity-allowance"}),
    ("找工作", {"guide-unemployment-registration"}),
    ("创业", {"guide-startup-guaranteed-loan"}),
    ("出国", {"guide-passport-apply", "guide-hk-macau-permit"}),
    # found nothing, or one FAQ ("交税": 个体户交哪些税)
    ("养老", {"guide-retirement-pension-claim", "guide-home-care-service-subsidy"}),
    ("交税", {"guide-iit-annual-settlement", "guide-deed-tax-payment"}),
])
async def test_a_topic_sent_alone_offers_its_services(client, topic, offered):
    [menu] = await say(client, new_sender(), topic)
    assert menu["text"].startswith(texts.MENU.format(matter=topic)), menu["text"]
    assert offered <= set(menu["custom"]["entry_ids"])


async def test_a_matter_sent_alone_is_never_small_talk(client):
    [answer] = await say(client, new_sender(), "结婚")  # chitchat at 0.88 by itself
    assert answer["custom"]["entry_ids"][0] == "guide-marriage-registration"
    assert texts.CHITCHAT not in answer["text"]


@pytest.mark.parametrize("remark", ["哈哈", "嗯嗯", "你是机器人吗", "结婚了没"])
async def test_small_talk_that_names_no_matter_alone_stays_small_talk(client, remark):
    [answer] = await say(client, new_sender(), remark)
    assert answer["custom"]["entry_ids"] == [], answer["text"]


async def test_a_topic_with_one_service_offers_it_where_nothing_was_found(client):
    sender = new_sender()
    [offer] = await say(client, sender, "开店")  # out of scope at 0.84 by itself
    assert offer["custom"]["entry_ids"] == ["guide-individual-business-registration"]
    [answer] = await say(client, sender, "1")
    assert answer["custom"]["entry_ids"] == ["guide-individual-business-registration"]
    assert "申请材料" in answer["text"]


async def test_where_the_household_is_registered_describes_the_case(client):
    """"外地户口的" after the enrolment menu picks the migrant children's enrolment; it named the
    户口 matter and was searched alone (the FAQ on ID cards for other provinces)."""
    sender = new_sender()
    await say(client, sender, "入学")
    [answer] = await say(client, sender, "外地户口的")
    assert answer["custom"]["entry_ids"] == ["guide-migrant-children-enrollment"]


async def test_a_household_register_question_follows_the_last_answer(client):
    sender = new_sender()
    await say(client, sender, "结婚登记怎么办")
    [answer] = await say(client, sender, "外地户口能办吗")  # as "外地人能办吗"
    assert answer["custom"]["entry_ids"] == ["guide-marriage-registration"]
    assert "办理对象和条件" in answer["text"]


@pytest.mark.parametrize(("word", "first"), [
    # no term of the dictionary, but a service's title or keyword: small talk or out of scope
    # by themselves, or nothing found
    ("转学", "guide-student-transfer"),
    ("幼儿园", "guide-kindergarten-enrollment"),
    ("选号", "guide-new-vehicle-registration"),
    ("继承", "guide-property-inheritance"),
])
async def test_a_word_the_services_are_named_with_reaches_them(client, word, first):
    [answer] = await say(client, new_sender(), word)
    assert answer["custom"]["entry_ids"][0] == first, answer["text"]


async def test_a_word_in_several_service_titles_offers_them(client):
    [menu] = await say(client, new_sender(), "签注")
    assert menu["text"].startswith(texts.MENU.format(matter="签注"))
    assert {"guide-hk-macau-endorsement-renew", "guide-taiwan-permit"} <= set(
        menu["custom"]["entry_ids"])


async def test_where_nothing_is_found_the_services_named_so_are_suggested(client):
    [offer] = await say(client, new_sender(), "新房")
    assert set(offer["custom"]["entry_ids"]) == {"guide-property-new-home-certificate",
                                                 "guide-housing-fund-withdraw-purchase"}
