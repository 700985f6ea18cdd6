"""Bad input on /channels/wechat: each refused with the right status, never a 500 or a hang,
and never handed to the dialogue."""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

import pytest
from wechatpy.crypto.base import WeChatCipher

from tests.channels.wechat_peer import (
    ACCOUNT,
    AES_KEY,
    OLD_AES_KEY,
    TOKEN,
    message_xml,
    new_openid,
    sign,
    text_xml,
)


def reencrypt_with_bad_padding(xml: str, appid: str) -> str:
    """A well-framed message whose PKCS#7 padding bytes disagree (as a forger might send)."""
    key = base64.b64decode(AES_KEY + "=")
    body = b"R" * 16 + len(xml.encode()).to_bytes(4, "big") + xml.encode() + appid.encode()
    pad = 32 - len(body) % 32
    padded = body + bytes([pad]) * (pad - 1) + bytes([pad + 1 if pad < 32 else 1])
    return base64.b64encode(WeChatCipher(key).encrypt(padded)).decode()


def signed_params(encrypted: str | None = None, ts: int | None = None) -> dict[str, str]:
    stamp, nonce = str(ts or int(time.time())), "987654"
    params = {"signature": sign(TOKEN, stamp, nonce), "timestamp": stamp, "nonce": nonce}
    if encrypted is not None:
        params |= {"encrypt_type": "aes", "msg_signature": sign(TOKEN, stamp, nonce, encrypted)}
    return params


def envelope(encrypted: str) -> bytes:
    return (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>").encode()


BOMB = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        '<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName>'
        '<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&lol2;</Content></xml>')
XXE = ('<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
       '<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>'
       '<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>1</MsgId></xml>')


async def status_of(harness: Any, params: dict[str, str], body: Any) -> int:
    response = await asyncio.wait_for(
        harness.http.post("/channels/wechat", params=params, content=body), timeout=5)
    return int(response.status_code)


async def test_signatures_and_timestamps(wechat: Any) -> None:
    async with wechat() as h:
        params, body = h.peer.push(text_xml(new_openid(), "你好"))
        assert await status_of(h, params | {"signature": "0" * 40}, body) == 403
        assert await status_of(h, params | {"msg_signature": "12345"}, body) == 403
        unsigned = {k: v for k, v in params.items() if k != "signature"}
        assert await status_of(h, unsigned, body) == 403
        hour_ago = int(time.time()) - 3600
        stale, stale_body = h.peer.push(text_xml(new_openid(), "你好"), timestamp=hour_ago)
        assert await status_of(h, stale, stale_body) == 403
        other_app = "wx0000000000000000"
        wrong_app, wrong_body = h.peer.push(text_xml(new_openid(), "你好"), appid=other_app)
        assert await status_of(h, wrong_app, wrong_body) == 403
        assert await status_of(h, params | {"nonce": "<x>"}, body) in (400, 403)
        assert h.handler.calls == []


async def test_ciphertext_tampering_and_padding(wechat: Any) -> None:
    async with wechat() as h:
        xml = text_xml(new_openid(), "你好")
        encrypted = h.peer.encrypt(xml, AES_KEY, h.peer.appid)
        raw = bytearray(base64.b64decode(encrypted))
        raw[40] ^= 1
        tampered = base64.b64encode(bytes(raw)).decode()
        params = signed_params(encrypted)  # signature of the original: tampering shows
        assert await status_of(h, params, envelope(tampered)) == 403
        bad_padding = reencrypt_with_bad_padding(xml, h.peer.appid)
        assert await status_of(h, signed_params(bad_padding), envelope(bad_padding)) == 400
        assert await status_of(h, signed_params("bm90IGFlcw=="), envelope("bm90IGFlcw==")) == 400
        assert await status_of(h, signed_params("%%%"), envelope("%%%")) == 400
        assert h.handler.calls == []


@pytest.mark.parametrize("body", [
    BOMB.encode(), XXE.encode(), b"not xml at all", b'{"ToUserName": "gh", "MsgType": "text"}',
    b"<xml><FromUserName>o1</FromUserName></xml>", b"\xff\xfe<xml/>", b"",
    b"<root><ToUserName>gh</ToUserName></root>",
    message_xml("o1", "text", Content="x").replace("<CreateTime>", "<CreateTime>x").encode(),
    message_xml("o1", "text", Content="x").replace("<MsgId>", "<MsgId>abc").encode(),
], ids=["billion-laughs", "xxe", "non-xml", "json", "missing-fields", "not-utf8", "empty",
        "wrong-root", "bad-createtime", "bad-msgid"])
async def test_malformed_bodies_in_plaintext_mode(wechat: Any, body: bytes) -> None:
    async with wechat(safe=False) as h:
        assert await status_of(h, signed_params(), body) == 400
        assert h.handler.calls == []


async def test_dtd_inside_the_encrypted_message(wechat: Any) -> None:
    async with wechat() as h:
        encrypted = h.peer.encrypt(XXE, AES_KEY, h.peer.appid)
        assert await status_of(h, signed_params(encrypted), envelope(encrypted)) == 400
        no_encrypt = b"<xml><ToUserName>gh</ToUserName></xml>"
        params = signed_params("") | {"encrypt_type": "aes"}
        assert await status_of(h, params, no_encrypt) == 400
        assert await status_of(h, signed_params() | {"encrypt_type": "rsa"}, b"<xml/>") == 400


async def test_body_over_one_megabyte(wechat: Any) -> None:
    async with wechat(safe=False) as h:
        big = b"<xml>" + b"a" * 1_100_000 + b"</xml>"
        assert await status_of(h, signed_params(), big) == 413

        async def chunks() -> Any:  # no Content-Length: the limit holds while streaming
            for _ in range(12):
                yield b"a" * 100_000

        assert await status_of(h, signed_params(), chunks()) == 413


async def test_unknown_types_get_a_polite_answer_or_silence(wechat: Any) -> None:
    async with wechat() as h:
        reply = await h.ask(message_xml(new_openid(), "hologram", Payload="x"))
        assert reply is not None and "文字" in reply
        assert await h.ask(message_xml(new_openid(), "event", Event="something_new")) is None
        assert h.handler.calls == []


async def test_url_verification(wechat: Any) -> None:
    async with wechat() as h:
        ts, nonce = str(int(time.time())), "4477"
        params = {"signature": sign(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce,
                  "echostr": "4375120948345356249"}
        response = await h.http.get("/channels/wechat", params=params)
        assert response.status_code == 200 and response.text == "4375120948345356249"
        bad = await h.http.get("/channels/wechat", params=params | {"signature": "f" * 40})
        assert bad.status_code == 403


async def test_previous_aes_key_is_accepted_after_rotation(wechat: Any) -> None:
    async with wechat() as h:
        reply = await h.ask(text_xml(new_openid(), "你好"), aes_key=OLD_AES_KEY)
        assert reply  # answered (the reply itself goes out with the current key)
