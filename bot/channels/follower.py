"""What the channel knows about each citizen on the account (by openid).

The customer-service window: WeChat lets an account send up to 5 messages within 48 hours
of a citizen's last interaction (a message, a menu click, a subscription, a QR scan).
`reserve_send` takes one of those 5 atomically, so concurrent senders never overrun it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.channels.store import TableStore, affected, as_utc
from bot.channels.tables import WechatFollowerRow, WechatOutboxRow, utcnow

WINDOW = dt.timedelta(hours=48)
MESSAGES_PER_INTERACTION = 5


@dataclass(frozen=True)
class Follower:
    openid: str
    subscribed: bool
    entry_point: str | None
    region: str | None
    pickup_key: str | None


class FollowerStore(TableStore):
    def get(self, openid: str) -> Follower | None:
        def work(session: Session) -> Follower | None:
            row = session.get(WechatFollowerRow, openid)
            return None if row is None else _follower(row)

        return self._run(work)

    def interacted(self, openid: str, now: dt.datetime | None = None) -> None:
        """The citizen wrote, clicked, subscribed or scanned: a fresh window and quota."""
        self.arrived(openid, interaction=True, now=now)

    def arrived(
        self, openid: str, interaction: bool, now: dt.datetime | None = None
    ) -> tuple[Follower, int]:
        """A new message or event: the follower, and how many held messages it released.

        One transaction on the request path: an interaction opens a fresh window and quota,
        and messages held for lack of one are queued again."""

        def work(session: Session) -> tuple[Follower, int]:
            row = _row(session, openid)
            released = 0
            if interaction:
                row.last_inbound_at = now or utcnow()
                row.sent_since_inbound = 0
                released = affected(session.execute(
                    update(WechatOutboxRow)
                    .where(WechatOutboxRow.openid == openid, WechatOutboxRow.status == "held")
                    .values(status="queued", next_attempt_at=utcnow())))
            return _follower(row), released

        return self._run(work)

    def subscribed(self, openid: str, entry_point: str | None) -> None:
        def work(session: Session) -> None:
            row = _row(session, openid)
            row.subscribed, row.subscribed_at = True, utcnow()
            if entry_point:
                row.entry_point = entry_point

        self._run(work)

    def unsubscribed(self, openid: str) -> None:
        def work(session: Session) -> None:
            row = _row(session, openid)
            row.subscribed, row.unsubscribed_at = False, utcnow()

        self._run(work)

    def set_entry_point(self, openid: str, entry_point: str) -> None:
        def work(session: Session) -> None:
            _row(session, openid).entry_point = entry_point

        self._run(work)

    def set_location(
        self, openid: str, region: str | None, latitude: float | None, longitude: float | None
    ) -> None:
        def work(session: Session) -> None:
            row = _row(session, openid)
            row.region = region or row.region
            row.latitude, row.longitude = latitude, longitude

        self._run(work)

    def set_pickup(self, openid: str, key: str | None, expected: str | None = None) -> bool:
        """Set the pending pickup; with `expected`, only while it still is that key."""

        def work(session: Session) -> bool:
            row = _row(session, openid)
            if expected is not None and row.pickup_key != expected:
                return False
            row.pickup_key = key
            return True

        return self._run(work)

    def reserve_send(self, openid: str, now: dt.datetime | None = None) -> str | None:
        """Take one message of the window's quota; the reason when none is left."""

        def work(session: Session) -> str | None:
            row = _row(session, openid)
            last = as_utc(row.last_inbound_at)
            if last is None or (now or utcnow()) - last > WINDOW:
                return "超过48小时客服消息时限（市民48小时内没有互动）"
            if row.sent_since_inbound >= MESSAGES_PER_INTERACTION:
                return "已达到客服消息条数上限（每条市民消息后最多5条）"
            row.sent_since_inbound += 1
            return None

        return self._run(work)

    def release_send(self, openid: str) -> None:
        """Give back a reserved message that WeChat did not deliver."""

        def work(session: Session) -> None:
            row = _row(session, openid)
            row.sent_since_inbound = max(row.sent_since_inbound - 1, 0)

        self._run(work)


def _row(session: Session, openid: str) -> WechatFollowerRow:
    row = session.get(WechatFollowerRow, openid)
    if row is None:
        row = WechatFollowerRow(openid=openid, subscribed=True, sent_since_inbound=0)
        session.add(row)
    row.updated_at = utcnow()
    return row


def _follower(row: WechatFollowerRow) -> Follower:
    return Follower(row.openid, row.subscribed, row.entry_point, row.region, row.pickup_key)
