"""The channel's stores on both databases (the `engine` fixture of tests/conftest.py)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from bot.channels.follower import FollowerStore
from bot.channels.inbox import InboxStore
from bot.channels.outbox import OutboxStore


def test_inbox_counts_attempts_and_keeps_the_answer(engine: Engine) -> None:
    inbox = InboxStore(engine)
    assert inbox.arrive("msg:1", "o1").attempts == 1
    assert inbox.arrive("msg:1", "o1").attempts == 2
    inbox.finish("msg:1", ("答复",), 7)
    inbox.set_delivery("msg:1", "passive")
    record = inbox.get("msg:1")
    assert record is not None and record.status == "done" and record.messages == ("答复",)
    assert record.delivery == "passive" and record.conversation_id == 7
    assert inbox.purge(dt.timedelta(seconds=-1)) == 1 and inbox.get("msg:1") is None


def test_outbox_is_idempotent_claims_once_and_merges(engine: Engine) -> None:
    outbox = OutboxStore(engine)
    first = outbox.enqueue("o1", ["甲", "乙"], "answer:msg:1", "answer", 3)
    assert outbox.enqueue("o1", ["甲", "乙"], "answer:msg:1", "answer", 3) == first
    assert [row_id for row_id, _ in outbox.due()] == first
    claimed = outbox.claim(first[0])
    assert claimed is not None and claimed.attempts == 1 and outbox.claim(first[0]) is None
    outbox.mark(first[0], "sent")
    outbox.mark(first[1], "held", "已达到客服消息条数上限")
    staff = outbox.enqueue("o1", ["工作人员：一"], "staff:a", "staff", 3, merge=True)
    outbox.mark(staff[0], "held", "窗口")
    assert outbox.enqueue("o1", ["工作人员：二"], "staff:b", "staff", 3, merge=True) == staff
    statuses = outbox.statuses(3)
    assert statuses[-1]["text"] == "工作人员：一\n\n工作人员：二"
    assert outbox.release_held("o1") == 2
    outbox.claim(staff[0])
    assert outbox.recover() == 1
    assert [s["status"] for s in outbox.statuses(3)] == ["sent", "queued", "unknown"]


def test_follower_window_and_quota(engine: Engine) -> None:
    followers = FollowerStore(engine)
    assert "48" in (followers.reserve_send("o1") or "")
    followers.interacted("o1")
    assert [followers.reserve_send("o1") for _ in range(5)] == [None] * 5
    assert "上限" in (followers.reserve_send("o1") or "")
    followers.release_send("o1")
    assert followers.reserve_send("o1") is None
    followers.subscribed("o1", "hall_city")
    followers.set_location("o1", "滨江区", 30.2, 120.1)
    assert followers.set_pickup("o1", "msg:9")
    assert not followers.set_pickup("o1", None, expected="msg:other")
    follower = followers.get("o1")
    assert follower is not None and follower.entry_point == "hall_city"
    assert follower.region == "滨江区" and follower.pickup_key == "msg:9"
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=49)
    followers.interacted("o1", now=old)
    assert "48" in (followers.reserve_send("o1") or "")
