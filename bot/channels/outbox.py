"""The persisted outbox of customer-service messages: retried, idempotent, never sent twice.

Each message has a unique key, so enqueueing the same answer again (a retry, a restart)
adds nothing. A row is claimed (queued -> sending) in its own transaction before the call,
so two workers never send it both. When a call fails in a way that proves WeChat did not
deliver (no connection, an error code) the row is retried with backoff; when the call may
have arrived (a timeout after sending) the row becomes `unknown` and is never resent: a
missing message is shown to staff, a duplicate would reach the citizen. A bot answer whose
conversation a staff member has claimed since is `withdrawn`, never sent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.channels.errors import WechatApiError, WechatUnreachable
from bot.channels.follower import FollowerStore
from bot.channels.store import TableStore, affected
from bot.channels.tables import WechatOutboxRow, utcnow
from bot.channels.wechat_render import MAX_TEXT_BYTES, size

log = logging.getLogger("wenzheng.wechat")

BACKOFF_S = (2, 5, 15, 60, 300, 900)
HELD_CODES = {45015: "超过48小时客服消息时限", 45047: "已达到客服消息条数上限"}
RETRY_CODES = frozenset({-1, 45009, 45011, 40001, 42001, 40014})  # busy, frequency, token


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    openid: str
    conversation_id: int | None
    origin: str
    text: str
    attempts: int


class TextSender(Protocol):  # the part of WechatApiClient the outbox needs
    async def send_text(self, openid: str, content: str) -> None: ...


Undelivered = Callable[[OutboxMessage, str], None]
# Why a message prepared earlier must not go out now (staff took over), or None.
Withdrawn = Callable[[OutboxMessage], str | None]


class OutboxStore(TableStore):
    def enqueue(
        self, openid: str, texts: Sequence[str], key: str, origin: str,
        conversation_id: int | None = None, merge: bool = False,
    ) -> list[int]:
        """Add texts as `key:0`, `key:1`...; existing keys are kept; `merge` appends to the
        citizen's last unsent message of the same origin when it still fits."""

        def work(session: Session) -> list[int]:
            ids = []
            for index, text in enumerate(texts):
                row = session.scalars(select(WechatOutboxRow).where(
                    WechatOutboxRow.key == f"{key}:{index}")).first()
                if row is None and merge:
                    row = _merge_into(session, openid, origin, text)
                if row is None:
                    row = WechatOutboxRow(key=f"{key}:{index}", openid=openid, origin=origin,
                                          text=text, conversation_id=conversation_id,
                                          status="queued", attempts=0, next_attempt_at=utcnow())
                    session.add(row)
                    session.flush()
                ids.append(row.id)
            return ids

        return self._run(work)

    def due(self, ids: Sequence[int] | None = None, limit: int = 50) -> list[tuple[int, str]]:
        """(id, openid) of queued rows whose time has come, oldest first."""

        def work(session: Session) -> list[tuple[int, str]]:
            query = select(WechatOutboxRow.id, WechatOutboxRow.openid).where(
                WechatOutboxRow.status == "queued", WechatOutboxRow.next_attempt_at <= utcnow())
            if ids is not None:
                query = query.where(WechatOutboxRow.id.in_(list(ids)))
            rows = session.execute(query.order_by(WechatOutboxRow.id).limit(limit))
            return [(row_id, openid) for row_id, openid in rows]

        return self._run(work)

    def claim(self, row_id: int) -> OutboxMessage | None:
        def work(session: Session) -> OutboxMessage | None:
            claimed = affected(session.execute(
                update(WechatOutboxRow)
                .where(WechatOutboxRow.id == row_id, WechatOutboxRow.status == "queued")
                .values(status="sending", attempts=WechatOutboxRow.attempts + 1)
            ))
            row = session.get(WechatOutboxRow, row_id) if claimed else None
            return None if row is None else OutboxMessage(
                row.id, row.openid, row.conversation_id, row.origin, row.text, row.attempts)

        return self._run(work)

    def mark(self, row_id: int, status: str, reason: str | None = None,
             retry_in_s: float | None = None) -> None:
        def work(session: Session) -> None:
            row = session.get(WechatOutboxRow, row_id)
            if row is None:
                return
            row.status, row.reason = status, reason
            if status == "sent":
                row.sent_at = utcnow()
            if retry_in_s is not None:
                row.next_attempt_at = utcnow() + dt.timedelta(seconds=retry_in_s)

        self._run(work)

    def release_held(self, openid: str) -> int:
        """The citizen interacted again: held messages may go out now."""

        def work(session: Session) -> int:
            return affected(session.execute(
                update(WechatOutboxRow)
                .where(WechatOutboxRow.openid == openid, WechatOutboxRow.status == "held")
                .values(status="queued", next_attempt_at=utcnow())
            ))

        return self._run(work)

    def recover(self) -> int:
        """After a crash, rows left `sending` may have arrived: never resend them."""

        def work(session: Session) -> int:
            return affected(session.execute(
                update(WechatOutboxRow).where(WechatOutboxRow.status == "sending")
                .values(status="unknown", reason="发送中断（服务重启），可能未送达")
            ))

        return self._run(work)

    def statuses(self, conversation_id: int) -> list[dict[str, object]]:
        """Delivery state of a conversation's messages, for the staff console."""

        def work(session: Session) -> list[dict[str, object]]:
            rows = session.scalars(select(WechatOutboxRow).where(
                WechatOutboxRow.conversation_id == conversation_id).order_by(WechatOutboxRow.id))
            return [{"id": r.id, "origin": r.origin, "text": r.text, "status": r.status,
                     "reason": r.reason, "sent_at": r.sent_at} for r in rows]

        return self._run(work)


def _merge_into(session: Session, openid: str, origin: str, text: str) -> WechatOutboxRow | None:
    last = session.scalars(
        select(WechatOutboxRow).where(WechatOutboxRow.openid == openid)
        .where(WechatOutboxRow.status.in_(("queued", "held", "sending", "sent", "unknown")))
        .order_by(WechatOutboxRow.id.desc()).limit(1)
    ).first()
    if last is None or last.origin != origin or last.status not in ("queued", "held"):
        return None
    if size(last.text) + 2 + size(text) > MAX_TEXT_BYTES:
        return None
    last.text = f"{last.text}\n\n{text}"
    return last


class Outbox:
    """Sends due rows through the API, keeping the 48-hour window and the quota."""

    def __init__(
        self, store: OutboxStore, followers: FollowerStore, client: TextSender,
        on_undelivered: Undelivered | None = None, withdrawn: Withdrawn | None = None,
    ) -> None:
        self.store, self._followers, self._client = store, followers, client
        self._on_undelivered, self._withdrawn = on_undelivered, withdrawn
        self._wake = asyncio.Event()
        self._delivering = asyncio.Lock()

    def kick(self) -> None:
        self._wake.set()

    async def deliver(self, ids: Sequence[int] | None = None) -> None:
        async with self._delivering:  # one pass at a time keeps each citizen's order
            blocked: set[str] = set()
            for row_id, openid in await asyncio.to_thread(self.store.due, ids):
                if openid in blocked:
                    continue
                message = await asyncio.to_thread(self.store.claim, row_id)
                if message is None or await self._withdraw(message):
                    continue
                if not await self._send(message):
                    blocked.add(message.openid)

    async def _withdraw(self, message: OutboxMessage) -> bool:
        """Checked after the claim, so a row checked here is never sent by another pass."""
        if self._withdrawn is None:
            return False
        reason = await asyncio.to_thread(self._withdrawn, message)
        if reason is None:
            return False
        # the row id finds the citizen in the outbox table; logs carry no openid (bot/redact.py)
        log.info("wechat message %s withdrawn: %s", message.id, reason)
        await asyncio.to_thread(self.store.mark, message.id, "withdrawn", reason)
        return True

    async def run(self, stop: asyncio.Event, interval_s: float = 1.0) -> None:
        await asyncio.to_thread(self.store.recover)
        while not stop.is_set():
            try:
                await self.deliver()
            except Exception:  # the loop must outlive a database hiccup
                log.exception("outbox pass failed")
            self._wake.clear()
            waiters = [asyncio.create_task(e.wait()) for e in (stop, self._wake)]
            await asyncio.wait(waiters, timeout=interval_s, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    async def _send(self, message: OutboxMessage) -> bool:
        """Deliver one claimed message; False when the citizen's later messages must wait."""
        reason = await asyncio.to_thread(self._followers.reserve_send, message.openid)
        if reason is not None:
            return await self._hold(message, reason)
        try:
            await self._client.send_text(message.openid, message.text)
        except WechatApiError as exc:
            return await self._refused(message, exc)
        except WechatUnreachable as exc:
            if exc.maybe_sent:
                await self._give_up(message, "unknown", f"网络异常，可能未送达（{exc}）")
                return True
            await asyncio.to_thread(self._followers.release_send, message.openid)
            return await self._retry(message, f"无法连接微信接口（{exc}）")
        await asyncio.to_thread(self.store.mark, message.id, "sent")
        return True

    async def _refused(self, message: OutboxMessage, exc: WechatApiError) -> bool:
        if exc.errcode in HELD_CODES:
            return await self._hold(message, f"{HELD_CODES[exc.errcode]}（{exc.errcode}）")
        await asyncio.to_thread(self._followers.release_send, message.openid)
        if exc.errcode in RETRY_CODES:
            return await self._retry(message, f"微信接口繁忙（{exc}）")
        await self._give_up(message, "failed", f"微信拒绝发送（{exc}）")
        return True

    async def _hold(self, message: OutboxMessage, reason: str) -> bool:
        await asyncio.to_thread(self.store.mark, message.id, "held", reason)
        await self._report(message, reason)
        return False

    async def _retry(self, message: OutboxMessage, reason: str) -> bool:
        if message.attempts >= len(BACKOFF_S):
            await self._give_up(message, "failed", reason)
            return True
        delay = BACKOFF_S[message.attempts - 1]
        await asyncio.to_thread(self.store.mark, message.id, "queued", reason, delay)
        return False

    async def _give_up(self, message: OutboxMessage, status: str, reason: str) -> None:
        await asyncio.to_thread(self.store.mark, message.id, status, reason)
        await self._report(message, reason)

    async def _report(self, message: OutboxMessage, reason: str) -> None:
        log.warning("wechat message %s not delivered: %s", message.id, reason)
        if self._on_undelivered is not None:
            try:
                await asyncio.to_thread(self._on_undelivered, message, reason)
            except Exception:
                log.exception("recording undelivered message %s failed", message.id)
