"""Settings of the WeChat channel, validated when built (server.py fills them from BOT_WECHAT_*)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.channels.wechat_crypto import MessageCrypto
from bot.channels.wechat_menu import DEFAULT_MENU_PATH
from bot.messages import MAX_MESSAGE_CHARS

_TOKEN = re.compile(r"[A-Za-z0-9]{3,32}")  # WeChat's own rule for the Token


@dataclass(frozen=True)
class WechatConfig:
    token: str
    appid: str
    aes_key: str | None = None  # EncodingAESKey; None: plaintext mode only
    previous_aes_key: str | None = None  # still accepted after a rotation
    verified: bool = False  # the account may use the customer-service message API
    original_id: str | None = None  # gh_...; when set, ToUserName must match
    path: str = "/channels/wechat"
    reply_deadline_s: float = 4.3
    hold_s: float = 5.5
    timestamp_window_s: int = 300
    rate_limit: int = 20
    rate_window_s: float = 60.0
    max_body_bytes: int = 1_000_000
    max_message_chars: int = MAX_MESSAGE_CHARS
    menu_path: Path = DEFAULT_MENU_PATH
    answer_threads: int = 32  # dialogue calls in flight at once (slow ones included)

    def __post_init__(self) -> None:
        if not _TOKEN.fullmatch(self.token or ""):
            raise ValueError("WeChat token must be 3-32 letters or digits")
        if not self.appid:
            raise ValueError("WeChat appid is required")
        if not 0 < self.reply_deadline_s < 5 <= self.hold_s:
            raise ValueError("need 0 < reply_deadline_s < 5 <= hold_s")
        MessageCrypto(self.token, self.appid, self.aes_key, self.previous_aes_key)
