"""Keyword rules for triggers that need no model: "转人工" always means a human."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from intents.classifier import IntentPrediction, IntentScore
from intents.text import normalize_text

DEFAULT_TRIGGERS: Mapping[str, Sequence[str]] = {
    "request_human": (
        r"转(一下|个)?人工", r"人工客服", r"人工服务", r"人工坐席", r"真人客服",
        r"(找|要|接|叫|呼叫|转接|联系)(个)?(人工|真人|客服)", r"转接(给)?工作人员",
        r"有(没有)?人工(客服)?吗", r"^(人工|客服)+$",
        r"^zhuan ?ren ?gong$",
    ),
    # Opening a complaint or suggestion, with nothing else said yet.
    "complaint_suggestion": (
        r"^(我|我们)?(要|想|想要|需要)?(投诉|举报)(一下)?[!！。.]*$",
        r"^(我|我们)?(要|想)(反映|反应)(个|一个|一下)?(问题|情况)?[!！。.]*$",
        r"^(我|我们)?(要|想)?(提|有)(个|一个|一些|几个|点)?(建议|意见)[!！。.]*$",
    ),
}
# "不用转人工" and "上次转人工也没用" must not trigger a hand-off.
_NEGATION = re.compile(r"(不要|不用|不需要|别|无需|没用|不想|上次|之前)(再)?(帮我)?(转|找|要|接)?$")


@dataclass(frozen=True)
class KeywordRule:
    intent: str
    pattern: re.Pattern[str]


class KeywordRules:
    """Short messages matching a trigger get its intent at confidence 1.0."""

    def __init__(
        self, triggers: Mapping[str, Sequence[str]] = DEFAULT_TRIGGERS, max_chars: int = 30
    ) -> None:
        self._rules = tuple(
            KeywordRule(intent, re.compile(pattern))
            for intent, patterns in triggers.items()
            for pattern in patterns
        )
        self._max_chars = max_chars

    def match(self, text: str) -> IntentPrediction | None:
        normalized = normalize_text(text)
        if len(normalized) > self._max_chars:
            return None  # a long letter that mentions 人工 is about something else
        for rule in self._rules:
            found = rule.pattern.search(normalized)
            if found and not _NEGATION.search(normalized[: found.start()]):
                score = IntentScore(rule.intent, 1.0)
                return IntentPrediction(score, (score,), source="rule")
        return None
