"""Keyword rules for triggers that need no model: "转人工" always means a human. And the rule
that tells the two question intents apart once the model has said a message is a question."""

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


# A service guide (办事指南) answers how to get something done: materials, steps, where, online.
# A policy explainer (政策解读) answers what the rules are: who qualifies, which cases, amounts,
# penalties, plans. A question that asks for the procedure wants the guide, even when it also
# asks whether it qualifies (a guide lists its 受理条件 too).
ASK_GUIDE_CUES = (
    r"手续|流程|步骤|材料|资料|证件|证明|单据|要带|带什么|代办|预约"
    r"|(需要|要|得|应该|应当)(准备|办(哪些|什么))|准备(什么|哪些|啥)"
    r"|怎么办|怎么弄|怎么处理|怎么操作|如何操作"
    r"|(如何|怎么|怎样)(办理|申请|申报|领取?|补(?!偿|贴|助)|换|查(?!处))"
    r"|去哪|到哪里|到哪个|在哪|哪里(办|申请|开)|哪个窗口|(网上|手机上).{0,4}办"
)
ASK_POLICY_CUES = (
    r"哪些|条件|规定|政策|标准|资格|是否|能否|可否|能不能|可不可以|可以.{0,12}吗"
    r"|处罚|罚款|计划|规划|补偿|补贴|定义|什么是|区别|有效期|多少"
)


class AskKindRule:
    """Guide or policy for a message the model already called a question; None when the
    message has neither kind of cue and the model should decide."""

    def __init__(self, guide: str = ASK_GUIDE_CUES, policy: str = ASK_POLICY_CUES) -> None:
        self._guide = re.compile(guide)
        self._policy = re.compile(policy)

    def choose(self, text: str) -> str | None:
        normalized = normalize_text(text)
        if self._guide.search(normalized):
            return "ask_service_guide"
        if self._policy.search(normalized):
            return "ask_policy"
        return None
