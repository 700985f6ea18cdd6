"""The console's stores share the bot's database and its transaction rules."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.storage import SqlStore
from bot.tables import AuditRow


class StoreBase(SqlStore):
    unavailable = "console database unavailable"


def audit(session: Session, actor: str, action: str, conversation_id: int | None = None,
          handoff_id: int | None = None, **detail: Any) -> None:
    """One audit line, in the same transaction as the action it records."""
    session.add(AuditRow(actor=actor, action=action, conversation_id=conversation_id,
                         handoff_id=handoff_id, detail=detail or None))
