"""WeChat callback crypto: SHA-1 signatures and the AES envelope of safe mode.

wechatpy does the AES itself (AES-256-CBC, IV = key[:16]) and the encrypt framing
(random16 | msg_len | msg | appid, PKCS#7 to 32-byte blocks). We add what it leaves out:
constant-time comparisons, strict padding and length checks on decrypt (AES-CBC is
malleable and wechatpy does not validate padding), and the previous EncodingAESKey,
still accepted after a rotation while WeChat switches over.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import string

from wechatpy.crypto import PrpCrypto
from wechatpy.crypto.base import WeChatCipher

from bot.channels.errors import BadSignature, UndecryptableMessage

BLOCK = 32  # WeChat pads to 32 bytes, not AES's 16
RANDOM_ALPHABET = string.ascii_letters + string.digits
REPLY_TEMPLATE = """<xml>
<Encrypt><![CDATA[{encrypt}]]></Encrypt>
<MsgSignature><![CDATA[{signature}]]></MsgSignature>
<TimeStamp>{timestamp}</TimeStamp>
<Nonce><![CDATA[{nonce}]]></Nonce>
</xml>"""


def sign(*parts: str) -> str:
    """WeChat's signature: SHA-1 over the parts sorted and joined."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def decode_aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key behind a 43-character EncodingAESKey."""
    if len(encoding_aes_key) != 43:
        raise ValueError("EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as exc:
        raise ValueError("EncodingAESKey is not base64") from exc
    if len(key) != 32:
        raise ValueError("EncodingAESKey must decode to 32 bytes")
    return key


class _FixedRandomCrypto(PrpCrypto):  # type: ignore[misc]
    def __init__(self, key: bytes, random16: str) -> None:
        super().__init__(key)
        self._random16 = random16

    def get_random_string(self) -> str:
        return self._random16


class MessageCrypto:
    """Signatures and AES envelopes for one account (appid) and its token and keys."""

    def __init__(
        self,
        token: str,
        appid: str,
        aes_key: str | None = None,
        previous_aes_key: str | None = None,
    ) -> None:
        if not token or not appid:
            raise ValueError("token and appid are required")
        self.token = token
        self.appid = appid
        keys = [k for k in (aes_key, previous_aes_key) if k]
        self._keys = [decode_aes_key(k) for k in keys]

    @property
    def can_decrypt(self) -> bool:
        return bool(self._keys)

    def check_signature(self, signature: str, timestamp: str, nonce: str, *extra: str) -> None:
        """`signature` over token, timestamp, nonce (and the Encrypt text for msg_signature)."""
        if not same(signature, sign(self.token, timestamp, nonce, *extra)):
            raise BadSignature("signature mismatch")

    def decrypt(self, ciphertext: str) -> str:
        """The plaintext of an Encrypt field, trying the current key, then the previous one."""
        if not self._keys:
            raise UndecryptableMessage("no EncodingAESKey configured")
        wrong_receiver = False
        for key in self._keys:
            try:
                return self._open(key, ciphertext)
            except BadSignature:
                wrong_receiver = True
            except UndecryptableMessage:
                continue
        if wrong_receiver:
            raise BadSignature("message is for another appid")
        raise UndecryptableMessage("cannot decrypt with any configured key")

    def _open(self, key: bytes, ciphertext: str) -> str:
        try:
            raw = base64.b64decode(ciphertext, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise UndecryptableMessage("Encrypt is not base64") from exc
        if len(raw) < BLOCK or len(raw) % 16:
            raise UndecryptableMessage("bad ciphertext length")
        plain: bytes = WeChatCipher(key).decrypt(raw)
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise UndecryptableMessage("bad padding")
        content = plain[16:-pad]
        length = int.from_bytes(content[:4], "big")
        if len(content) < 4 or length > len(content) - 4:
            raise UndecryptableMessage("bad message length")
        if not hmac.compare_digest(content[4 + length :], self.appid.encode("utf-8")):
            raise BadSignature("appid mismatch")
        try:
            return content[4 : 4 + length].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UndecryptableMessage("message is not UTF-8") from exc

    def encrypt(self, plaintext: str, random16: str | None = None) -> str:
        """Base64 ciphertext with the current key; `random16` is fixed only in tests."""
        if not self._keys:
            raise ValueError("no EncodingAESKey configured")
        random16 = random16 or "".join(secrets.choice(RANDOM_ALPHABET) for _ in range(16))
        crypto = _FixedRandomCrypto(self._keys[0], random16)
        encrypted: bytes = crypto.encrypt(plaintext, self.appid)
        return encrypted.decode("ascii")

    def encrypt_reply(
        self, plaintext: str, nonce: str, timestamp: str, random16: str | None = None
    ) -> str:
        """The safe-mode reply envelope, byte for byte as WeChat's samples render it."""
        encrypted = self.encrypt(plaintext, random16)
        signature = sign(self.token, timestamp, nonce, encrypted)
        return REPLY_TEMPLATE.format(
            encrypt=encrypted, signature=signature, timestamp=timestamp, nonce=nonce
        )
