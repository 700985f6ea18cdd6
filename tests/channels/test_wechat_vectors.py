"""The official WeChat crypto vectors, byte for byte, through our MessageCrypto and webhook."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from bot.channels.errors import WechatRequestError
from bot.channels.wechat_crypto import MessageCrypto, sign
from bot.channels.wechat_inbound import parse_xml

SHARED = Path(__file__).resolve().parents[3] / "shared"
VECTORS_PATH = SHARED / "reference" / "wechat_test_vectors.json"
if not VECTORS_PATH.exists():  # a checkout without ../shared beside it
    if os.environ.get("CI"):
        pytest.fail(f"{VECTORS_PATH} is missing (CI is set, so this is a failure, not a skip)",
                    pytrace=False)
    pytest.skip(f"the official WeChat vectors are not at {VECTORS_PATH}", allow_module_level=True)
VECTORS = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))["vectors"]


def by_id(vector_id: str) -> dict[str, Any]:
    return next(v for v in VECTORS if v["id"] == vector_id)


def crypto_for(inputs: dict[str, Any]) -> MessageCrypto:
    receiver = inputs.get("corpid") or inputs.get("appid") or "unused"
    return MessageCrypto(inputs["token"], receiver, inputs.get("encoding_aes_key"))


def encrypted_field(inputs: dict[str, Any]) -> str:
    if inputs["body_format"] == "json":
        return str(json.loads(inputs["body"])["Encrypt"])
    return str(parse_xml(inputs["body"])["Encrypt"])


def run(vector: dict[str, Any]) -> dict[str, str]:
    """What our code produces for the vector's operation (raises on a rejection)."""
    inputs, operation = vector["inputs"], vector["operation"]
    if operation == "sign":
        return {"signature": sign(inputs["token"], inputs["timestamp"], inputs["nonce"])}
    crypto = crypto_for(inputs)
    if operation == "encrypt":
        out = {"ciphertext": crypto.encrypt(inputs["plaintext"], inputs["random"])}
        if "timestamp" in inputs:
            out["reply_xml"] = crypto.encrypt_reply(
                inputs["plaintext"], inputs["nonce"], inputs["timestamp"], inputs["random"])
            out["msg_signature"] = sign(inputs["token"], inputs["timestamp"], inputs["nonce"],
                                        out["ciphertext"])
        return out
    if operation == "verify_url" and "msg_signature" in inputs:  # WeCom: encrypted echostr
        crypto.check_signature(inputs["msg_signature"], inputs["timestamp"], inputs["nonce"],
                               inputs["echostr"])
        return {"echo": crypto.decrypt(inputs["echostr"])}
    if operation == "verify_url":  # Official Account: plain echostr
        crypto.check_signature(inputs["signature"], inputs["timestamp"], inputs["nonce"])
        return {"echo": inputs["echostr"]}
    encrypted = encrypted_field(inputs)
    crypto.check_signature(inputs["msg_signature"], inputs["timestamp"], inputs["nonce"], encrypted)
    return {"plaintext": crypto.decrypt(encrypted)}


ACCEPTED = [v for v in VECTORS if v["expected"]["outcome"] == "accept"]
REJECTED = [v for v in VECTORS if v["expected"]["outcome"] == "reject"]


def test_every_vector_is_covered() -> None:
    assert len(ACCEPTED) + len(REJECTED) == len(VECTORS) == 21


@pytest.mark.parametrize("vector", ACCEPTED, ids=[v["id"] for v in ACCEPTED])
def test_accepted_vector_byte_for_byte(vector: dict[str, Any]) -> None:
    produced = run(vector)
    compared = 0
    for name, value in produced.items():
        if name in vector["expected"]:
            assert value.encode("utf-8") == vector["expected"][name].encode("utf-8"), name
            compared += 1
    assert compared >= 1


@pytest.mark.parametrize("vector", REJECTED, ids=[v["id"] for v in REJECTED])
def test_rejected_vector(vector: dict[str, Any]) -> None:
    with pytest.raises(WechatRequestError):
        run(vector)


def test_json_reply_fields_match() -> None:
    vector = by_id("M-oa-encrypt-reply-json")
    produced, expected = run(vector), vector["expected"]["reply_json"]
    assert produced["ciphertext"] == expected["Encrypt"]
    assert produced["msg_signature"] == expected["MsgSignature"]


def test_previous_key_still_decrypts_after_rotation() -> None:
    inputs = by_id("C-oa-compat-decrypt")["inputs"]
    new_key = "A" * 43
    rotated = MessageCrypto(inputs["token"], inputs["appid"], new_key, inputs["encoding_aes_key"])
    assert "abcdteT" in rotated.decrypt(encrypted_field(inputs))


async def test_compat_mode_vector_through_the_webhook(wechat: Any) -> None:
    """Vector C posted to /channels/wechat as WeChat sent it (compatible mode)."""
    inputs = by_id("C-oa-compat-decrypt")["inputs"]

    def clock() -> float:  # the vector's own time
        return float(inputs["timestamp"])

    async with wechat(token=inputs["token"], appid=inputs["appid"],
                      aes_key=inputs["encoding_aes_key"], previous_aes_key=None,
                      clock=clock) as harness:
        params = {"signature": sign(inputs["token"], inputs["timestamp"], inputs["nonce"]),
                  "timestamp": inputs["timestamp"], "nonce": inputs["nonce"],
                  "encrypt_type": "aes", "msg_signature": inputs["msg_signature"]}
        response = await harness.http.post("/channels/wechat", params=params,
                                           content=inputs["body"].encode("utf-8"))
        assert response.status_code == 200
        assert "<Encrypt>" in response.text and "<MsgSignature>" in response.text
        assert harness.handler.calls == ["msg:6054768590064713728"]
        tampered = inputs["body"].replace("VsMSHGuP", "VsISHGuP")
        response = await harness.http.post("/channels/wechat", params=params,
                                           content=tampered.encode("utf-8"))
        assert response.status_code == 403
