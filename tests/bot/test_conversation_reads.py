"""The reads every message of a returning citizen makes, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine

from bot.conversations import ConversationStore, TurnRecord


def test_replies_to_finds_the_answers_of_a_message_seen_before(engine: Engine) -> None:
    store = ConversationStore(engine)
    conversation = store.open("wechat", f"o-{uuid.uuid4()}")
    store.record_exchange(
        conversation, TurnRecord("citizen", "身份证丢了", external_id="msg-1"),
        [TurnRecord("bot", "先挂失", payload={"text": "先挂失"}, entry_ids=("g-1",)),
         TurnRecord("bot", "再补办", payload={"text": "再补办"})],
    )
    other = store.open("wechat", f"o-{uuid.uuid4()}")
    store.record_exchange(other, TurnRecord("citizen", "你好", external_id="msg-1"),
                          [TurnRecord("bot", "您好")])

    replies = store.replies_to(conversation.id, "msg-1")
    assert replies is not None
    assert [(t.author, t.text, t.payload, t.entry_ids) for t in replies] == [
        ("bot", "先挂失", {"text": "先挂失"}, ("g-1",)), ("bot", "再补办", {"text": "再补办"}, ()),
    ]
    assert replies == [t for t in store.history(conversation.id) if t.author == "bot"]
    assert store.replies_to(conversation.id, "msg-2") is None
    assert [t.text for t in store.replies_to(other.id, "msg-1") or []] == ["您好"]


def test_recent_helpful_is_newest_first_one_per_answer(engine: Engine) -> None:
    store = ConversationStore(engine)
    conversation = store.open("rest", f"u-{uuid.uuid4()}")
    store.record_exchange(conversation, TurnRecord("citizen", "一"),
                          [TurnRecord("bot", "甲", entry_ids=("a", "b"))])
    store.record_exchange(conversation, TurnRecord("citizen", "二"), [TurnRecord("bot", "乙")])
    first, second = [t for t in store.history(conversation.id) if t.author == "bot"]
    assert store.recent_helpful(conversation.id, 2) == []

    store.rate_turn(conversation.id, first, helpful=True)  # two rows: one per cited entry
    store.rate_turn(conversation.id, second, helpful=False)
    store.rate_turn(conversation.id, first, helpful=False)  # changed their mind: newest wins

    recent = store.recent_helpful(conversation.id, 2)
    assert [value for _, value in recent] == [0, 0]
    assert recent[0][0] > recent[1][0]
    assert len(store.recent_helpful(conversation.id, 1)) == 1
    assert store.recent_helpful(store.open("rest", f"u-{uuid.uuid4()}").id, 2) == []


def test_a_lazily_opened_conversation_is_written_with_its_first_exchange(engine: Engine) -> None:
    store = ConversationStore(engine)
    user = f"u-{uuid.uuid4()}"
    conversation = store.open("rest", user, lazy=True)
    assert conversation.fresh and not conversation.saved
    assert store.latest("rest", user) is None  # nothing written by opening it

    conversation.slots["last_entry"] = "g-1"
    ids = store.record_exchange(conversation, TurnRecord("citizen", "身份证丢了"),
                                [TurnRecord("bot", "先挂失"), TurnRecord("bot", "再补办")])

    assert conversation.saved and conversation.id > 0
    again = store.open("rest", user, lazy=True)
    assert (again.id, again.saved, again.fresh) == (conversation.id, True, False)
    assert again.slots == {"last_entry": "g-1"}
    turns = store.history(conversation.id)
    assert [(t.author, t.text) for t in turns] == [
        ("citizen", "身份证丢了"), ("bot", "先挂失"), ("bot", "再补办")]
    assert [t.id for t in turns[1:]] == ids


def test_a_conversation_opened_meanwhile_elsewhere_is_joined_not_doubled(engine: Engine) -> None:
    store = ConversationStore(engine)
    user = f"u-{uuid.uuid4()}"
    lazy = store.open("wechat", user, lazy=True)
    written = store.open("wechat", user)  # another worker process wrote one in between
    assert written.saved and written.id > 0

    lazy.slots["region"] = "东城区"
    store.record_exchange(lazy, TurnRecord("citizen", "你好"), [TurnRecord("bot", "您好")])

    assert lazy.id == written.id
    latest = store.latest("wechat", user)
    assert latest is not None and latest.id == written.id and latest.slots == {"region": "东城区"}
    assert [t.text for t in store.history(written.id)] == ["你好", "您好"]


def test_save_writes_a_lazy_conversation_once(engine: Engine) -> None:
    store = ConversationStore(engine)
    user = f"u-{uuid.uuid4()}"
    conversation = store.open("rest", user, lazy=True)
    store.save(conversation)
    first = conversation.id
    assert conversation.saved and first > 0
    store.save(conversation)
    assert conversation.id == first
    store.record_turns(conversation, [TurnRecord("system", "已转人工")])
    assert store.open("rest", user).id == first
    assert [t.text for t in store.history(first)] == ["已转人工"]
