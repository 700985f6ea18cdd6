"""The WeChat Official Account webhook: `GET`/`POST /channels/wechat`.

GET answers WeChat's URL check. POST verifies the signature (and, in safe mode, the
msg_signature, the AES envelope and the appid inside it), parses the XML safely,
and replies within WeChat's window (see `wechat_reply`). A refused request gets 400, 403
or 413 and never reaches the dialogue; nothing a client sends produces a 500.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import PlainTextResponse
from sqlalchemy import Engine
from starlette.datastructures import QueryParams
from starlette.requests import ClientDisconnect

from bot.channels import texts
from bot.channels.errors import (
    BadSignature,
    MalformedMessage,
    PayloadTooLarge,
    StaleRequest,
    WechatRequestError,
)
from bot.channels.follower import Follower, FollowerStore
from bot.channels.inbox import InboxStore
from bot.channels.outbox import Outbox, OutboxStore
from bot.channels.rate_limit import SlidingWindowLimiter
from bot.channels.wechat_answer import (
    Answer,
    MessageHandler,
    WechatAnswerer,
    is_interaction,
)
from bot.channels.wechat_api import WechatApiClient
from bot.channels.wechat_config import WechatConfig
from bot.channels.wechat_crypto import MessageCrypto
from bot.channels.wechat_inbound import WechatInbound, envelope_field, parse_inbound, parse_xml
from bot.channels.wechat_menu import Menu, load_menu
from bot.channels.wechat_render import pack, passive_reply
from bot.channels.wechat_reply import ReplyScheduler, Timing
from bot.channels.wechat_sender import DeliveryRecorder, StaffTookOver, WechatSender
from bot.conversations import ConversationStore
from bot.messages import clean_text

__all__ = ["WechatChannel", "WechatConfig", "create_wechat_router", "mount_wechat"]

log = logging.getLogger("wenzheng.wechat")

_NONCE = re.compile(r"[A-Za-z0-9_-]{1,64}")  # echoed into our encrypted reply
STATUS = {BadSignature: 403, StaleRequest: 403, PayloadTooLarge: 413, MalformedMessage: 400}


class WechatChannel:
    """The webhook, its reply scheduler and outbox, and the staff-reply sender."""

    def __init__(
        self, config: WechatConfig, handler: MessageHandler, conversations: ConversationStore,
        engine: Engine, api_client: WechatApiClient | None, menu: Menu | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config, self._clock = config, clock
        self.crypto = MessageCrypto(config.token, config.appid, config.aes_key,
                                    config.previous_aes_key)
        self.followers, self.inbox = FollowerStore(engine), InboxStore(engine)
        self.outbox = None if api_client is None else Outbox(
            OutboxStore(engine), self.followers, api_client, DeliveryRecorder(conversations),
            StaffTookOver(conversations))
        self.sender = None if self.outbox is None else WechatSender(self.outbox)
        menu = menu or load_menu(config.menu_path)
        self.api_client = api_client
        self._threads = ThreadPoolExecutor(config.answer_threads, thread_name_prefix="wechat")
        self.answerer = WechatAnswerer(handler, conversations, self.followers, menu,
                                       config.max_message_chars, self._threads)
        self.limiter = SlidingWindowLimiter(config.rate_limit, config.rate_window_s)
        # Without the API there is no customer-service message: answer as unverified.
        verified = config.verified and api_client is not None
        if config.verified and not verified:
            log.warning("WeChat account is marked verified but has no API client (app secret): "
                        "slow answers are held for the citizen's next message instead")
        self.scheduler = ReplyScheduler(
            Timing(verified, config.reply_deadline_s, config.hold_s), self._compute,
            self.inbox, self.followers, self.outbox if verified else None,
            api_client.typing if verified and api_client is not None else None)

    @property
    def router(self) -> APIRouter:
        router = APIRouter(lifespan=self.lifespan, tags=["wechat"])
        router.add_api_route(self.config.path, self.check_url, methods=["GET"],
                             include_in_schema=False)
        router.add_api_route(self.config.path, self.receive, methods=["POST"],
                             include_in_schema=False)
        return router

    @asynccontextmanager
    async def lifespan(self, app: Any = None) -> AsyncIterator[None]:
        stop = asyncio.Event()
        await self.scheduler.resume_promised()
        workers = [asyncio.create_task(self.scheduler.housekeep(stop))]
        if self.outbox is not None:
            workers.append(asyncio.create_task(self.outbox.run(stop)))
        try:
            yield
        finally:
            stop.set()
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.scheduler.drain(), timeout=10)
            await asyncio.gather(*workers, return_exceptions=True)
            self._threads.shutdown(wait=False)

    async def check_url(self, request: Request) -> Response:
        query = request.query_params
        try:
            self._check_signature(query)
        except WechatRequestError as exc:
            return _refuse(exc)
        return PlainTextResponse(query.get("echostr", "")[:256])

    async def receive(self, request: Request) -> Response:
        started = asyncio.get_running_loop().time()
        try:
            body = await _read_limited(request, self.config.max_body_bytes)
            inbound, encrypted = self._open(request.query_params, body)
        except WechatRequestError as exc:
            return _refuse(exc)
        except Exception as exc:  # a parser surprise is still the sender's bad input
            log.exception("unreadable WeChat request")
            return _refuse(MalformedMessage(str(exc)))
        try:
            text = await self.scheduler.reply(inbound, started)
        except Exception:
            log.exception("answering a WeChat message failed")
            text = texts.BUSY
        try:
            return self._respond(inbound, text, request.query_params, encrypted)
        except Exception:
            log.exception("rendering a WeChat reply failed")
            return PlainTextResponse("success")

    def _check_signature(self, query: QueryParams) -> None:
        signature, timestamp, nonce = (query.get(k) for k in ("signature", "timestamp", "nonce"))
        if not signature or not timestamp or not nonce:
            raise BadSignature("signature, timestamp and nonce are required")
        if not _NONCE.fullmatch(nonce) or not timestamp.isdigit():
            raise MalformedMessage("bad nonce or timestamp")
        if abs(self._clock() - int(timestamp)) > self.config.timestamp_window_s:
            raise StaleRequest("timestamp outside the freshness window")
        self.crypto.check_signature(signature, timestamp, nonce)

    def _open(self, query: QueryParams, body: bytes) -> tuple[WechatInbound, bool]:
        self._check_signature(query)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedMessage("body is not UTF-8") from exc
        encrypt_type = query.get("encrypt_type") or "raw"
        safe = encrypt_type == "aes"
        if encrypt_type not in ("raw", "aes") or (safe and not self.crypto.can_decrypt):
            raise MalformedMessage(f"unsupported encrypt_type {encrypt_type!r}")
        if safe:
            encrypted = envelope_field(parse_xml(text), "Encrypt")
            msg_signature = query.get("msg_signature") or ""
            self.crypto.check_signature(msg_signature, query["timestamp"], query["nonce"],
                                        encrypted)
            text = self.crypto.decrypt(encrypted)
        inbound = parse_inbound(text)
        if self.config.original_id and inbound.account != self.config.original_id:
            raise BadSignature("message is for another account")
        return inbound, safe

    def _respond(self, inbound: WechatInbound, text: str | None, query: QueryParams,
                 encrypted: bool) -> Response:
        if text is None:
            return PlainTextResponse("success")
        xml = passive_reply(inbound, text, self._clock())
        if encrypted:
            xml = self.crypto.encrypt_reply(xml, query["nonce"], str(int(self._clock())))
        return Response(xml, media_type="application/xml")

    async def _compute(self, inbound: WechatInbound) -> Answer:
        """A new message's answer: window bookkeeping, rate limit, held answer, dialogue."""
        openid = inbound.openid
        follower, released = await asyncio.to_thread(
            self.followers.arrived, openid, is_interaction(inbound))
        if released and self.outbox is not None:
            self.outbox.kick()
        counted = is_interaction(inbound) and inbound.event != "subscribe"
        if counted and not self.limiter.allow(openid):
            return Answer((texts.RATE_LIMITED,))
        pickup = follower.pickup_key
        if pickup and pickup != inbound.dedup_key and inbound.msg_type != "event":
            return await self._pickup(inbound, follower, pickup)
        return await self.answerer.answer(inbound, follower)

    async def _pickup(self, inbound: WechatInbound, follower: Follower, key: str) -> Answer:
        """The citizen wrote after our invitation: hand over the held answer instead."""
        held = await self.scheduler.pickup(key)
        if held.status == "working":
            return Answer((texts.PICKUP_STILL_WORKING,))
        await asyncio.to_thread(self.followers.set_pickup, inbound.openid, None, key)
        if held.status == "lost":
            return Answer((texts.PICKUP_LOST,))
        if not held.messages:  # the held answer was silence: answer this message instead
            return await self.answerer.answer(inbound, replace(follower, pickup_key=None))
        note = [texts.PICKUP_NEW_QUESTION.strip()] if len(clean_text(inbound.content)) > 4 else []
        return Answer(tuple(pack([texts.PICKUP_HEAD.strip(), *held.messages, *note])))


@asynccontextmanager
async def mount_wechat(app: FastAPI, channel: WechatChannel) -> AsyncIterator[WechatChannel]:
    """Serve the channel from an app that is already starting (inside its lifespan, once the
    services exist), run its workers, and close its API client at shutdown.

    The routes are added once per app and serve whichever channel is mounted now, so an app
    whose lifespan runs again (tests) gets the new channel, not a stale one."""
    slot: _ChannelSlot | None = getattr(app.state, "wechat_slot", None)
    if slot is None:
        slot = app.state.wechat_slot = _ChannelSlot()
        app.include_router(slot.router(channel.config.path))
    slot.channel = channel
    try:
        async with channel.lifespan(app):
            yield channel
    finally:
        slot.channel = None
        if channel.api_client is not None:
            await channel.api_client.aclose()


class _ChannelSlot:
    channel: WechatChannel | None = None

    def router(self, path: str) -> APIRouter:
        router = APIRouter(tags=["wechat"])
        router.add_api_route(path, self.check_url, methods=["GET"], include_in_schema=False)
        router.add_api_route(path, self.receive, methods=["POST"], include_in_schema=False)
        return router

    async def check_url(self, request: Request) -> Response:
        if self.channel is None:
            return PlainTextResponse("starting", status_code=503)
        return await self.channel.check_url(request)

    async def receive(self, request: Request) -> Response:
        if self.channel is None:
            return PlainTextResponse("starting", status_code=503)
        return await self.channel.receive(request)


def create_wechat_router(
    config: WechatConfig, handler: MessageHandler, conversations: ConversationStore,
    engine: Engine, api_client: WechatApiClient | None, **options: Any,
) -> APIRouter:
    """The webhook's router (its lifespan runs the outbox); options: menu, clock."""
    return WechatChannel(config, handler, conversations, engine, api_client, **options).router


async def _read_limited(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        raise PayloadTooLarge("body over the limit")
    chunks, total = [], 0
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if total > limit:
                raise PayloadTooLarge("body over the limit")
            chunks.append(chunk)
    except ClientDisconnect as exc:
        raise MalformedMessage("client went away") from exc
    return b"".join(chunks)


def _refuse(exc: WechatRequestError) -> Response:
    status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
    log.info("refused a WeChat request (%s): %s", status, exc)
    return PlainTextResponse({403: "forbidden", 413: "too large"}.get(status, "bad request"),
                             status_code=status)
