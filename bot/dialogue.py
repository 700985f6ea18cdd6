"""The conversation core: `Bot.handle(message)` -> replies, channel-neutral.

Order of precedence for a citizen message: a retry of a message already answered;
a conversation with staff (the bot stays silent); a pending flow (choices, complaint);
a follow-up on the last entry; then the intent router.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import threading
import weakref
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Protocol

from bot import texts
from bot.answers import compose_again, compose_entry, compose_field
from bot.console.hours import CHINA
from bot.conversations import Conversation, ConversationStore, TurnRecord
from bot.followup import (
    asked_field,
    asks_ticket_progress,
    detect_field,
    guide_detail,
    parse_choice,
    pins_version,
    same_matter,
    ticket_number,
)
from bot.handoff import HandoffService
from bot.messages import Choice, InboundMessage, Reply, card_dict, reply_from_dict
from bot.router import Route, Router
from bot.ticket import TicketFlow
from knowledge_base.errors import EntryNotFound
from knowledge_base.models import VALIDITY_LABELS, Entry, PolicyValidity

MISSES_BEFORE_HANDOFF = 2
# A reply to a matter's menu this short may describe the citizen's case ("身份证丢了").
MAX_DESCRIBED_CHARS = 15
# How much of a complaint's own words a status reply repeats.
TICKET_MATTER_CHARS = 30
Observer = Callable[[Conversation, "Outcome"], None]
BACK_TO_BOT = ("返回", "退出人工", "取消人工", "不用人工了", "返回智能助手")


class EntrySource(Protocol):
    def get(self, entry_id: str) -> Entry: ...


@dataclass(frozen=True)
class Outcome:
    conversation_id: int
    replies: tuple[Reply, ...]
    turn_ids: tuple[int, ...] = ()
    duplicate: bool = False


@dataclass(frozen=True)
class HandoffPolicy:
    """When the bot hands over by itself (a citizen asking for a person always works)."""

    misses: int = MISSES_BEFORE_HANDOFF  # answers in a row the bot could not give
    not_helpful: int = 2  # 没用 ratings in a row
    topics: tuple[str, ...] = ()  # complaint keywords that need a person, e.g. "拖欠工资"
    hours: str = texts.SERVICE_HOURS  # when staff answer, as told to the citizen


@dataclass
class _Turn:
    """What one message produced, before it is persisted."""

    replies: list[Reply] = field(default_factory=list)
    intent: str | None = None
    confidence: float | None = None
    entry_ids: list[str] = field(default_factory=list)
    answered: bool | None = None


class Bot:
    def __init__(
        self,
        conversations: ConversationStore,
        router: Router,
        entries: EntrySource,
        handoff: HandoffService,
        today: Callable[[], dt.date] = dt.date.today,
        policy: HandoffPolicy = HandoffPolicy(),
    ) -> None:
        self._conversations = conversations
        self._router = router
        self._entries = entries
        self._handoff = self.handoff = handoff
        self._today = today
        self._policy = policy
        self._observers: list[Observer] = []
        self._tickets = TicketFlow(conversations)
        self._locks: weakref.WeakValueDictionary[tuple[str, str], threading.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._locks_guard = threading.Lock()

    def observe(self, observer: Observer) -> None:
        """Called (on the handling thread) after every stored exchange, e.g. by the console."""
        self._observers.append(observer)

    def unobserve(self, observer: Observer) -> None:
        if observer in self._observers:
            self._observers.remove(observer)

    def citizen_lock(self, channel: str, user_id: str) -> threading.Lock:
        """Held while a message is handled; staff take it to change the conversation's mode,
        so the bot never writes back a mode it read before staff took over."""
        return self._lock_for(InboundMessage(channel, user_id, ""))

    def _lock_for(self, msg: InboundMessage) -> threading.Lock:
        with self._locks_guard:
            key = (msg.channel, msg.user_id)
            lock = self._locks.get(key)
            if lock is None:
                lock = threading.Lock()
                self._locks[key] = lock
            return lock

    async def handle_async(
        self, msg: InboundMessage,
        run_sync: Callable[[Callable[[], Outcome]], Awaitable[Outcome]] | None = None,
    ) -> Outcome:
        """`handle` off the event loop: on the embedding model's lead thread when the model
        is idle, where the message's embedding call then runs without being handed over
        and back (see `EmbedScheduler.lead`); else by `run_sync` (the channel's threads;
        None: `asyncio.to_thread`)."""
        task = partial(self.handle, msg)
        future = self._router.lead(task)
        if future is not None:
            return await asyncio.wrap_future(future)
        return await (run_sync or asyncio.to_thread)(task)

    def handle(self, msg: InboundMessage) -> Outcome:
        lock = self._lock_for(msg)  # one message per citizen at a time: dedup and slots
        with lock:
            return self._handle(msg)

    def _handle(self, msg: InboundMessage) -> Outcome:
        conversation = self._conversations.open(msg.channel, msg.user_id, lazy=True)
        if msg.external_id and conversation.saved:  # a conversation not yet written has none
            earlier = self._conversations.replies_to(conversation.id, msg.external_id)
            if earlier is not None:
                replies = tuple(_replayed(t.payload or {"text": t.text}, t.id) for t in earlier)
                ids = tuple(t.id for t in earlier)
                return Outcome(conversation.id, replies, ids, duplicate=True)
        if msg.region:
            conversation.slots["region"] = msg.region
        turn = self._respond(conversation, msg.text)
        inbound = TurnRecord(
            "citizen", msg.text, external_id=msg.external_id, intent=turn.intent,
            confidence=turn.confidence,
        )
        meta = {"intent": turn.intent, "confidence": turn.confidence, "entry_ids": turn.entry_ids}
        enriched = [replace(r, meta={**meta, **r.meta}) for r in turn.replies]
        records = [self._record(reply, turn) for reply in enriched]
        ids = self._conversations.record_exchange(conversation, inbound, records)
        replies = tuple(replace(r, meta={**r.meta, "turn_id": i}) for r, i in zip(enriched, ids))
        outcome = Outcome(conversation.id, replies, tuple(ids))
        for observer in list(self._observers):
            observer(conversation, outcome)
        return outcome

    @staticmethod
    def _record(reply: Reply, turn: _Turn) -> TurnRecord:
        return TurnRecord(
            "bot", reply.text, payload=reply.to_dict(), intent=turn.intent,
            confidence=turn.confidence, entry_ids=tuple(turn.entry_ids), answered=turn.answered,
        )

    def _respond(self, conversation: Conversation, text: str) -> _Turn:
        if conversation.mode in ("queued", "human"):
            return self._with_staff(conversation, text)
        pending = conversation.slots.get("pending")
        if pending and pending.get("type") == "ticket":
            return _Turn([self._tickets.advance(conversation, text)], intent="complaint_suggestion")
        status = self._ticket_status(conversation, text)
        if status is not None:
            return status
        choices = pending if pending and pending.get("type") == "choices" else {}
        asked = choices.get("asked")  # the detail the question that led to the choices asked
        if text.startswith("/entry "):
            entry_id = text.removeprefix("/entry ").strip()
            offered = any(o["id"] == entry_id for o in choices.get("options", ()))
            return self._answer_entry(conversation, entry_id, asked if offered else None)
        if choices:
            picked = parse_choice(text, [c["title"] for c in choices["options"]])
            if picked is not None:
                return self._answer_entry(conversation, choices["options"][picked]["id"], asked)
            if not choices.get("matter"):
                detail = self._detail_of_choices(conversation, choices, text)
                if detail is not None:
                    return detail
        if self._not_helpful_in_a_row(conversation):
            return self._hand_over(conversation, "not_helpful", texts.HANDOFF_NOT_HELPFUL)
        if choices.get("matter"):  # a menu rated 没用 twice in a row hands over first
            menu = self._within_menu(conversation, choices, text)
            if menu is not None:
                return menu
        follow = self._follow_up(conversation, text)
        if follow is not None:
            return follow
        return self._route(conversation, text)

    def _ticket_status(self, conversation: Conversation, text: str) -> _Turn | None:
        """How the citizen's complaints and suggestions are getting on: the ticket whose
        number they send, or their latest ones when they ask ("我的投诉处理得怎么样了"). The
        confirmation of every ticket says it can be looked up by its number."""
        number = ticket_number(text)
        if number is None and not asks_ticket_progress(text):
            return None
        found = self._conversations.citizen_tickets(conversation.channel, conversation.user_id,
                                                    number)
        if not found:
            reply = (texts.TICKET_STATUS_NOT_FOUND.format(number=number) if number
                     else texts.TICKET_STATUS_NONE)
            return _Turn([Reply(reply)], intent="ticket_status")
        parts = [_describe_ticket(ticket) for ticket in found]
        if number is None and len(found) > 1:
            parts.append(texts.TICKET_STATUS_MORE)
        return _Turn([Reply("\n\n".join(parts))], intent="ticket_status")

    def _not_helpful_in_a_row(self, conversation: Conversation) -> bool:
        """The citizen's latest ratings are all 没用, and none of them led to a handoff yet."""
        needed = self._policy.not_helpful
        if needed <= 0 or conversation.fresh:  # a conversation opened just now has no ratings
            return False
        ratings = self._conversations.recent_helpful(conversation.id, needed)
        if len(ratings) < needed or any(value for _, value in ratings):
            return False
        if ratings[0][0] <= int(conversation.slots.get("not_helpful_seen", 0)):
            return False
        conversation.slots["not_helpful_seen"] = ratings[0][0]
        return True

    def _hand_over(self, conversation: Conversation, reason: str, said: str) -> _Turn:
        self._handoff.queue(conversation, reason)
        text = said if self._handoff.staff_available() else texts.HANDOFF_NO_STAFF
        return _Turn([Reply(text)], intent="request_human")

    def _with_staff(self, conversation: Conversation, text: str) -> _Turn:
        if text.strip() in BACK_TO_BOT and conversation.mode == "queued":
            conversation.mode = "bot"
            return _Turn([Reply(texts.HANDOFF_LEFT)], intent="back_to_bot")
        return _Turn([], intent="to_staff")  # staff see it in the console; the bot stays silent

    def _follow_up(self, conversation: Conversation, text: str) -> _Turn | None:
        last = conversation.slots.get("last_entry")
        if not last:
            return None
        if text.strip() == texts.REPLACEMENT_HINT and conversation.slots.get("replacement"):
            return self._answer_entry(conversation, conversation.slots["replacement"])
        key = detect_field(text)
        if key is None:
            return None
        entry = self._entries.get(last)
        reply = compose_field(entry, key)
        if reply is None:
            other = self._related_with_field(entry, key, text)
            if other is not None:
                return self._answer_entry(conversation, other, key)
            reply = Reply(texts.FOLLOW_UP_MISSING.format(title=entry.title))
        return _Turn([reply], intent="follow_up", entry_ids=[entry.id], answered=True)

    def _related_with_field(self, entry: Entry, key: str, text: str) -> str | None:
        """Another entry on the same matter that has the detail the last one lacks: "要带什么
        材料" after the 低保 standard's explainer is the 低保 guide's materials."""
        for entry_id in self._router.related(entry.title, text):
            if entry_id == entry.id:
                continue
            try:
                other = self._entries.get(entry_id)
            except EntryNotFound:
                continue
            if same_matter(entry.title, other.title) and compose_field(other, key) is not None:
                return other.id
        return None

    def _detail_of_choices(self, conversation: Conversation, choices: dict[str, Any],
                           text: str) -> _Turn | None:
        """"居住证怎么办" offered the permit's guide and its policy explainer; a citizen who
        then asks "要多久" instead of picking one gets the first offered entry that has that
        detail, leading with it (the detail is about what was just offered, not about an
        entry answered before the choice)."""
        key = detect_field(text)
        if key is None:
            return None
        having = self._with_field([o["id"] for o in choices.get("options", ())], key)
        return self._answer_entry(conversation, having[0], key) if having else None

    def _within_menu(self, conversation: Conversation, menu: dict[str, Any],
                     text: str) -> _Turn | None:
        """A reply to a matter's menu that does not give a number. One that describes the
        citizen's case ("丢了", "第一次办" after "办身份证") gets the service it describes; one
        that asks a detail ("要带什么材料") gets the menu again, since the materials depend on
        the service, and the answer picked next leads with that detail."""
        key = detect_field(text)
        options = menu["options"]
        if key is not None:
            route = Route("menu", "ask_service_guide", 1.0, tuple(o["id"] for o in options),
                          tuple(o["title"] for o in options), matter=menu["matter"])
            lead = texts.MENU_FIRST.format(detail=texts.DETAIL_NAMES.get(key, "具体内容"))
            return self._offer(conversation, lead, route, True, key)
        if len(text) > MAX_DESCRIBED_CHARS:
            return None
        route = self._router.within_menu(menu["matter"], text, [o["id"] for o in options])
        if route is None:
            return None
        asked = menu.get("asked") or asked_field(text)
        if route.action == "menu":
            return self._offer(conversation, texts.CLARIFY, route, True, asked)
        if route.action == "answer":
            turn = self._answer_entry(conversation, route.entry_ids[0], asked)
        else:
            turn = self._dispatch(conversation, text, route)
        turn.intent = turn.intent or route.intent
        turn.confidence = route.confidence
        return turn

    def _last_title(self, conversation: Conversation) -> str | None:
        """The matter a short question may be about: the matter of a menu, or the first
        entry offered by choices, that the citizen has not picked from; else the entry
        answered last."""
        pending = conversation.slots.get("pending") or {}
        if pending.get("type") == "choices" and pending.get("matter"):
            return str(pending["matter"])
        if pending.get("type") == "choices" and pending.get("options"):
            return str(pending["options"][0]["title"])
        last = conversation.slots.get("last_entry")
        if not last:
            return None
        try:
            return self._entries.get(last).title
        except EntryNotFound:  # deleted since it was answered
            return None

    def _answer_entry(self, conversation: Conversation, entry_id: str,
                      asked: str | None = None, again: bool = False) -> _Turn:
        """`again`: a question routed afresh that finds the entry answered last gets the
        detail it asks or the gist, not the whole entry once more."""
        entry = self._entries.get(entry_id)
        replacement = None
        if entry.policy is not None and entry.policy.replaced_by:
            replacement = self._entries.get(entry.policy.replaced_by)
        slots = conversation.slots
        if again and entry.id == slots.get("last_entry") and not slots.get("pending"):
            reply = compose_again(entry, self._today(), replacement, asked)
        else:
            reply = compose_entry(entry, self._today(), replacement, asked)
        slots.pop("pending", None)
        slots["last_entry"] = entry.id
        slots["replacement"] = replacement.id if replacement else None
        slots["misses"] = 0
        return _Turn([reply], intent="ask_kb", entry_ids=[entry.id], answered=True)

    def _route(self, conversation: Conversation, text: str) -> _Turn:
        route = self._router.route(text, self._last_title(conversation))
        turn = self._dispatch(conversation, text, route)
        turn.intent = turn.intent or route.intent
        turn.confidence = route.confidence
        return turn

    def _dispatch(self, conversation: Conversation, text: str, route: Route) -> _Turn:
        if route.action == "answer":
            entry_id, superseded = self._in_force(route.entry_ids[0], text)
            turn = self._answer_entry(conversation, entry_id, asked_field(text), True)
            if superseded is not None:
                first = turn.replies[0]
                turn.replies[0] = replace(first, text=f"{superseded}\n{first.text}")
            return turn
        if route.action == "clarify":
            only = self._only_with_detail(route.entry_ids, guide_detail(text))
            if only is not None:
                return self._answer_entry(conversation, only, asked_field(text), True)
            return self._offer(conversation, texts.CLARIFY, route, True, asked_field(text))
        if route.action == "menu":
            lead = texts.MENU.format(matter=route.matter)
            return self._offer(conversation, lead, route, True, asked_field(text))
        if route.action == "ticket" and any(t in text for t in self._policy.topics):
            return self._hand_over(conversation, "topic", texts.HANDOFF_TOPIC)
        if route.action == "ticket":
            return _Turn([self._tickets.start(conversation, text)])
        if route.action == "handoff":
            queued = texts.HANDOFF_QUEUED.format(hours=self._policy.hours)
            return self._hand_over(conversation, "requested", queued)
        if route.action == "not_found":
            return self._miss(conversation, route, asked_field(text))
        conversation.slots["misses"] = 0
        return _Turn([Reply(route.canned or texts.CHITCHAT)])

    def _in_force(self, entry_id: str, text: str) -> tuple[str, str | None]:
        """The policy in force in place of a superseded one that a question found ("最新的落户
        政策" found the repealed 2019 rules), with a line saying so; the entry itself when it
        is current, has no replacement in force, or the question asks for that version ("2019
        年的落户政策")."""
        entry = self._entries.get(entry_id)
        policy, today = entry.policy, self._today()
        if policy is None or policy.is_current(today) or pins_version(text, entry.title):
            return entry_id, None
        newer, seen = entry, {entry.id}
        while newer.policy is not None and newer.policy.replaced_by not in (None, *seen):
            try:
                newer = self._entries.get(newer.policy.replaced_by)
            except EntryNotFound:
                return entry_id, None
            seen.add(newer.id)
            if newer.policy is None or newer.policy.is_current(today):
                label = ("已到期失效" if policy.validity is PolicyValidity.IN_FORCE
                         else VALIDITY_LABELS[policy.validity])
                old = re.sub(r"（(?:已修订|已废止|已失效)）$", "", entry.title)
                return newer.id, texts.SUPERSEDED.format(old=old, label=label)
        return entry_id, None

    def _only_with_detail(self, entry_ids: Sequence[str], key: str | None) -> str | None:
        """The one close hit that has the detail a question asks ("办居住证要带什么材料": the
        permit's guide has materials, its policy explainer has none), if only one has it."""
        if key is None:
            return None
        having = self._with_field(entry_ids, key)
        return having[0] if len(having) == 1 else None

    def _with_field(self, entry_ids: Sequence[str], key: str) -> list[str]:
        """Those of the entries (still there) that have the field `key`, in order."""
        having = []
        for entry_id in entry_ids:
            try:
                entry = self._entries.get(entry_id)
            except EntryNotFound:
                continue
            if compose_field(entry, key) is not None:
                having.append(entry_id)
        return having

    def _offer(self, conversation: Conversation, lead: str, route: Route, answered: bool,
               asked: str | None = None) -> _Turn:
        options = [{"id": i, "title": t} for i, t in zip(route.entry_ids, route.titles)]
        conversation.slots["pending"] = {"type": "choices", "options": options, "asked": asked}
        if route.matter:
            conversation.slots["pending"]["matter"] = route.matter
        lines = [lead] + [f"{n}. {o['title']}" for n, o in enumerate(options, 1)]
        choices = tuple(Choice(o["title"], f"/entry {o['id']}") for o in options)
        return _Turn(
            [Reply("\n".join(lines), choices=choices)],
            entry_ids=list(route.entry_ids), answered=answered,
        )

    def _miss(self, conversation: Conversation, route: Route, asked: str | None) -> _Turn:
        misses = int(conversation.slots.get("misses", 0)) + 1
        conversation.slots["misses"] = misses
        if misses >= self._policy.misses > 0:
            conversation.slots["misses"] = 0
            turn = self._hand_over(conversation, "unanswered", texts.HANDOFF_AFTER_MISSES)
            turn.intent, turn.answered = None, False
            return turn
        if route.entry_ids:
            return self._offer(conversation, texts.DID_YOU_MEAN, route, False, asked)
        return _Turn([Reply(texts.NOT_FOUND)], answered=False)


def _describe_ticket(ticket: dict[str, Any]) -> str:
    matter = str(ticket["matter"])
    if len(matter) > TICKET_MATTER_CHARS:
        matter = matter[:TICKET_MATTER_CHARS] + "……"
    date = _china_date(ticket["created_at"])
    if ticket["status"] == "answered" and ticket["answer"]:
        return texts.TICKET_STATUS_ANSWERED.format(
            number=ticket["number"], date=date, matter=matter,
            answered=_china_date(ticket["answered_at"]), answer=ticket["answer"],
        )
    return texts.TICKET_STATUS_OPEN.format(number=ticket["number"], date=date, matter=matter)


def _china_date(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:  # SQLite returns naive UTC
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(CHINA)
    return f"{local.month}月{local.day}日"


def _replayed(payload: dict[str, Any], turn_id: int) -> Reply:
    reply = reply_from_dict(payload)
    return replace(reply, meta={**reply.meta, "turn_id": turn_id})


def rasa_messages(recipient: str, replies: Sequence[Reply]) -> list[dict[str, Any]]:
    """Rasa REST-channel response: one object per reply."""
    out: list[dict[str, Any]] = []
    for reply in replies:
        item: dict[str, Any] = {"recipient_id": recipient, "text": reply.text}
        if reply.choices:
            item["buttons"] = [{"title": c.title, "payload": c.payload} for c in reply.choices]
        item["custom"] = {
            "intent": reply.meta.get("intent"),
            "confidence": reply.meta.get("confidence"),
            "entry_ids": reply.meta.get("entry_ids", []),
            "turn_id": reply.meta.get("turn_id"),
            "citations": [c.__dict__ for c in reply.citations],
            "card": None if reply.card is None else card_dict(reply.card),
        }
        out.append(item)
    return out
