"""Two staff members click 接入 on the same conversation at the same moment: the database
(a conditional UPDATE), not the console, decides, and exactly one of them wins."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.console.accounts import AccountStore, StaffUser
from bot.console.store import HandoffStore
from bot.conversations import ConversationStore
from knowledge_base.db import create_engine_for, migrate, sqlite_url

ROUNDS = 15


def race(engine: Engine, tag: str) -> None:
    accounts, conversations = AccountStore(engine), ConversationStore(engine)
    rivals = [accounts.add_user(f"{tag}-{n}", "correct horse battery", "staff", f"员工{n}")
              for n in range(2)]
    store = HandoffStore(engine)
    for round_ in range(ROUNDS):
        conversation = conversations.open("webchat", f"{tag}-citizen-{round_}")
        handoff_id = conversations.create_handoff(conversation.id, "requested")
        winners = claim_together(store, handoff_id, rivals)
        assert len(winners) == 1, winners
        handoff = store.get(handoff_id)
        assert handoff is not None and handoff.status == "assigned"
        assert handoff.staff == winners[0]
        assert conversations.get(conversation.id).slots["staff_name"] == handoff.staff_name


def claim_together(store: HandoffStore, handoff_id: int, rivals: list[StaffUser]) -> list[str]:
    start, winners = threading.Barrier(len(rivals)), []
    lock = threading.Lock()

    def click(user: StaffUser) -> None:
        start.wait()
        if store.claim(handoff_id, user):
            with lock:
                winners.append(user.username)

    threads = [threading.Thread(target=click, args=(user,)) for user in rivals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return winners


def test_exactly_one_claim_wins_on_sqlite(tmp_path: Path) -> None:
    engine = create_engine_for(sqlite_url(tmp_path))
    migrate(engine)
    race(engine, "sqlite")
    engine.dispose()


@pytest.mark.postgres
def test_exactly_one_claim_wins_on_postgres(pg_database: str) -> None:
    engine = create_engine_for(pg_database)
    migrate(engine)
    race(engine, f"pg-{threading.get_ident()}")
    engine.dispose()
