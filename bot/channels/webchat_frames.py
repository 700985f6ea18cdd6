"""The web chat's JSON frames (docs/webchat-protocol.md): parsing what the widget sends and
rendering stored turns for it. Plain data only; the widget renders every string as text."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from bot.conversations import StoredTurn

MAX_FRAME_BYTES = 16_384
MAX_CLIENT_ID = 64
MAX_COMMENT = 500
CLIENT_TYPES = ("message", "feedback", "end", "rating", "leave_message", "ping", "typing")


class BadFrame(ValueError):
    """A frame the protocol does not allow; the message is for the log, not the citizen."""


@dataclass(frozen=True)
class Frame:
    type: str
    data: dict[str, Any]

    def text(self, key: str = "text") -> str:
        value = self.data.get(key)
        if not isinstance(value, str):
            raise BadFrame(f"{self.type}.{key} must be a string")
        return value

    def optional_text(self, key: str, limit: int) -> str | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str) or len(value) > limit:
            raise BadFrame(f"{self.type}.{key} must be a string of at most {limit} characters")
        return value

    def client_id(self) -> str:
        value = self.data.get("client_id")
        if not isinstance(value, str) or not 1 <= len(value) <= MAX_CLIENT_ID:
            raise BadFrame(f"{self.type}.client_id must be a string of 1-{MAX_CLIENT_ID} characters")
        return value

    def integer(self, key: str, low: int, high: int) -> int:
        value = self.data.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise BadFrame(f"{self.type}.{key} must be an integer in [{low}, {high}]")
        return value

    def flag(self, key: str) -> bool:
        value = self.data.get(key)
        if not isinstance(value, bool):
            raise BadFrame(f"{self.type}.{key} must be true or false")
        return value


def parse_frame(raw: str | bytes | dict[str, Any], allowed: tuple[str, ...] = CLIENT_TYPES) -> Frame:
    if isinstance(raw, (str, bytes)):
        if len(raw) > MAX_FRAME_BYTES:
            raise BadFrame("frame too large")
        try:
            raw = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise BadFrame("not JSON") from None
    if not isinstance(raw, dict) or raw.get("type") not in allowed:
        raise BadFrame("not an object with a known type")
    return Frame(str(raw["type"]), raw)


def message_frame(turn: StoredTurn) -> dict[str, Any]:
    payload = turn.payload or {}
    meta = payload.get("meta") or {}
    return {
        "type": "message",
        "seq": turn.id,
        "conversation_id": turn.conversation_id,
        "author": turn.author,
        "text": turn.text,
        "client_id": turn.external_id if turn.author == "citizen" else None,
        "card": payload.get("card"),
        "choices": list(payload.get("choices") or ()),
        "links": list(payload.get("links") or ()),
        "citations": list(payload.get("citations") or ()),
        "rateable": turn.author == "bot" and bool(turn.entry_ids),
        "staff_name": meta.get("staff_name"),
        # SQLite hands back naive datetimes; we store UTC, so say so
        "created_at": (turn.created_at if turn.created_at.tzinfo else
                       turn.created_at.replace(tzinfo=dt.UTC)).isoformat(),
    }


def error_frame(code: str, message: str, client_id: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if client_id is not None:
        frame["client_id"] = client_id
    return frame
