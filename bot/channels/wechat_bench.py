"""Webhook benchmark for `make bench`: safe-mode latency with concurrent citizens, and the
longest response while the dialogue is slowed down (it must stay under 4.5 s).

Runs the real channel in process over ASGI, signing and encrypting like WeChat does.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import Engine

from bot.channels.wechat import WechatChannel, WechatConfig
from bot.channels.wechat_answer import MessageHandler
from bot.channels.wechat_api import WechatApiClient
from bot.channels.wechat_crypto import MessageCrypto, sign
from bot.conversations import ConversationStore
from bot.dialogue import Outcome
from bot.messages import InboundMessage

TOKEN, APPID = "benchtoken", "wxbench000000001"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
QUESTIONS = ("公积金怎么提取", "身份证丢了怎么补办", "新生儿怎么办医保", "营业执照怎么办",
             "居住证怎么办理", "护照过期了怎么换")


@dataclass
class SlowHandler:
    handler: MessageHandler
    delay_s: float

    def handle(self, msg: InboundMessage) -> Outcome:
        time.sleep(self.delay_s)
        return self.handler.handle(msg)


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


async def bench_webhook(
    handler: MessageHandler, conversations: ConversationStore, engine: Engine,
    citizens: int = 20, messages_each: int = 5, slow_s: float = 10.0,
) -> dict[str, Any]:
    """p50 / p99 of safe-mode messages, then the longest response with a slowed dialogue."""
    latencies = await _run(handler, conversations, engine, citizens, messages_each)
    slowed = await _run(SlowHandler(handler, slow_s), conversations, engine, citizens, 1)
    return {
        "citizens": citizens,
        "messages": len(latencies),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "slowed_dialogue_s": slow_s,
        "slowed_longest_response_s": round(max(slowed), 3),
        "within_wechat_window": max(slowed) < 4.5,
    }


async def _run(handler: MessageHandler, conversations: ConversationStore, engine: Engine,
               citizens: int, messages_each: int) -> list[float]:
    config = WechatConfig(token=TOKEN, appid=APPID, aes_key=AES_KEY, verified=True,
                          rate_limit=10_000)
    api = _discarding_api()
    channel = WechatChannel(config, handler, conversations, engine, api)
    app = FastAPI()
    app.include_router(channel.router)
    crypto = MessageCrypto(TOKEN, APPID, AES_KEY)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=transport, base_url="http://bench", timeout=30
    ) as http:
        runs = [_citizen(http, crypto, n, messages_each) for n in range(citizens)]
        results = await asyncio.gather(*runs)
    await api.aclose()
    return [latency for citizen in results for latency in citizen]


async def _citizen(http: httpx.AsyncClient, crypto: MessageCrypto, number: int,
                   count: int) -> list[float]:
    openid = f"obench{number}{uuid.uuid4().hex[:12]}"
    latencies = []
    for index in range(count):
        params, body = _push(crypto, openid, QUESTIONS[(number + index) % len(QUESTIONS)])
        started = time.perf_counter()
        response = await http.post("/channels/wechat", params=params, content=body)
        latencies.append(time.perf_counter() - started)
        response.raise_for_status()
    return latencies


def _discarding_api() -> WechatApiClient:
    """An API client whose WeChat accepts and drops everything: the benchmark measures the
    webhook, not WeChat's API."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("stable_token"):
            return httpx.Response(200, json={"access_token": "bench", "expires_in": 7200})
        return httpx.Response(200, json={"errcode": 0, "errmsg": "ok"})

    return WechatApiClient(APPID, "bench", transport=httpx.MockTransport(answer))


def _push(crypto: MessageCrypto, openid: str, text: str) -> tuple[dict[str, str], bytes]:
    stamp, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    msg_id = uuid.uuid4().int % 10**19
    xml = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
           f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
           f"<CreateTime>{stamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
           f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>")
    encrypted = crypto.encrypt(xml)
    params = {"signature": sign(TOKEN, stamp, nonce), "timestamp": stamp, "nonce": nonce,
              "encrypt_type": "aes", "msg_signature": sign(TOKEN, stamp, nonce, encrypted)}
    body = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
    return params, body.encode("utf-8")
