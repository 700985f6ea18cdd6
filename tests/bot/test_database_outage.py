"""When the database goes away, requests get 503 with a clear message, and the service
recovers when it returns. PostgreSQL is reached through a TCP relay on loopback that the
test cuts and restores, so the outage is real at the socket level."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

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
