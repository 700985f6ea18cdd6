"""The WeChat channel on the real assistant, built once per session on the demo content,
and a fake WeChat API on loopback reached through our real httpx client.

The stack prefers the core's `server.build_services` (e5 model, FAISS, intent model). While
the core does not build yet (or with BOT_WECHAT_TEST_STACK=plumbing), the same `Bot` is
built from the real stores over the demo content with a small deterministic classifier and
retriever (`plumbing.py`), so the channel still runs end to end.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from bot.channels.wechat import WechatChannel, WechatConfig
from bot.channels.wechat_api import WechatApiClient
from bot.conversations import ConversationStore
from bot.dialogue import Outcome
from bot.messages import InboundMessage
from knowledge_base.store import KnowledgeBaseStore
from tests.channels.wechat_fake import FakeWechat, FakeWechatServer
from tests.channels.wechat_peer import AES_KEY, APPID, OLD_AES_KEY, SECRET, TOKEN, WechatPeer
from tests.prebuilt import copy_prebuilt


@dataclass
class Stack:
    bot: Any  # bot.dialogue.Bot
    conversations: ConversationStore
    kb: KnowledgeBaseStore
    engine: Engine


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Stack:
    """BOT_WECHAT_TEST_STACK: "real" (the core's services, or fail), "plumbing", or unset:
    the core's services when they build, else plumbing (said on stderr)."""
    mode = os.environ.get("BOT_WECHAT_TEST_STACK", "auto")
    data_dir = tmp_path_factory.mktemp("wechat")
    if mode == "plumbing":
        return _plumbing_stack(data_dir)
    try:
        return _real_stack(copy_prebuilt(request.getfixturevalue("prebuilt_dir"), data_dir))
    except Exception as exc:
        if mode == "real":
            raise
        print(f"\nWeChat channel tests: the core stack did not build ({exc!r}); "
              "using the plumbing stack", file=sys.stderr)
        return _plumbing_stack(tmp_path_factory.mktemp("wechat-plumbing"))


def _real_stack(data_dir: Path) -> Stack:
    from server import build_services, open_database
    from settings import Settings

    settings = Settings(data_dir=data_dir)
    services = build_services(settings)
    return Stack(services.bot, services.conversations, services.kb, open_database(settings))


def _plumbing_stack(data_dir: Path) -> Stack:
    from bot.dialogue import Bot
    from bot.handoff import HandoffService
    from bot.router import Router
    from knowledge_base.content_loader import load_content_dir
    from knowledge_base.db import create_engine_for, migrate, sqlite_url
    from tests.channels.plumbing import KeywordClassifier, SparseRetriever

    engine = create_engine_for(sqlite_url(data_dir))
    migrate(engine)
    kb = KnowledgeBaseStore(engine)
    kb.upsert_many(load_content_dir(Path("knowledge_base/content")), "demo-content")
    conversations = ConversationStore(engine)
    router = Router(KeywordClassifier(), SparseRetriever(list(kb.iter_all())))
    return Stack(Bot(conversations, router, kb, HandoffService(conversations)), conversations,
                 kb, engine)


@pytest.fixture(scope="session")
def fake_wechat() -> Iterator[FakeWechat]:
    with FakeWechatServer(FakeWechat()) as fake:
        yield fake


@dataclass
class CountingHandler:
    """The real bot, optionally slowed down, counting the messages it was handed."""

    bot: Any
    delay_s: float = 0.0
    calls: list[str] = field(default_factory=list)

    def handle(self, msg: InboundMessage) -> Outcome:
        self.calls.append(msg.external_id or "")
        time.sleep(self.delay_s)
        outcome: Outcome = self.bot.handle(msg)
        return outcome


@dataclass
class Harness:
    channel: WechatChannel
    http: httpx.AsyncClient
    peer: WechatPeer
    handler: CountingHandler
    api: WechatApiClient

    async def post(self, xml: str, **push: Any) -> httpx.Response:
        params, body = self.peer.push(xml, **push)
        return await self.http.post(self.channel.config.path, params=params, content=body)

    async def ask(self, xml: str, **push: Any) -> str | None:
        return self.peer.open_reply(await self.post(xml, **push))


@pytest.fixture
def wechat(stack: Stack, fake_wechat: FakeWechat) -> Any:
    """Factory: `async with wechat(verified=True, delay_s=6) as harness`."""

    @asynccontextmanager
    async def make(
        delay_s: float = 0.0, safe: bool = True, **config: Any
    ) -> AsyncIterator[Harness]:
        options = {"clock": config.pop("clock")} if "clock" in config else {}
        cfg = WechatConfig(token=config.pop("token", TOKEN), appid=config.pop("appid", APPID),
                           aes_key=config.pop("aes_key", AES_KEY if safe else None),
                           previous_aes_key=config.pop("previous_aes_key", OLD_AES_KEY), **config)
        handler = CountingHandler(stack.bot, delay_s)
        api = WechatApiClient(APPID, SECRET, base_url=fake_wechat.base_url)
        channel = WechatChannel(cfg, handler, stack.conversations, stack.engine, api, **options)
        app = FastAPI()
        app.include_router(channel.router)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        peer = WechatPeer(cfg.token, cfg.appid, cfg.aes_key)
        async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=transport, base_url="http://wechat.test", timeout=30
        ) as http:
            yield Harness(channel, http, peer, handler, api)
            await channel.scheduler.drain()
        await api.aclose()

    return make
