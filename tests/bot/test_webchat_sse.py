"""The web chat's fallback transport (Server-Sent Events + POST) and our static pages, over
real HTTP against uvicorn on a free port, on the real stack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bot.channels.webchat_bench import closed_loop
from server import create_app
from settings import Settings
from tests.live_server import serve_in_thread

PORTAL = "https://www.linjiang.example.gov.cn"


@pytest.fixture(scope="module")
def live(settings: Settings, services: Any) -> Iterator[str]:
    configured = settings.model_copy(update={
        "widget_allowed_origins": {"demo": [PORTAL]}, "widget_burst": 1000,
        "widget_per_minute": 1000,
    })
    with serve_in_thread(create_app(configured, services=services)) as url:
        yield url


def events(response: httpx.Response) -> Iterator[tuple[str | None, dict[str, Any]]]:
    """(id, frame) for each event of a text/event-stream response."""
    event_id = None
    for line in response.iter_lines():
        if line.startswith("id: "):
            event_id = line[4:]
        elif line.startswith("data: "):
            yield event_id, json.loads(line[6:])
            event_id = None


def until(stream: Iterator[tuple[str | None, dict[str, Any]]], kind: str, author: str | None = None
          ) -> list[tuple[str | None, dict[str, Any]]]:
    seen = []
    for item in stream:
        seen.append(item)
        frame = item[1]
        if frame["type"] == kind and author in (None, frame.get("author")):
            return seen
    raise AssertionError(f"stream ended before a {kind} frame: {seen}")


def test_the_event_stream_answers_questions_posted_beside_it(live: str) -> None:
    with httpx.Client(base_url=live, timeout=60) as http:
        with http.stream("GET", "/api/webchat/events", params={"site": "demo"}) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            frames = events(stream)
            _, welcome = next(frames)
            token = welcome["token"]
            until(frames, "state")
            frame = {"type": "message", "client_id": "s-1", "text": "身份证丢了怎么补办"}
            sent = http.post("/api/webchat/send", json={"site": "demo", "token": token, "frame": frame})
            assert sent.status_code == 202, sent.text
            got = until(frames, "message", "bot")
        citizen = [(i, f) for i, f in got if f["type"] == "message" and f["author"] == "citizen"]
        bot_id, answer = got[-1]
        assert citizen[0][1]["client_id"] == "s-1" and citizen[0][0] == str(citizen[0][1]["seq"])
        assert answer["card"]["entry_id"] == "guide-id-card-reissue" and bot_id == str(answer["seq"])
        # EventSource reconnects with Last-Event-ID: the stream resumes after it
        resume = {"Last-Event-ID": citizen[0][0]}
        params = {"site": "demo", "token": token}
        with http.stream("GET", "/api/webchat/events", params=params, headers=resume) as stream:
            frames = events(stream)
            assert next(frames)[1]["type"] == "welcome"
            resumed = [f for _, f in until(frames, "state") if f["type"] == "message"]
        assert [f["seq"] for f in resumed] == [answer["seq"]]
        # direct answers (feedback_ok) arrive on the stream too
        with http.stream("GET", "/api/webchat/events", params={**params, "last_seq": answer["seq"]}) as stream:
            frames = events(stream)
            until(frames, "state")
            feedback = {"type": "feedback", "seq": answer["seq"], "helpful": False}
            sent = http.post("/api/webchat/send", json={"site": "demo", "token": token, "frame": feedback})
            assert sent.status_code == 202
            assert until(frames, "feedback_ok")[-1][1]["seq"] == answer["seq"]


def test_post_refusals_are_clear_json_errors(live: str) -> None:
    with httpx.Client(base_url=live, timeout=30) as http:
        with http.stream("GET", "/api/webchat/events", params={"site": "demo"}) as stream:
            token = next(events(stream))[1]["token"]

        def post(body: Any, **headers: str) -> httpx.Response:
            return http.post("/api/webchat/send", content=json.dumps(body), headers=headers)

        long = {"type": "message", "client_id": "s-long", "text": "长" * 2001}
        too_long = post({"site": "demo", "token": token, "frame": long})
        assert too_long.status_code == 413
        assert too_long.json()["error"] == "too_long" and too_long.json()["client_id"] == "s-long"
        assert post({"site": "demo", "token": token[:-2] + "xx", "frame": long}).status_code == 401
        assert post({"site": "demo", "token": token, "frame": {"type": "hello"}}).status_code == 400
        assert post({"site": "demo"}).status_code == 400
        bad = http.post("/api/webchat/send", content=b"\xff{", headers={"content-type": "text/plain"})
        assert bad.status_code == 400 and bad.json()["error"] == "bad_frame"
        foreign = post({"site": "demo", "token": token, "frame": long}, origin="https://evil.example.com")
        assert foreign.status_code == 403 and "access-control-allow-origin" not in foreign.headers


def test_cors_is_granted_to_allowed_origins_only(live: str) -> None:
    with httpx.Client(base_url=live, timeout=30) as http:
        ok = http.options("/api/webchat/send", headers={"origin": PORTAL,
                                                       "access-control-request-method": "POST"})
        assert ok.status_code == 204 and ok.headers["access-control-allow-origin"] == PORTAL
        evil = http.options("/api/webchat/send", headers={"origin": "https://evil.example.com"})
        assert evil.status_code == 403
        with http.stream("GET", "/api/webchat/events", params={"site": "demo"},
                         headers={"origin": PORTAL}) as stream:
            assert stream.headers["access-control-allow-origin"] == PORTAL
        refused = http.get("/api/webchat/events", params={"site": "demo"},
                           headers={"origin": "https://evil.example.com"})
        assert refused.status_code == 403 and refused.json()["error"] == "refused"


def test_our_pages_carry_a_strict_csp_and_cache_validators(live: str) -> None:
    with httpx.Client(base_url=live, timeout=30) as http:
        page = http.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert http.head("/").status_code == 200  # monitors and link checkers ask with HEAD
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert 'src="/widget.js"' in page.text and "data-site=" in page.text
        script = http.get("/widget.js")
        assert script.status_code == 200 and "javascript" in script.headers["content-type"]
        assert script.headers["x-content-type-options"] == "nosniff"
        again = http.get("/widget.js", headers={"if-none-match": script.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
        assert http.get("/widget.css").status_code == 200
        for path in ("/static/..%2Fwebchat.py", "/static/.hidden", "/static/nosuch.css",
                     "/static/webchat.py"):
            assert http.get(path).status_code == 404, path


async def test_the_widget_benchmark_drives_real_conversations(live: str) -> None:
    ws_url = live.replace("http://", "ws://") + "/ws/chat?site=demo"
    step = await closed_loop(ws_url, ["身份证丢了怎么补办", "公积金怎么提取"], 2, 0.5)
    assert step["messages"] >= 2 and step["p50_ms"] > 0
