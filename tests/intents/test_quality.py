"""The production model (nlu.yml + real e5) on our held-out demo set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from intents.evaluate import evaluate_intents, format_report
from intents.model import NativeIntentClassifier

DEMO_PATH = Path(__file__).resolve().parents[2] / "evalsets" / "demo_intents.jsonl"


def test_demo_set_routes(trained_classifier: NativeIntentClassifier) -> None:
    rows = [json.loads(line) for line in DEMO_PATH.read_text(encoding="utf-8").splitlines()]
    result = evaluate_intents(trained_classifier, rows)
    print(format_report(result))
    assert result["route_accuracy"] >= 0.9, format_report(result)
    assert result["macro_f1"] >= 0.85, format_report(result)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("社保卡丢了去哪里补办，要带什么", "ask_service_guide"),
        ("医保门诊报销比例是多少", "ask_policy"),
        ("楼下工地半夜施工太吵了，请相关部门管一管", "complaint_suggestion"),
        ("帮我订一张明天去上海的机票", "out_of_scope"),
        ("你是机器人吗", "chitchat"),
        ("好的，谢谢", "thanks"),
        ("转人工", "request_human"),
    ],
)
def test_clear_messages(trained_classifier: NativeIntentClassifier, text: str, intent: str) -> None:
    assert trained_classifier.parse(text).name == intent


def test_a_government_question_ending_in_thanks_is_not_thanks(
    trained_classifier: NativeIntentClassifier,
) -> None:
    prediction = trained_classifier.parse("请问公积金怎么提取到银行卡，谢谢")
    assert prediction.name == "ask_service_guide"
