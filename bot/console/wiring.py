"""The console's pieces, built once per app (server.py) and found on `app.state.console`."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import Engine

from bot.console.accounts import AccountStore, StaffSession
from bot.console.desk import HandoffDesk, SlaPolicy
from bot.console.hours import ServiceHours
from bot.console.hub import StaffHub
from bot.console.presence import Clock, StaffRoster, utc_now
from bot.console.records import RecordStore
from bot.console.store import HandoffStore
from bot.console.suggest import Searcher, Suggester
from bot.console.throttle import LoginThrottle
from bot.conversations import ConversationStore
from bot.dialogue import Bot
from bot.handoff import OutboundSender
from knowledge_base.store import KnowledgeBaseStore

log = logging.getLogger("wenzheng.console")
PresenceListener = Callable[[], Awaitable[None]]


@dataclass
class Console:
    accounts: AccountStore
    desk: HandoffDesk
    roster: StaffRoster
    hub: StaffHub
    suggester: Suggester
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    # Told when someone's presence changed, e.g. so waiting web citizens see staff come online.
    presence_listeners: list[PresenceListener] = field(default_factory=list)

    @property
    def records(self) -> RecordStore:
        return self.desk.records

    def expired(self, session: StaffSession) -> bool:
        return session.expires_at <= self.desk.clock()

    async def presence_changed(self) -> None:
        await self.hub.publish({"type": "presence"})
        for listener in list(self.presence_listeners):
            try:
                await listener()
            except Exception:  # presence is advisory: a failed push must not end a console
                log.exception("presence listener failed")


DEFAULT_SLA = SlaPolicy()  # frozen: one shared default is safe


def build_console(
    engine: Engine, bot: Bot, conversations: ConversationStore, kb: KnowledgeBaseStore,
    searcher: Searcher, senders: Mapping[str, OutboundSender], hours: ServiceHours,
    sla: SlaPolicy = DEFAULT_SLA, session_ttl: dt.timedelta = dt.timedelta(hours=8),
    clock: Clock = utc_now, login_limit: int = 20,
) -> Console:
    hub = StaffHub()
    desk = HandoffDesk(bot, conversations, HandoffStore(engine), RecordStore(engine), hub,
                       senders, sla, clock)
    return Console(AccountStore(engine, session_ttl, clock), desk, StaffRoster(hours, clock),
                   hub, Suggester(searcher, kb), LoginThrottle(login_limit))
