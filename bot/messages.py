"""Channel-neutral messages: what a citizen sends and what the bot answers.

Channels (WeChat, web chat, REST) translate to and from these; the dialogue core
never sees a channel's wire format.
"""

from __future__ import annotations

import copy
import unicodedata
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any

MAX_MESSAGE_CHARS = 2000


def clean_text(text: str) -> str:
    """Drop control characters (keep newlines) and surrounding whitespace."""
    kept = (c for c in text if c == "\n" or unicodedata.category(c)[0] != "C")
    return "".join(kept).strip()


def has_words(text: str) -> bool:
    """Whether the text has a letter or digit (emoji and punctuation alone do not count)."""
    return any(unicodedata.category(c)[0] in "LN" for c in text)


@dataclass(frozen=True)
class InboundMessage:
    channel: str  # "rest", "wechat", "webchat", "cli"
    user_id: str  # channel-scoped citizen id (openid, widget token subject, REST sender)
    text: str
    external_id: str | None = None  # the channel's message id, for deduplication
    region: str | None = None


@dataclass(frozen=True)
class Choice:
    """A numbered option the citizen can answer with its number or title."""

    title: str
    payload: str  # what the bot receives when the option is chosen


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class Citation:
    entry_id: str
    title: str
    url: str | None = None


@dataclass(frozen=True)
class CardField:
    label: str
    value: str
    primary: bool = True  # primary fields lead; the rest can be collapsed


@dataclass(frozen=True)
class Card:
    title: str
    fields: tuple[CardField, ...]
    entry_id: str | None = None


@dataclass(frozen=True)
class Reply:
    text: str
    choices: tuple[Choice, ...] = ()
    card: Card | None = None
    links: tuple[Link, ...] = ()
    citations: tuple[Citation, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)  # intent, confidence, entry ids, turn id

    def to_dict(self) -> dict[str, Any]:
        """What `dataclasses.asdict` gives, built directly: asdict deep-copies field by field
        and cost 0.3 ms a reply on the event loop (measured served, cProfile)."""
        card = self.card
        return {
            "text": self.text,
            "choices": tuple({"title": c.title, "payload": c.payload} for c in self.choices),
            "card": None if card is None else card_dict(card),
            "links": tuple({"title": link.title, "url": link.url} for link in self.links),
            "citations": tuple(
                {"entry_id": c.entry_id, "title": c.title, "url": c.url} for c in self.citations
            ),
            "meta": _plain(self.meta),
        }


def card_dict(card: Card) -> dict[str, Any]:
    return {
        "title": card.title,
        "fields": tuple(
            {"label": f.label, "value": f.value, "primary": f.primary} for f in card.fields
        ),
        "entry_id": card.entry_id,
    }


def _plain(value: Any) -> Any:
    """A copy of JSON-like data (dicts, lists and tuples of scalars), as asdict makes."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(item) for item in value)
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return copy.deepcopy(value)


def reply_from_dict(data: dict[str, Any]) -> Reply:
    """Rebuild a stored reply (the inverse of `Reply.to_dict`)."""
    card_data = data.get("card")
    card = None
    if card_data:
        card = Card(
            title=card_data["title"],
            entry_id=card_data.get("entry_id"),
            fields=tuple(CardField(**f) for f in card_data.get("fields", ())),
        )
    return Reply(
        text=data.get("text", ""),
        choices=tuple(Choice(**c) for c in data.get("choices", ())),
        card=card,
        links=tuple(Link(**link) for link in data.get("links", ())),
        citations=tuple(Citation(**c) for c in data.get("citations", ())),
        meta=dict(data.get("meta", {})),
    )
