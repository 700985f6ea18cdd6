"""The channel wired into an app the way server.py does it: routes added inside the app's
lifespan once the services exist, the outbox worker running, the menu pushed from the CLI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from bot.channels.wechat import WechatChannel, WechatConfig, mount_wechat
from bot.channels.wechat_api import WechatApiClient
from bot.channels.wechat_menu import load_menu, publish_menu
from tests.channels.wechat_fake import FakeWechat
from tests.channels.wechat_peer import (
    AES_KEY,
    APPID,
    SECRET,
    TOKEN,
    WechatPeer,
    new_openid,
    text_xml,
)


def create_app(stack: Any, fake: FakeWechat) -> FastAPI:
    """What server.create_app does with the BOT_WECHAT_* settings present."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = stack  # build_services(settings) in server.py
        config = WechatConfig(token=TOKEN, appid=APPID, aes_key=AES_KEY, verified=True)
        api = WechatApiClient(APPID, SECRET, base_url=fake.base_url)
        channel = WechatChannel(config, stack.bot, stack.conversations, stack.engine, api)
        async with mount_wechat(app, channel):
            app.state.wechat_sender = channel.sender
            yield

    return FastAPI(lifespan=lifespan)


async def test_routes_added_in_the_lifespan_answer(stack: Any, fake_wechat: FakeWechat) -> None:
    app = create_app(stack, fake_wechat)
    peer = WechatPeer()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            params, body = peer.push(text_xml(new_openid(), "公积金怎么提取"))
            response = await http.post("/channels/wechat", params=params, content=body)
        reply = peer.open_reply(response)
        assert reply is not None and "公积金" in reply
        assert app.state.wechat_sender is not None


def test_menu_push_command(fake_wechat: FakeWechat) -> None:
    sent = publish_menu(APPID, SECRET, fake_wechat.base_url)
    assert sent == load_menu().wechat_json() == fake_wechat.menus[-1]


async def test_a_second_start_of_the_same_app_serves_the_new_channel(
    stack: Any, fake_wechat: FakeWechat
) -> None:
    app = create_app(stack, fake_wechat)
    peer = WechatPeer()
    for _ in range(2):
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                params, body = peer.push(text_xml(new_openid(), "身份证丢了怎么补办"))
                response = await http.post("/channels/wechat", params=params, content=body)
            assert "身份证" in (peer.open_reply(response) or "")
    wechat_routes = [r for r in app.routes if getattr(r, "path", "") == "/channels/wechat"]
    assert len(wechat_routes) <= 2  # GET and POST, included once
