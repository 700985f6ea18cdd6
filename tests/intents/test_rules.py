from __future__ import annotations

import pytest

from intents.rules import AskKindRule, KeywordRules


@pytest.mark.parametrize(
    "text",
    ["转人工", "转人工！", "麻烦转一下人工", "人工客服", "我要找人工", "人工", "客服", "找客服",
     "真人客服在吗", "接人工服务", "有人工吗", "给我转接工作人员", "ＺＨＵＡＮ ＲＥＮＧＯＮＧ"],
)
def test_unambiguous_triggers_ask_for_a_human_with_full_confidence(text: str) -> None:
    prediction = KeywordRules().match(text)
    assert prediction is not None
    assert (prediction.name, prediction.confidence, prediction.source) == (
        "request_human", 1.0, "rule")


@pytest.mark.parametrize(
    "text",
    ["不用转人工了", "我不想找客服", "上次转人工也没用", "人工智能是什么", "人工湖什么时候建好",
     "客服电话是多少", "请打开人人网", "身份证丢了怎么补办", ""],
)
def test_other_messages_are_left_to_the_model(text: str) -> None:
    assert KeywordRules().match(text) is None


def test_long_letters_mentioning_a_human_are_left_to_the_model() -> None:
    letter = ("尊敬的领导您好，上次我打电话转人工，客服说会反映给物业，"
              "可是小区的电梯到现在还没有修好。")
    assert KeywordRules().match(letter) is None
    assert KeywordRules(max_chars=200).match(letter) is not None


def test_rules_are_configurable() -> None:
    rules = KeywordRules({"goodbye": (r"^拜拜$",)})
    found = rules.match("拜拜")
    assert found is not None and found.name == "goodbye"
    assert rules.match("转人工") is None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("营业执照变更需要带哪些材料", "ask_service_guide"),
        ("居住证在哪里办", "ask_service_guide"),
        ("我符合落户条件吗，怎么办理", "ask_service_guide"),  # the procedure wins
        ("驾驶证丢了怎么办", "ask_service_guide"),
        ("哪些人可以申请公租房", "ask_policy"),
        ("低保标准是多少", "ask_policy"),
        ("违章停车怎么处罚", "ask_policy"),
        ("我们这片有没有改造计划", "ask_policy"),
        ("拆迁房屋如何补偿", "ask_policy"),  # 补偿 is compensation, not 补办
        ("想提前做好准备，请问改造什么时候开始", None),  # not "what to prepare"
        ("公积金提取", None),
    ],
)
def test_question_kind_cues(text: str, kind: str | None) -> None:
    assert AskKindRule().choose(text) == kind
