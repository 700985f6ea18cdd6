"""Route a message: the intent model says what kind of message it is, retrieval says
whether the knowledge base can answer it, and together they choose an action."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from bot import texts
from bot.followup import (
    MAX_ELLIPTICAL_CHARS,
    about_last_answer,
    bare_matter,
    context_for,
    is_question,
    is_variant_title,
    matter_of,
    matter_synonyms,
    names_matter,
    short_topic,
)

_T = TypeVar("_T")
ASK_INTENTS = frozenset({"ask_service_guide", "ask_policy"})
CANNED = {
    "greet": texts.GREET,
    "thanks": texts.THANKS,
    "goodbye": texts.GOODBYE,
    "affirm": texts.AFFIRM,
    "deny": texts.DENY,
    "chitchat": texts.CHITCHAT,
    "out_of_scope": texts.OUT_OF_SCOPE,
}
# Labels that only say the message is about nothing the bot covers: a question about the
# last answer's matter ("加急呢") is searched with that matter instead.
UNSURE_INTENTS = frozenset({"chitchat", "out_of_scope"})
# Below this confidence a small-talk label does not stop a knowledge-base answer
# that retrieval is confident about ("你好，社保卡丢了咋办").
SMALL_TALK_FIRM = 0.75
# Below this confidence a complaint label on a question the knowledge base answers confidently
# does not start a complaint.
COMPLAINT_FIRM = 0.6


class Hit(Protocol):
    entry_id: str
    title: str
    score: float


class SearchOutcome(Protocol):
    @property
    def hits(self) -> Sequence[Hit]: ...

    @property
    def confident(self) -> bool: ...


class Retriever(Protocol):
    def search(self, query: str, k: int = 5) -> SearchOutcome: ...

    def guides_about(self, terms: Sequence[str]) -> Sequence[tuple[str, str]]: ...


class Prediction(Protocol):
    def to_rasa(self, text: str) -> dict[str, Any]: ...


class Classifier(Protocol):
    def parse(self, text: str) -> Prediction: ...


# A matter's services offered at most, when a question names only the matter.
MAX_MENU = 6
_FIRST_TIME = ("首次", "设立", "新办", "初次")
# How far ahead of the other offered services a reply to a menu must put one to pick it.
PICK_MARGIN = 0.15


@dataclass(frozen=True)
class Route:
    action: str  # answer / clarify / menu / not_found / ticket / handoff / canned
    intent: str
    confidence: float
    entry_ids: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()
    canned: str | None = None
    matter: str | None = None  # menu: the matter the citizen named, in their words
    kinds: tuple[str, ...] = ()  # each entry's kind (guide / policy / faq), where known


class Router:
    def __init__(
        self,
        classifier: Classifier,
        retriever: Retriever,
        clarify_margin: float = 0.06,
        suggest_floor: float = 0.3,
        max_choices: int = 3,
    ) -> None:
        self._classifier = classifier
        self._retriever = retriever
        self._margin = clarify_margin
        self._floor = suggest_floor
        self._max_choices = max_choices

    def route(self, text: str, context: str | None = None) -> Route:
        """`context`: the title of the entry the conversation last answered, for a short
        question that names no matter of its own ("一个月多少钱")."""
        intent, confidence = self._intent(text)
        if intent == "request_human":
            return Route("handoff", intent, confidence)
        if intent == "complaint_suggestion":
            if confidence < COMPLAINT_FIRM and is_question(text):
                # "周末办事大厅开门吗" read as a complaint at 0.45 and started one: a question the
                # knowledge base answers is answered
                route = self._search(text, intent, confidence, None)
                if route.action in ("answer", "clarify"):
                    return route
            return Route("ticket", intent, confidence)
        if context and not about_last_answer(text):
            context = None
        # "加急呢" after the passport guide reads as chit-chat by itself, and so may "那离婚呢"
        # or "那护照呢", short as small talk is: a short question that names a matter, or
        # asks about the last one, is searched (and answered only if retrieval is confident)
        searched = (intent in UNSURE_INTENTS and len(text) <= MAX_ELLIPTICAL_CHARS
                    and is_question(text) and (context is not None or names_matter(text)))
        # A message that only names a matter ("结婚", "入学", "养老") is how many citizens
        # start on WeChat; it reads as small talk to the model, but small talk is no answer
        # to it: it gets the matter's services, or what the knowledge base has nearest.
        # (the matter is looked up once, for this and for the menu below)
        matter = self._matter(text) if context is None or intent in UNSURE_INTENTS else None
        matter_only = intent in UNSURE_INTENTS and matter is not None
        tiny = len(text) <= 4 and not names_matter(text)  # "嗯嗯", "哈哈"
        if (intent in CANNED and not searched and not matter_only
                and (confidence >= SMALL_TALK_FIRM or tiny)):
            return Route("canned", intent, confidence, canned=CANNED[intent])
        route = self._search(text, intent, confidence, context, small_talk=not matter_only)
        if context is None and route.action in ("answer", "clarify", "not_found"):
            return self._menu(matter, route) or route
        return route

    def lead(self, task: Callable[[], _T]) -> Future[_T] | None:
        """`task` on the embedding model's lead thread when the model is idle (retrieval's
        embedder decides; None where it cannot or is busy)."""
        lead = getattr(getattr(self._retriever, "embedder", None), "lead", None)
        return lead(task) if lead is not None else None

    def _intent(self, text: str) -> tuple[str, float]:
        parsed = self._classifier.parse(text).to_rasa(text)
        return str(parsed["intent"]["name"]), float(parsed["intent"]["confidence"])

    def _menu(self, matter: str | None, route: Route) -> Route | None:
        """The matter's services to choose from, for a question that names only `matter`
        with several ("办身份证": first card, renewal, lost card, temporary card), instead of
        whichever of them the words came nearest. None where the matter has one service, or
        where the best hit is its only general one ("办护照": the first passport, not the
        lost-passport guide); a matter's services are still offered as suggestions where
        retrieval found nothing to offer."""
        if matter is None:
            return None
        words = matter_synonyms(matter)
        family = list(self._retriever.guides_about(words))
        titled = [title for _, title in family if any(w in title.lower() for w in words)]
        if len(family) < 2 or (len(titled) == 1 and not is_variant_title(titled[0])):
            # one service is named for the matter ("居住证申领"); the others only concern it
            return self._suggest(route, family)
        general = [entry_id for entry_id, title in family if not is_variant_title(title)]
        top = route.entry_ids[0] if route.entry_ids else None
        if route.action == "answer" and general == [top]:
            return None
        rank = {entry_id: n for n, entry_id in enumerate(route.entry_ids)}
        family.sort(key=lambda item: (
            is_variant_title(item[1]), rank.get(item[0], len(rank)),
            not any(word in item[1] for word in _FIRST_TIME), item[1],
        ))
        top_kind = route.kinds[0] if route.kinds else "guide"
        if (route.action != "not_found" and top is not None and top not in dict(family)
                and top_kind == "guide"):
            # the best hit is about the matter without naming it ("营业执照": 公司设立登记);
            # an FAQ is not a service to pick ("办房产证": 买了新房多久能拿到房产证？)
            family.insert(0, (top, route.titles[0]))
        family = family[:MAX_MENU]
        return Route(
            "menu", route.intent, route.confidence,
            entry_ids=tuple(i for i, _ in family), titles=tuple(t for _, t in family),
            matter=matter,
        )

    def _suggest(self, route: Route, family: Sequence[tuple[str, str]]) -> Route | None:
        """Where retrieval offers nothing, the matter's services are still something to offer
        ("开店": 个体工商户; "新房": the new-home certificate, the fund withdrawal)."""
        if route.action != "not_found" or route.entry_ids or not family:
            return None
        offered = family[: self._max_choices]
        return replace(route, entry_ids=tuple(i for i, _ in offered),
                       titles=tuple(t for _, t in offered), kinds=("guide",) * len(offered))

    def _matter(self, text: str) -> str | None:
        """The matter a message names and nothing else: a term of the domain's dictionary
        ("办身份证", "结婚"), or a word or two that a service's title holds or that one of
        them has as a keyword ("转学", "签注", "幼儿园", "选号"), as editors write them."""
        matter = bare_matter(text)
        if matter is None and (topic := short_topic(text)) is not None:
            matter = topic if self._retriever.guides_about([topic]) else None
        return matter

    def within_menu(self, matter: str, text: str, options: Sequence[str]) -> Route | None:
        """A reply to a matter's menu that gives no number: one that describes the citizen's
        case ("丢了", "第一次办" after "办身份证") answers the service it describes, or offers
        again the few it may mean ("坏了": the lost card, or the renewal that covers damaged
        cards); a question about the matter that no offered service answers best ("外地人能办
        吗": an FAQ) is answered as a question about that matter. None for anything else: small
        talk, a request for a person, or a question that names a matter of its own ("户口本丢
        了怎么办"), which take the usual way."""
        others = text.lower()
        for word in matter_synonyms(matter):
            others = others.replace(word, "")
        if names_matter(others):
            return None
        intent, confidence = self._intent(text)
        if intent not in ASK_INTENTS and intent not in UNSURE_INTENTS:
            return None
        result = self._retriever.search(f"{matter}{text}", k=5)
        hits = list(result.hits)
        if not result.confident or not hits:
            return None
        if hits[0].entry_id not in options:
            return self._decide(result, intent, confidence)
        close = [h for h in hits if h.entry_id in options and hits[0].score - h.score < PICK_MARGIN]
        if len(close) == 1:
            return self._with_hits("answer", intent, confidence, close)
        route = self._with_hits("menu", intent, confidence, close[: self._max_choices])
        return replace(route, matter=matter)

    def _search(self, text: str, intent: str, confidence: float, context: str | None,
                small_talk: bool = True) -> Route:
        """`small_talk`: whether a small-talk label answers a message the knowledge base
        has nothing confident for (not for one that names a matter)."""
        if context:
            # "一个月多少钱" after the 低保 guide asks about 低保, however confidently the
            # words alone match some other entry's "每个月能领多少"; "外地人能办吗" after the
            # residence permit is about the permit, not the ID card's FAQ for 外地人
            result = self._retriever.search(f"{context_for(context, text)} {text}", k=5)
            if result.confident:
                return self._decide(result, intent, confidence, small_talk, text)
        result = self._retriever.search(text, k=5)
        if not result.confident:
            # "驾照换证的咨询电话是多少": the detail's words can drown a short matter; the
            # answer leads with the detail either way (bot/answers.py)
            matter = matter_of(text)
            if matter:
                again = self._retriever.search(matter, k=5)
                if again.confident:
                    result = again
        return self._decide(result, intent, confidence, small_talk, text)

    def related(self, title: str, text: str, k: int = 3) -> list[str]:
        """Entries a question about `title`'s matter finds confidently, best first: where a
        follow-up goes when the last entry lacks what it asks ("要带什么材料" after a policy
        explainer finds the matter's guide)."""
        result = self._retriever.search(f"{title} {text}", k=k)
        return [hit.entry_id for hit in result.hits] if result.confident else []

    def _decide(self, result: SearchOutcome, intent: str, confidence: float,
                small_talk: bool = True, text: str = "") -> Route:
        hits = _for_the_register(list(result.hits), text)
        if not result.confident or not hits:
            if intent in CANNED and small_talk:
                return Route("canned", intent, confidence, canned=CANNED[intent])
            weak = [h for h in hits if h.score >= self._floor][: self._max_choices]
            return self._with_hits("not_found", intent, confidence, weak)
        close = [h for h in hits if hits[0].score - h.score < self._margin]
        close = _distinct(close)[: self._max_choices]
        if len(close) > 1:
            return self._with_hits("clarify", intent, confidence, close)
        return self._with_hits("answer", intent, confidence, hits[:1])

    @staticmethod
    def _with_hits(action: str, intent: str, confidence: float, hits: Sequence[Hit]) -> Route:
        return Route(
            action, intent, confidence,
            entry_ids=tuple(h.entry_id for h in hits), titles=tuple(h.title for h in hits),
            kinds=tuple(h.kind for h in hits),
        )


# A question from someone registered elsewhere, and a service titled for those registered
# here ("小学一年级新生入学报名（本市户籍）") or for newcomers ("随迁子女（新市民子女）…").
_ELSEWHERE = re.compile(r"外地|外省|外市|非本市|户口不在|户籍不在|户口在老家|随迁|新市民|外来")
_FOR_LOCALS = re.compile(r"本市户籍|本地户籍|本市户口")
_FOR_NEWCOMERS = re.compile(r"随迁|新市民|非本市|外地|外来")


def _for_the_register(hits: list[Hit], text: str) -> list[Hit]:
    """The hits without the services titled for local residents, when the question says the
    citizen is registered elsewhere and a service for newcomers is among them: "我是外地来临江
    工作的，孩子明年要上小学" matched the local enrolment guide's words best, the wrong service."""
    if len(hits) < 2 or not _FOR_LOCALS.search(hits[0].title) or not _ELSEWHERE.search(text):
        return hits
    if not any(_FOR_NEWCOMERS.search(hit.title) for hit in hits[1:]):
        return hits
    return [hit for hit in hits if not _FOR_LOCALS.search(hit.title)]


def _distinct(hits: Sequence[Hit]) -> list[Hit]:
    seen: set[str] = set()
    out = []
    for hit in hits:
        if hit.entry_id not in seen:
            seen.add(hit.entry_id)
            out.append(hit)
    return out
