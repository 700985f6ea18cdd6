"""The SLA sweep, run every few seconds by the app: an idle assignment goes back to the
queue, a silent citizen's handoff resolves, an unclaimed one expires. Each change is the
same conditional UPDATE staff actions use, so a sweep racing a claim cannot undo it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.console import texts
from bot.console.desk import HandoffDesk
from bot.console.store import Handoff

log = logging.getLogger("wenzheng.console")
SYSTEM = "system"


async def sweep(desk: HandoffDesk) -> list[tuple[int, str]]:
    """One pass; what it did, as (handoff id, action)."""
    done: list[tuple[int, str]] = []
    for handoff in await asyncio.to_thread(desk.handoffs.with_status, "pending"):
        if desk.clock() - handoff.created_at > desk.sla.queue_expire and await _end(
            desk, handoff, "expired", "unclaimed", "pending", "bot", texts.EXPIRED
        ):
            done.append((handoff.id, "expired"))
    for handoff in await asyncio.to_thread(desk.handoffs.with_status, "assigned"):
        action = await _assigned(desk, handoff)
        if action is not None:
            done.append((handoff.id, action))
    return done


async def _assigned(desk: HandoffDesk, handoff: Handoff) -> str | None:
    since = handoff.assigned_at or handoff.created_at
    seen = await asyncio.to_thread(desk.handoffs.activity, handoff.conversation_id, since)
    citizen, staff = seen.get("citizen", since), seen.get("staff", since)
    now = desk.clock()
    if citizen > staff and now - citizen > desk.sla.idle_release:
        released = await desk.locked(
            handoff, lambda: desk.handoffs.release(handoff.id, SYSTEM, "staff_idle"))
        if released:
            await desk.hub.publish({"type": "queue", "change": "released",
                                    "handoff_id": handoff.id, "staff": handoff.staff})
        return "released" if released else None
    if staff >= citizen and now - staff > desk.sla.citizen_silent:
        ended = await _end(desk, handoff, "resolved", "citizen_silent", "assigned", "closed",
                           texts.SILENT_RESOLVED)
        return "resolved" if ended else None
    return None


async def _end(desk: HandoffDesk, handoff: Handoff, status: str, reason: str, state: str,
               mode: str, tell: str) -> bool:
    ended = await desk.locked(handoff, lambda: desk.handoffs.end(
        handoff.id, status, SYSTEM, reason, (state,), mode))
    if ended:
        await desk.tell(handoff.conversation_id, tell)
        await desk.hub.publish({"type": "queue", "change": status, "handoff_id": handoff.id})
    return ended


async def run_sweeps(desk: HandoffDesk, stop: asyncio.Event, interval_s: float = 15.0,
                     once: Callable[[HandoffDesk], Awaitable[object]] = sweep) -> None:
    """The background task in the app's lifespan."""
    while not stop.is_set():
        try:
            await once(desk)
        except Exception:  # a database hiccup must not end the sweeps
            log.exception("SLA sweep failed")
        try:
            await asyncio.wait_for(stop.wait(), interval_s)
        except TimeoutError:
            pass
