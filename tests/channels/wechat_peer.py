"""Plays WeChat's servers against our webhook: builds, signs and encrypts pushes with
wechatpy (an independent implementation), and opens the replies."""

from __future__ import annotations

import base64
import itertools
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import xmltodict
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.utils import WeChatSigner

TOKEN = "channeltoken42"
APPID = "wx5a1e7c0de0000001"
SECRET = "not-a-secret"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OLD_AES_KEY = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
ACCOUNT = "gh_0123456789ab"
_msg_ids = itertools.count(7_000_000_000_000_000_000)


def new_openid(tag: str = "") -> str:
    return f"o{tag}{uuid.uuid4().hex[:20]}"


def sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return str(signer.signature)


def message_xml(openid: str, msg_type: str, create_time: int | None = None,
                msg_id: int | None = None, account: str = ACCOUNT, **fields: Any) -> str:
    """A push as WeChat renders it; events get no MsgId."""
    nodes = [f"<ToUserName><![CDATA[{account}]]></ToUserName>",
             f"<FromUserName><![CDATA[{openid}]]></FromUserName>",
             f"<CreateTime>{create_time or int(time.time())}</CreateTime>",
             f"<MsgType><![CDATA[{msg_type}]]></MsgType>"]
    nodes += [f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items()]
    if msg_type != "event":
        nodes.append(f"<MsgId>{msg_id or next(_msg_ids)}</MsgId>")
    return "<xml>" + "".join(nodes) + "</xml>"


def text_xml(openid: str, content: str, msg_id: int | None = None) -> str:
    return message_xml(openid, "text", msg_id=msg_id, Content=content)


def event_xml(openid: str, event: str, create_time: int | None = None, **fields: Any) -> str:
    return message_xml(openid, "event", create_time=create_time, Event=event, **fields)


@dataclass
class WechatPeer:
    token: str = TOKEN
    appid: str = APPID
    aes_key: str | None = AES_KEY  # None: plaintext mode

    def push(self, xml: str, timestamp: int | None = None, nonce: str = "1320562132",
             appid: str | None = None, aes_key: str | None = None) -> tuple[dict[str, str], bytes]:
        """Query and body of a push; safe mode when the peer has a key."""
        ts = str(timestamp or int(time.time()))
        params = {"signature": sign(self.token, ts, nonce), "timestamp": ts, "nonce": nonce,
                  "openid": "ignored"}
        key = aes_key or self.aes_key
        if key is None:
            return params, xml.encode("utf-8")
        encrypted = self.encrypt(xml, key, appid or self.appid)
        params |= {"encrypt_type": "aes", "msg_signature": sign(self.token, ts, nonce, encrypted)}
        body = (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
                f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
        return params, body.encode("utf-8")

    @staticmethod
    def encrypt(xml: str, key: str, appid: str) -> str:
        raw = base64.b64decode(key + "=")
        return str(PrpCrypto(raw).encrypt(xml, appid).decode("ascii"))

    def open_reply(self, response: httpx.Response) -> str | None:
        """The Content of a passive reply (decrypted and checked by wechatpy); None for success."""
        assert response.status_code == 200, response.text
        if response.text == "success":
            return None
        xml = response.text
        if self.aes_key is not None:
            envelope = xmltodict.parse(xml)["xml"]
            crypto = WeChatCrypto(self.token, self.aes_key, self.appid)
            xml = crypto.decrypt_message(xml, envelope["MsgSignature"], envelope["TimeStamp"],
                                         envelope["Nonce"])
        reply = xmltodict.parse(xml)["xml"]
        assert reply["MsgType"] == "text"
        return str(reply["Content"])
