"""The web chat protocol (docs/webchat-protocol.md) over a real WebSocket, on the real stack:
identity, resumption, duplicates, bad frames, origins, limits, ratings and the handoff states."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

from bot.channels.webchat import WebchatSender
from bot.channels.webchat_identity import TokenSigner
from bot.conversations import TurnRecord
from bot.messages import Reply
from bot.tables import RatingRow, TicketRow
from server import create_app
from settings import Settings
from tests.live_server import citizen_hello as hello
from tests.live_server import read_until

OWN = {"origin": "http://testserver"}
SITE_SECRET = "portal-login-secret"
_ids = itertools.count()

Frame = dict[str, Any]


def client_id() -> str:
    return f"c-{next(_ids)}"


@pytest.fixture
def web(settings: Settings, services: Any) -> Iterator[TestClient]:
    configured = settings.model_copy(update={
        "widget_allowed_origins": {"demo": [], "portal": ["https://www.linjiang.example.gov.cn"]},
        "widget_site_secrets": {"portal": SecretStr(SITE_SECRET)},
    })
    with TestClient(create_app(configured, services=services)) as client:
        yield client


def connect(web: TestClient, site: str = "demo", headers: dict[str, str] = OWN) -> Any:
    return web.websocket_connect(f"/ws/chat?site={site}", headers=headers)


def is_state(frame: Frame) -> bool:
    return frame["type"] == "state"


def ask(ws: Any, text: str, cid: str | None = None) -> list[Frame]:
    """Send a message; every frame it caused. A connection's frames are handled in order,
    so the answer to a ping sent after it marks the end."""
    ws.send_json({"type": "message", "client_id": cid or client_id(), "text": text})
    ws.send_json({"type": "ping"})
    return read_until(ws, lambda f: f["type"] == "pong")[:-1]


def messages(frames: list[Frame], author: str | None = None) -> list[Frame]:
    return [f for f in frames if f["type"] == "message" and author in (None, f["author"])]


def test_a_new_citizen_gets_a_token_and_a_guide_card_with_its_source(web: TestClient) -> None:
    with connect(web) as ws:
        welcome = hello(ws)
        assert welcome["token"].startswith("v1.demo.") and welcome["seq"] == 0
        assert read_until(ws, is_state)[-1]["mode"] == "bot"
        frames = ask(ws, "孩子上学要准备什么材料", "c-school")
    assert [f["on"] for f in frames if f["type"] == "typing"] == [True, False]
    citizen, bot = messages(frames, "citizen"), messages(frames, "bot")
    assert citizen[0]["client_id"] == "c-school" and citizen[0]["text"] == "孩子上学要准备什么材料"
    answer = bot[0]
    assert answer["seq"] > citizen[0]["seq"] and answer["rateable"] is True
    assert answer["card"]["fields"][0]["label"] == "申请材料"
    assert answer["citations"] and answer["citations"][0]["entry_id"] == answer["card"]["entry_id"]
    assert "入学" in answer["card"]["title"] or "入学" in answer["text"]
    assert answer["created_at"].endswith("+00:00")


def test_reconnecting_resumes_after_the_last_seq_without_repeats(web: TestClient) -> None:
    with connect(web) as ws:
        token = hello(ws)["token"]
        read_until(ws, is_state)
        first = messages(ask(ws, "身份证丢了怎么补办"))
    citizen_seq = first[0]["seq"]
    with connect(web) as ws:  # dropped after the citizen turn arrived: resume from it
        welcome = hello(ws, token=token, last_seq=citizen_seq)
        assert welcome["token"] == token and welcome["seq"] == first[-1]["seq"]
        resumed = read_until(ws, is_state)
    assert [f["seq"] for f in messages(resumed)] == [f["seq"] for f in first[1:]]
    with connect(web) as ws:  # a reload (last_seq 0): the whole history, in order
        hello(ws, token=token)
        history = messages(read_until(ws, is_state))
    assert [f["seq"] for f in history] == [f["seq"] for f in first]
    with connect(web) as ws:  # up to date: nothing but the state
        hello(ws, token=token, last_seq=first[-1]["seq"])
        assert ws.receive_json()["type"] == "state"


def test_a_resent_client_id_is_stored_and_answered_once(web: TestClient, services: Any) -> None:
    with connect(web) as ws:
        token = hello(ws)["token"]
        read_until(ws, is_state)
        once = messages(ask(ws, "公积金怎么提取", "c-dup"))
        ws.send_json({"type": "message", "client_id": "c-dup", "text": "公积金怎么提取"})
        ws.send_json({"type": "ping"})
        after = read_until(ws, lambda f: f["type"] == "pong")
    assert len(messages(once, "citizen")) == 1 and messages(after) == []
    user_id = "demo:" + TokenSigner.subject_of(token)
    turns = services.conversations.user_history("webchat", user_id)
    assert [t.external_id for t in turns if t.author == "citizen"] == ["c-dup"]


def test_bad_frames_get_clear_errors_and_the_connection_lives_on(web: TestClient) -> None:
    with connect(web) as ws:
        hello(ws)
        read_until(ws, is_state)
        ws.send_text("{not json")
        assert ws.receive_json()["code"] == "bad_frame"
        ws.send_json({"type": "message", "text": "缺少 client_id"})
        assert ws.receive_json()["code"] == "bad_frame"
        ws.send_json({"type": "message", "client_id": "c-long", "text": "长" * 2001})
        too_long = ws.receive_json()
        assert (too_long["code"], too_long["client_id"]) == ("too_long", "c-long")
        assert "2000" in too_long["message"]
        ws.send_json({"type": "message", "client_id": "c-empty", "text": " \u0000 "})
        assert ws.receive_json()["code"] == "empty"
        ws.send_json({"type": "feedback", "seq": 999999999, "helpful": True})
        assert ws.receive_json()["code"] == "not_found"
        ws.send_json({"type": "ping"})
        assert ws.receive_json() == {"type": "pong"}
        ws.send_text("x" * 20_000)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 1009


def test_emoji_and_markup_are_stored_as_text_and_answered(web: TestClient) -> None:
    with connect(web) as ws:
        hello(ws)
        read_until(ws, is_state)
        frames = ask(ws, "👍👍")
        assert "文字" in messages(frames, "bot")[0]["text"]
        payload = "<img src=x onerror=alert(1)>'; DROP TABLE turns; --"
        echoed = messages(ask(ws, payload), "citizen")
    assert echoed[0]["text"] == payload


@pytest.mark.parametrize(
    ("site", "headers", "hello_fields", "code"),
    [
        ("demo", {"origin": "https://evil.example.com"}, {}, 4403),
        ("nosuchsite", OWN, {}, 4403),
        ("portal", {"origin": "https://www.linjiang.example.gov.cn"},
         {"site": "portal", "token": "v1.portal.YTpmb3JnZWQ.AAAA"}, 4401),
        ("portal", {"origin": "https://www.linjiang.example.gov.cn"},
         {"site": "portal", "user": "zhang3", "user_hash": "00" * 32}, 4401),
        ("demo", OWN, {"type": "message", "client_id": "x", "text": "hi"}, 4400),
    ],
    ids=["foreign-origin", "unknown-site", "forged-token", "wrong-user-hash", "no-hello"],
)
def test_refused_connections_close_with_the_code_the_widget_acts_on(
    web: TestClient, site: str, headers: dict[str, str], hello_fields: Frame, code: int
) -> None:
    with connect(web, site, headers) as ws, pytest.raises(WebSocketDisconnect) as closed:
        ws.send_json({"type": "hello", "last_seq": 0, **hello_fields})
        ws.receive_json()
    assert closed.value.code == code


def test_a_token_from_another_site_is_refused(web: TestClient) -> None:
    with connect(web) as ws:
        token = hello(ws)["token"]
    portal = {"origin": "https://www.linjiang.example.gov.cn"}
    with connect(web, "portal", portal) as ws, pytest.raises(WebSocketDisconnect) as closed:
        ws.send_json({"type": "hello", "site": "portal", "token": token, "last_seq": 0})
        ws.receive_json()
    assert closed.value.code == 4401


def test_a_signed_login_follows_the_citizen_across_devices(web: TestClient) -> None:
    portal = {"origin": "https://www.linjiang.example.gov.cn"}
    user = f"zhang3-{uuid.uuid4().hex[:8]}"
    user_hash = hmac.new(SITE_SECRET.encode(), user.encode(), hashlib.sha256).hexdigest()
    login = {"site": "portal", "user": user, "user_hash": user_hash}
    with connect(web, "portal", portal) as ws:
        first = hello(ws, **login)
        read_until(ws, is_state)
        asked = messages(ask(ws, "居住证怎么办"))
    with connect(web, "portal", portal) as ws:  # another device, same login
        second = hello(ws, **login)
        history = messages(read_until(ws, is_state))
    assert first["token"] == second["token"]
    assert [f["seq"] for f in history] == [f["seq"] for f in asked]


def test_a_fast_sender_is_told_to_slow_down_without_losing_the_text(web: TestClient) -> None:
    with connect(web) as ws:
        hello(ws)
        read_until(ws, is_state)
        for n in range(5):
            assert messages(ask(ws, "🙂", f"c-fast-{n}"), "citizen")
        ws.send_json({"type": "message", "client_id": "c-fast-5", "text": "🙂"})
        refused = ws.receive_json()
    assert (refused["code"], refused["client_id"]) == ("rate_limited", "c-fast-5")
    assert "输入框" in refused["message"]


def test_helpful_rating_of_an_answer_is_stored_with_its_entry(web: TestClient, services: Any) -> None:
    with connect(web) as ws:
        hello(ws)
        read_until(ws, is_state)
        answer = messages(ask(ws, "身份证丢了怎么补办"), "bot")[0]
        ws.send_json({"type": "feedback", "seq": answer["seq"], "helpful": True})
        assert ws.receive_json() == {"type": "feedback_ok", "seq": answer["seq"], "helpful": True}
    with connect(web) as ws:  # another citizen cannot rate it
        hello(ws)
        read_until(ws, is_state)
        ws.send_json({"type": "feedback", "seq": answer["seq"], "helpful": False})
        assert ws.receive_json()["code"] == "not_found"
    with services.engine.connect() as connection:
        rows = connection.execute(select(RatingRow).where(RatingRow.turn_id == answer["seq"])).all()
    assert [(r.entry_id, r.value) for r in rows] == [(answer["card"]["entry_id"], 1)]


def test_ending_closes_the_conversation_and_the_rating_covers_its_entries(
    web: TestClient, services: Any
) -> None:
    with connect(web) as ws:
        hello(ws)
        read_until(ws, is_state)
        answer = messages(ask(ws, "身份证丢了怎么补办"), "bot")[0]
        ws.send_json({"type": "end"})
        assert read_until(ws, is_state)[-1]["mode"] == "closed"
        ws.send_json({"type": "rating", "value": 2, "comment": "<b>等太久</b>"})
        rated = ws.receive_json()
        assert rated["type"] == "rating_ok"
        ws.send_json({"type": "rating", "value": 9})
        assert ws.receive_json()["code"] == "bad_frame"
        again = messages(ask(ws, "你好"))  # the next message opens a new conversation
    assert again[0]["conversation_id"] != answer["conversation_id"]
    with services.engine.connect() as connection:
        row = connection.execute(
            select(RatingRow).where(RatingRow.conversation_id == rated["conversation_id"])
        ).one()
    assert (row.kind, row.value, row.comment) == ("satisfaction", 2, "<b>等太久</b>")
    assert row.entry_ids == [answer["card"]["entry_id"]]


def test_handoff_without_staff_offers_a_message_that_becomes_a_ticket(
    web: TestClient, services: Any
) -> None:
    with connect(web) as ws:
        hello(ws)
        read_until(ws, is_state)
        queued = ask(ws, "转人工")
        state = [f for f in queued if is_state(f)][-1]
        assert (state["mode"], state["staff_available"]) == ("queued", False)
        ws.send_json({"type": "leave_message", "client_id": "c-left", "text": "我的社保卡丢了，想问能不能邮寄",
                      "phone": "电话 13800001234"})
        frames = read_until(ws, is_state)
    note = messages(frames, "system")[0]["text"]
    assert frames[-1]["mode"] == "bot" and "编号" in note
    number = note.split("编号：")[1][:16]
    with services.engine.connect() as connection:
        ticket = connection.execute(select(TicketRow).where(TicketRow.number == number)).one()
    assert ticket.phone == "13800001234" and "社保卡" in ticket.matter


def test_a_second_tab_and_a_staff_reply_arrive_live(web: TestClient, services: Any) -> None:
    with connect(web) as first:
        token = hello(first)["token"]
        read_until(first, is_state)
        with connect(web) as second:
            hello(second, token=token)
            read_until(second, is_state)
            asked = messages(ask(first, "新生儿怎么办医保"))
            seen = messages(read_until(second, lambda f: f["type"] == "message" and f["author"] == "bot"))
            assert [f["seq"] for f in seen] == [f["seq"] for f in asked]
            conversation = services.conversations.get(asked[0]["conversation_id"])
            reply = Reply("您好，我是工作人员小李。", meta={"staff_name": "小李"})
            services.conversations.record_turns(
                conversation, [TurnRecord("staff", reply.text, payload=reply.to_dict())]
            )
            web.portal.call(WebchatSender(web.app.state.webchat).send, conversation, [reply])
            for ws in (first, second):
                staff = ws.receive_json()
                assert (staff["author"], staff["staff_name"]) == ("staff", "小李")
