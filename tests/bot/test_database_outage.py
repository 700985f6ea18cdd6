"""When the database goes away, requests get 503 with a clear message, and the service
recovers when it returns. PostgreSQL is reached through a TCP relay on loopback that the
test cuts and restores, so the outage is real at the socket level."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from bot.channels.webchat_identity import TokenSigner
from server import build_services, create_app
from settings import Settings
from tests.tcp_relay import TcpRelay

pytestmark = pytest.mark.postgres


@pytest.fixture
def relay(pg_database: str) -> Iterator[tuple[TcpRelay, str]]:
    url = make_url(pg_database)
    relay = TcpRelay((url.host or "127.0.0.1", url.port or 5432))
    relay.start()
    yield relay, url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    relay.cut()


async def test_database_outage_gives_503_and_recovers(relay, data_dir: Path):
    tcp, url = relay
    settings = Settings(data_dir=data_dir, database_url=url, api_token="t")
    services = build_services(settings)
    app = create_app(settings, services=services)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    body = {"sender": "outage-citizen", "message": "身份证丢了怎么补办"}
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=transport, base_url="http://test"
    ) as client:
        assert (await client.post("/api/chat", json=body)).status_code == 200
        tcp.cut()
        down = await client.post("/api/chat", json=body)
        assert down.status_code == 503
        assert "数据库" in down.json()["detail"]
        assert "Traceback" not in down.text
        assert (await client.get("/readyz")).status_code == 503
        tcp.start()  # same port: the database is back
        up = await client.post("/api/chat", json=body)
        assert up.status_code == 200
        assert up.json()[0]["custom"]["entry_ids"] == ["guide-id-card-reissue"]
        assert (await client.get("/readyz")).status_code == 200
    history = services.conversations.history(services.conversations.open("rest", "outage-citizen").id)
    assert [t.author for t in history].count("citizen") == 2  # nothing half-written
    services.engine.dispose()


def test_web_chat_keeps_the_message_through_an_outage(relay, data_dir: Path):
    tcp, url = relay
    settings = Settings(data_dir=data_dir, database_url=url, api_token="t")
    services = build_services(settings)
    frame = {"type": "message", "client_id": "outage-1", "text": "公积金怎么提取"}
    with TestClient(create_app(settings, services=services)) as web, web.websocket_connect(
        "/ws/chat?site=demo", headers={"origin": "http://testserver"}
    ) as ws:
        ws.send_json({"type": "hello", "site": "demo", "last_seq": 0})
        token = ws.receive_json()["token"]
        assert ws.receive_json()["type"] == "state"
        tcp.cut()
        ws.send_json(frame)
        refused = ws.receive_json()
        while refused["type"] == "typing":  # the bot started, then found no database
            refused = ws.receive_json()
        assert (refused["code"], refused["client_id"]) == ("unavailable", "outage-1")
        assert "没有丢失" in refused["message"]
        tcp.start()
        ws.send_json(frame)  # the widget resends with the same client id
        answered = [ws.receive_json() for _ in range(4)]  # typing on/off, citizen, bot
    kinds = [(f["type"], f.get("author")) for f in answered]
    assert kinds[2:] == [("message", "citizen"), ("message", "bot")], kinds
    user_id = "demo:" + TokenSigner.subject_of(token)
    turns = services.conversations.user_history("webchat", user_id)
    assert [t.author for t in turns] == ["citizen", "bot"]
    services.engine.dispose()
