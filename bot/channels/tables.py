"""WeChat channel tables: the inbox (deduplication), the outbox, and what we know of followers.

Created by migration 0003_wechat; they live in the bot's database next to the conversations.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

TIMESTAMP = DateTime(timezone=True)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ChannelBase(DeclarativeBase):
    pass


class WechatInboxRow(ChannelBase):
    """One citizen message or event, by its deduplication key; survives restarts."""

    __tablename__ = "wechat_inbox"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    openid: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending / done
    # How the answer went out: passive / outbox / pickup / silent; None while undecided.
    delivery: Mapped[str | None] = mapped_column(String(16), nullable=True)
    messages: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    conversation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    inbound: Mapped[str | None] = mapped_column(Text, nullable=True)  # plaintext XML
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    __table_args__ = (Index("ix_wechat_inbox_created", "created_at"),)


class WechatOutboxRow(ChannelBase):
    """One customer-service message to send; `key` makes enqueueing idempotent."""

    __tablename__ = "wechat_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    conversation_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    origin: Mapped[str] = mapped_column(String(16))  # answer / staff
    text: Mapped[str] = mapped_column(Text)
    # queued -> sending -> sent; held (window or quota, resent after the citizen's next
    # message); unknown (may have arrived: never resent); failed (gave up)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (Index("ix_wechat_outbox_due", "status", "next_attempt_at"),)


class WechatFollowerRow(ChannelBase):
    """A citizen on the account: entry point, region, and the customer-service window."""

    __tablename__ = "wechat_followers"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    subscribed: Mapped[bool] = mapped_column(Boolean, default=True)
    entry_point: Mapped[str | None] = mapped_column(String(128), nullable=True)
    region: Mapped[str | None] = mapped_column(String(64), nullable=True)
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    # The 48-hour window opens at the citizen's last interaction; each one allows 5 messages.
    last_inbound_at: Mapped[dt.datetime | None] = mapped_column(TIMESTAMP, nullable=True)
    sent_since_inbound: Mapped[int] = mapped_column(Integer, default=0)
    # Unverified accounts: the inbox key whose answer waits for the citizen's next message.
    pickup_key: Mapped[str | None] = mapped_column(String(160), nullable=True)
    subscribed_at: Mapped[dt.datetime | None] = mapped_column(TIMESTAMP, nullable=True)
    unsubscribed_at: Mapped[dt.datetime | None] = mapped_column(TIMESTAMP, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
