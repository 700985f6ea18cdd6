"""When the database goes away, requests get 503 with a clear message, and the service
recovers when it returns. PostgreSQL is reached through a TCP relay on loopback that the
test cuts and restores, so the outage is real at the socket level."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from server import build_services, create_app
from settings import Settings

pytestmark = pytest.mark.postgres


class TcpRelay:
    """Forwards a loopback port to PostgreSQL; `cut()` drops every connection."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        if self._listener is not None:
            try:  # wakes the accept() blocked in the other thread; close() alone does not
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
        with self._lock:
            for s in self._sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self._sockets.clear()


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
