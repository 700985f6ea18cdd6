"""Parse what WeChat posts: the (encrypted) envelope and the message inside, safely.

xmltodict (under wechatpy) already refuses entity declarations; we refuse any DTD before
a parser sees the body at all, so neither an entity bomb nor an external entity gets in,
whatever parser version is installed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any
from xml.parsers.expat import ExpatError

import xmltodict
from wechatpy.parser import parse_message

from bot.channels.errors import MalformedMessage

_DTD = re.compile(r"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.IGNORECASE)
MAX_ID_CHARS = 64  # openids are 28 characters; ids longer than this are not WeChat's
# Plain string fields we read from messages and events, by WeChat's element names.
EXTRA_FIELDS = ("Label", "Location_X", "Location_Y", "Title", "Description", "Url",
                "Latitude", "Longitude", "MediaId", "Format", "PicUrl")


@dataclass(frozen=True)
class WechatInbound:
    """One message or event from a citizen (openid) to our account."""

    openid: str
    account: str  # ToUserName: the account's original id (gh_...)
    create_time: int
    msg_type: str  # text, voice, image, location, link, video, shortvideo, event, ...
    msg_id: str | None = None
    event: str | None = None  # lower case; "subscribe_scan" for subscribe with qrscene_
    event_key: str = ""  # qrscene_ prefix already removed by wechatpy
    content: str = ""  # Content of text, Recognition of voice
    extra: dict[str, str] = field(default_factory=dict)
    raw: str = field(default="", repr=False)  # the plaintext XML, kept to resume after a restart

    @property
    def dedup_key(self) -> str:
        """MsgId for messages; FromUserName + CreateTime + Event for events, and a digest of
        EventKey, since two menu clicks can arrive in the same second."""
        if self.msg_id:
            return f"msg:{self.msg_id}"
        key = f"evt:{self.openid}:{self.create_time}:{self.event or self.msg_type}"
        if self.event_key:
            key += ":" + hashlib.sha1(self.event_key.encode("utf-8")).hexdigest()[:10]
        return key[:128]  # the dialogue keeps external ids up to 128 characters


def refuse_dtd(text: str) -> None:
    if _DTD.search(text):
        raise MalformedMessage("DTDs and entities are not accepted")


def parse_xml(text: str) -> dict[str, Any]:
    """The children of the <xml> root, after refusing DTDs and entities."""
    refuse_dtd(text)
    try:
        document = xmltodict.parse(text, disable_entities=True)
    except (ExpatError, ValueError) as exc:
        raise MalformedMessage("body is not well-formed XML") from exc
    root = document.get("xml") if isinstance(document, dict) else None
    if not isinstance(root, dict):
        raise MalformedMessage("root element must be <xml>")
    return root


def envelope_field(envelope: dict[str, Any], name: str) -> str:
    value = envelope.get(name)
    if not isinstance(value, str) or not value:
        raise MalformedMessage(f"missing {name}")
    return value


def parse_inbound(text: str) -> WechatInbound:
    """A citizen's message from its plaintext XML; MalformedMessage when unusable."""
    root = parse_xml(text)
    for name in ("FromUserName", "ToUserName", "CreateTime", "MsgType"):
        if len(envelope_field(root, name)) > MAX_ID_CHARS:
            raise MalformedMessage(f"{name} is too long")
    try:
        message = parse_message(text)
        return _inbound_from(message, root, text)
    except (KeyError, ValueError, TypeError, AttributeError, ExpatError) as exc:
        raise MalformedMessage("message fields are not usable") from exc


def _inbound_from(message: Any, root: dict[str, Any], raw: str) -> WechatInbound:
    msg_type = str(root["MsgType"]).strip().lower()
    msg_id = root.get("MsgId")
    if msg_id is not None and not (isinstance(msg_id, str) and msg_id.isdigit()):
        raise ValueError("MsgId must be digits")
    content = root.get("Content") if msg_type == "text" else root.get("Recognition")
    event = getattr(message, "event", None) if msg_type == "event" else None
    event_key = _event_key(message, root)
    return WechatInbound(
        openid=_text(message.source),
        account=_text(message.target),
        create_time=int(message.time),
        msg_type=msg_type,
        msg_id=msg_id,
        event=str(event).lower() if event else (_text(root.get("Event")).lower() or None),
        event_key=event_key,
        content=_text(content),
        extra={name: root[name] for name in EXTRA_FIELDS if isinstance(root.get(name), str)},
        raw=raw,
    )


def _event_key(message: Any, root: dict[str, Any]) -> str:
    for attribute in ("scene_id", "key", "url"):
        value = getattr(message, attribute, None)
        if isinstance(value, str):
            return value
    return _text(root.get("EventKey"))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError("expected a text field")
    return value
