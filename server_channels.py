"""The citizen channels (web chat, WeChat) and the staff console, built from the settings
and run for the app's lifetime. Part of `server.py`'s wiring, and like it a reader of
`Settings`; every piece it builds takes plain arguments."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from pydantic import SecretStr

from bot.api.deps import Services
from bot.channels.webchat import Limits, WebchatSender, WebchatService
from bot.channels.webchat_identity import SitePolicy, TokenSigner, load_or_create_secret
from bot.channels.wechat import WechatChannel, WechatConfig, mount_wechat
from bot.channels.wechat_api import WechatApiClient
from bot.console.desk import SlaPolicy
from bot.console.hours import ServiceHours
from bot.console.sla import run_sweeps
from bot.console.wiring import Console, build_console
from settings import Settings

log = logging.getLogger("wenzheng")


@asynccontextmanager
async def serve_channels(app: FastAPI, settings: Settings, services: Services) -> AsyncIterator[None]:
    """Console, web chat and (when configured) WeChat on `app.state`, with their workers."""
    app.state.senders = {}  # OutboundSender per channel, for staff replies
    app.state.console = console = build_console_for(settings, services, app.state.senders)
    app.state.webchat = build_webchat(settings, services, console.roster)
    app.state.senders["webchat"] = WebchatSender(app.state.webchat)
    console.presence_listeners.append(app.state.webchat.staff_changed)
    async with _console_running(services, console, settings.staff_sweep_seconds):
        channel = build_wechat_channel(settings, services)
        if channel is None:
            yield
            return
        async with mount_wechat(app, channel):
            app.state.senders["wechat"] = channel.sender
            yield


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def build_wechat_channel(settings: Settings, services: Services) -> WechatChannel | None:
    """The WeChat channel, or None (said in the log) while it is not configured."""
    if settings.wechat_token is None or not settings.wechat_appid:
        log.info("WeChat channel off: set BOT_WECHAT_TOKEN and BOT_WECHAT_APPID to serve "
                 "/channels/wechat (docs/wechat.md)")
        return None
    options: dict[str, Any] = (
        {"menu_path": settings.wechat_menu_path} if settings.wechat_menu_path else {}
    )
    config = WechatConfig(
        token=settings.wechat_token.get_secret_value(), appid=settings.wechat_appid,
        aes_key=_secret(settings.wechat_aes_key),
        previous_aes_key=_secret(settings.wechat_aes_key_previous),
        verified=settings.wechat_verified, original_id=settings.wechat_original_id,
        max_message_chars=settings.max_message_chars, **options,
    )
    secret = _secret(settings.wechat_app_secret)
    api = WechatApiClient(settings.wechat_appid, secret, settings.wechat_api_base) if secret else None
    log.info("WeChat channel on at %s (%s mode, %s account%s)", config.path,
             "safe" if config.aes_key else "plaintext",
             "verified" if config.verified else "unverified",
             "" if api else "; no BOT_WECHAT_APP_SECRET: no customer-service messages")
    return WechatChannel(config, services.bot, services.conversations, services.engine, api)


def service_hours(settings: Settings) -> ServiceHours:
    return ServiceHours.build(
        settings.staff_hours_open, settings.staff_hours_close, settings.staff_weekdays,
        settings.staff_holidays, settings.staff_extra_workdays, settings.staff_timezone)


def build_console_for(settings: Settings, services: Services, senders: dict[str, Any]) -> Console:
    """The staff console: service hours, SLA and sessions from the settings."""
    hours = service_hours(settings)
    minutes = [dt.timedelta(minutes=m) for m in (
        settings.staff_wait_alert_minutes, settings.staff_idle_release_minutes,
        settings.staff_citizen_silent_minutes, settings.staff_queue_expire_minutes)]
    return build_console(
        services.engine, services.bot, services.conversations, services.kb,
        services.index.retriever, senders, hours, SlaPolicy(*minutes),
        dt.timedelta(hours=settings.staff_session_hours),
        login_limit=settings.staff_login_ip_limit)


def build_webchat(
    settings: Settings, services: Services, staff: Any = None
) -> WebchatService:
    """The web chat widget's service: signed identities, site rules, the shared bot."""
    secret = (
        settings.widget_secret.get_secret_value().encode()
        if settings.widget_secret
        else load_or_create_secret(settings.data_dir / "widget.secret")
    )
    site_secrets = {site: s.get_secret_value() for site, s in settings.widget_site_secrets.items()}
    policy = SitePolicy(settings.widget_allowed_origins, site_secrets)
    return WebchatService(
        services.bot, services.conversations, TokenSigner(secret), policy, staff=staff,
        limits=Limits(
            max_message_chars=settings.max_message_chars,
            per_connection=(settings.widget_burst, 5.0),
            per_identity=(settings.widget_per_minute, 60.0),
        ),
    )


@asynccontextmanager
async def _console_running(services: Services, console: Console, sweep_s: float) -> AsyncIterator[None]:
    """Staff learn of citizens' messages, the handoff knows who is online, SLA sweeps run."""
    console.hub.bind(asyncio.get_running_loop())
    services.bot.observe(console.desk.on_exchange)
    services.bot.handoff.availability = console.roster.available
    stop = asyncio.Event()
    sweeper = asyncio.create_task(run_sweeps(console.desk, stop, sweep_s))
    try:
        yield
    finally:
        stop.set()
        services.bot.unobserve(console.desk.on_exchange)
        await sweeper
