"""Our async WeChat API client against the fake WeChat server on loopback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from bot.channels.errors import WechatApiError, WechatUnreachable
from bot.channels.wechat_api import WechatApiClient
from tests.channels.wechat_fake import FakeWechat, free_port
from tests.channels.wechat_peer import APPID, SECRET, new_openid


@pytest.fixture
async def client(fake_wechat: FakeWechat) -> AsyncIterator[WechatApiClient]:
    api = WechatApiClient(APPID, SECRET, base_url=fake_wechat.base_url)
    yield api
    await api.aclose()


async def test_one_token_request_for_a_burst(
    client: WechatApiClient, fake_wechat: FakeWechat
) -> None:
    before = fake_wechat.token_requests
    tokens = await asyncio.gather(*(client.access_token() for _ in range(20)))
    assert len(set(tokens)) == 1 and fake_wechat.token_requests == before + 1


async def test_invalid_token_is_refreshed_once_and_the_call_retried(
    client: WechatApiClient, fake_wechat: FakeWechat
) -> None:
    openid = new_openid()
    await client.send_text(openid, "第1条")
    fake_wechat.rotate_token()
    before = fake_wechat.token_requests
    await asyncio.gather(*(client.send_text(openid, f"第{n}条") for n in range(2, 6)))
    assert fake_wechat.token_requests == before + 1
    assert sorted(fake_wechat.texts_to(openid)) == sorted(f"第{n}条" for n in range(1, 6))


async def test_error_codes_typing_media_and_menu(
    client: WechatApiClient, fake_wechat: FakeWechat
) -> None:
    openid = new_openid()
    fake_wechat.fail_next(openid, 45047)
    with pytest.raises(WechatApiError) as refused:
        await client.send_text(openid, "x")
    assert refused.value.errcode == 45047
    await client.typing(openid)
    assert fake_wechat.typing[-1] == {"touser": openid, "command": "Typing"}
    assert await client.get_media("m1") == b"\x89PNG fake"
    with pytest.raises(WechatApiError):
        await client.get_media("missing")
    await client.create_menu({"button": [{"type": "click", "name": "帮助", "key": "HELP"}]})
    assert fake_wechat.menus[-1]["button"][0]["name"] == "帮助"  # UTF-8, not \\u escapes


async def test_unreachable_says_whether_it_may_have_been_sent() -> None:
    api = WechatApiClient(APPID, SECRET, base_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(WechatUnreachable) as down:
        await api.send_text("o1", "x")
    assert down.value.maybe_sent is False
    await api.aclose()


async def test_access_token_never_reaches_the_logs(
    client: WechatApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="httpx"):
        await client.send_text(new_openid(), "x")
    token = await client.access_token()
    assert caplog.records and all(token not in r.getMessage() for r in caplog.records)
