"""Tokens and personal ids in query strings never reach the server's logs (bot/redact.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from bot import redact
from server import create_app
from settings import Settings
from tests.bot.test_webchat_sse import events, until
from tests.live_server import serve_in_thread


def test_secret_parameters_are_masked_and_the_rest_kept() -> None:
    line = "/api/webchat/events?site=demo&token=wt_abc.def&last_seq=3&user=u-9&user_hash=f00d"
    assert redact.redact_url(line) == (
        "/api/webchat/events?site=demo&token=***&last_seq=3&user=***&user_hash=***")
    wechat = "/wechat?signature=9a&timestamp=1&nonce=2&openid=oAbC-12_x&encrypt_type=aes"
    assert redact.redact_url(wechat) == (
        "/wechat?signature=9a&timestamp=1&nonce=2&openid=***&encrypt_type=aes")
    # only whole parameter names: a `username` or a token in the path is not a parameter
    assert redact.redact_url("/x?username=a&mytoken=b") == "/x?username=a&mytoken=b"
    assert redact.redact_url("/token=1") == "/token=1"


def test_the_filter_masks_uvicorns_access_and_websocket_records() -> None:
    access = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/api/webchat/events?site=demo&token=secret1", "1.1", 200), None)
    socket = logging.LogRecord(
        "uvicorn.error", logging.INFO, __file__, 1, '%s - "WebSocket %s" [accepted]',
        (("127.0.0.1", 5001), "/api/webchat/ws?site=demo&token=secret2"), None)
    for record in (access, socket):
        assert redact.RedactQuery().filter(record)
        assert "secret" not in record.getMessage() and "token=***" in record.getMessage()


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextmanager
def captured(names: tuple[str, ...] = redact.LOGGERS) -> Iterator[Captured]:
    """Records of uvicorn's loggers, after filters; enter it once uvicorn has configured
    logging (its dictConfig replaces the handlers of those loggers)."""
    handler = Captured()
    loggers = [logging.getLogger(name) for name in names]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def test_the_served_access_log_has_no_visitor_token(settings: Settings, services: Any) -> None:
    """uvicorn at log level info, as `python -m bot serve` runs it, over real HTTP: the
    event stream's reconnect URL carries the visitor's token, which the log must not."""
    with serve_in_thread(create_app(settings, services=services), log_level="info") as url, \
            captured() as access_log, httpx.Client(base_url=url, timeout=60) as http:
        with http.stream("GET", "/api/webchat/events", params={"site": "demo"}) as stream:
            frames = events(stream)
            token = next(frames)[1]["token"]
        params = {"site": "demo", "token": token, "last_seq": 0}
        with http.stream("GET", "/api/webchat/events", params=params) as stream:
            until(events(stream), "state")
        assert http.get("/healthz", params={"openid": "oLinjiang_Citizen42"}).status_code == 200
    logged = "\n".join(access_log.lines)
    assert "/api/webchat/events?site=demo&token=***&last_seq=0" in logged, logged
    assert "/healthz?openid=***" in logged, logged
    assert token not in logged and "oLinjiang_Citizen42" not in logged
