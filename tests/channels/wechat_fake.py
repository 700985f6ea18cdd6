"""A fake WeChat API on loopback: a real HTTP server our real httpx client talks to.

It issues stable tokens, accepts customer-service messages and typing, serves media and
takes a menu, and records every call. Per-openid error codes and delays let tests drive
45015 / 45047, token expiry and timeouts.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response


@dataclass
class FakeWechat:
    token: str = "token-1"
    token_requests: int = 0
    sent: list[dict[str, Any]] = field(default_factory=list)
    typing: list[dict[str, Any]] = field(default_factory=list)
    menus: list[dict[str, Any]] = field(default_factory=list)
    errors: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    delays: dict[str, float] = field(default_factory=dict)
    base_url: str = ""

    def texts_to(self, openid: str) -> list[str]:
        return [m["text"]["content"] for m in self.sent if m["touser"] == openid]

    def fail_next(self, openid: str, *codes: int) -> None:
        self.errors[openid].extend(codes)

    def rotate_token(self) -> None:
        """Invalidate the current token, as when another server refreshed it."""
        self.token = f"token-{self.token_requests + 100}"

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/cgi-bin/stable_token")
        async def stable_token(request: Request) -> dict[str, Any]:
            body = await request.json()
            if body.get("grant_type") != "client_credential" or not body.get("secret"):
                return {"errcode": 40125, "errmsg": "invalid appsecret"}
            self.token_requests += 1
            await asyncio.sleep(0.05)  # slow enough that a stampede would show
            return {"access_token": self.token, "expires_in": 7200}

        @app.post("/cgi-bin/message/custom/send")
        async def send(request: Request) -> Response:
            if request.query_params.get("access_token") != self.token:
                return JSONResponse({"errcode": 40001, "errmsg": "invalid credential"})
            body = await request.json()
            openid = body.get("touser", "")
            await asyncio.sleep(self.delays.get(openid, 0))
            if self.errors.get(openid):
                code = self.errors[openid].pop(0)
                return JSONResponse({"errcode": code, "errmsg": f"fake error {code}"})
            self.sent.append(body)
            return JSONResponse({"errcode": 0, "errmsg": "ok"})

        @app.post("/cgi-bin/message/custom/typing")
        async def typing(request: Request) -> dict[str, Any]:
            self.typing.append(await request.json())
            return {"errcode": 0, "errmsg": "ok"}

        @app.post("/cgi-bin/menu/create")
        async def menu(request: Request) -> dict[str, Any]:
            self.menus.append(await request.json())
            return {"errcode": 0, "errmsg": "ok"}

        @app.get("/cgi-bin/media/get")
        async def media(request: Request) -> Response:
            if request.query_params.get("access_token") != self.token:
                return JSONResponse({"errcode": 40001, "errmsg": "invalid credential"})
            if request.query_params.get("media_id") == "missing":
                return JSONResponse({"errcode": 40007, "errmsg": "invalid media_id"})
            return Response(b"\x89PNG fake", media_type="image/png")

        return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeWechatServer:
    """Runs a FakeWechat under uvicorn in a thread, on a free loopback port."""

    def __init__(self, fake: FakeWechat) -> None:
        self.fake = fake
        port = free_port()
        config = uvicorn.Config(fake.app(), host="127.0.0.1", port=port, log_level="warning",
                                lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        fake.base_url = f"http://127.0.0.1:{port}"

    def __enter__(self) -> FakeWechat:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake WeChat server did not start")
            time.sleep(0.02)
        return self.fake

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
