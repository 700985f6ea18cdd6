"""Tickets (every staff member) and the supervisor's routes: canned replies, today's
figures, every open conversation, the audit log."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from bot.console import texts
from bot.console.api import Text, clean
from bot.console.auth import ConsoleDep, StaffDep, SupervisorDep, require_staff
from bot.console.wiring import Console
from bot.conversations import TurnRecord
from bot.messages import Reply

router = APIRouter(prefix="/api/staff", tags=["staff console"],
                   dependencies=[Depends(require_staff)])


class Canned(BaseModel):
    title: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=4000)
    id: int | None = None


@router.get("/tickets")
async def tickets(session: StaffDep, console: ConsoleDep) -> dict[str, Any]:
    return {"items": await asyncio.to_thread(console.records.tickets)}


@router.post("/tickets/{number}/answer")
async def answer_ticket(number: str, body: Text, session: StaffDep,
                        console: ConsoleDep) -> dict[str, Any]:
    answer = clean(body)
    found = await asyncio.to_thread(console.records.answer_ticket, number, session.user, answer)
    if found is None:
        raise HTTPException(409, detail=texts.TICKET_NOT_OPEN)
    delivery, note = await deliver_answer(console, found, number, answer)
    await asyncio.to_thread(console.records.mark_delivery, number, delivery, note)
    await console.hub.publish({"type": "ticket", "number": number})
    return {"number": number, "delivery": delivery, "delivery_note": note}


async def deliver_answer(console: Console, found: dict[str, Any], number: str,
                         answer: str) -> tuple[str, str | None]:
    """The answer as a staff turn in the ticket's conversation, pushed on its channel."""
    desk = console.desk
    text = texts.TICKET_ANSWER.format(number=number, answer=answer)
    conversation = await asyncio.to_thread(desk.conversations.get, found["conversation_id"])
    reply = Reply(text, meta={"staff_name": "工作人员", "ticket": number})
    turn = TurnRecord("staff", text, payload=reply.to_dict())
    await asyncio.to_thread(desk.conversations.record_turns, conversation, [turn])
    sender = desk.senders.get(conversation.channel)
    if sender is None:
        return "stored", texts.NO_CHANNEL
    if not await desk.send_via(sender, conversation, [reply]):
        return "undeliverable", "发送失败"
    if not hasattr(sender, "delivery"):
        return "delivered", None
    return _outbox_state(await sender.delivery(conversation.id))


def _outbox_state(statuses: list[dict[str, Any]]) -> tuple[str, str | None]:
    staff = [s for s in statuses if s.get("origin") == "staff"]
    last = staff[-1] if staff else None
    if last is None or last["status"] == "sent":
        return "delivered", None
    if last["status"] in ("queued", "sending"):
        return "pending", None
    return "undeliverable", str(last.get("reason") or last["status"])


@router.post("/canned")
async def save_canned(body: Canned, session: SupervisorDep, console: ConsoleDep) -> dict[str, Any]:
    reply_id = await asyncio.to_thread(console.records.save_canned, session.user,
                                       body.title.strip(), body.text.strip(), body.id)
    await console.hub.publish({"type": "canned"})
    return {"id": reply_id}


@router.delete("/canned/{reply_id}")
async def delete_canned(reply_id: int, session: SupervisorDep, console: ConsoleDep) -> dict[str, Any]:
    if not await asyncio.to_thread(console.records.delete_canned, session.user, reply_id):
        raise HTTPException(404, detail=texts.NOT_FOUND)
    await console.hub.publish({"type": "canned"})
    return {"ok": True}


@router.get("/overview")
async def overview(session: SupervisorDep, console: ConsoleDep) -> dict[str, Any]:
    now = console.desk.clock()
    midnight = now.astimezone(console.roster.zone).replace(hour=0, minute=0, second=0,
                                                           microsecond=0)
    figures = await asyncio.to_thread(console.records.figures, midnight.astimezone(dt.UTC))
    rows = await console.desk.queue()
    figures["waiting"] = sum(1 for r in rows if r["status"] == "pending")
    return {"figures": figures, "conversations": rows}


@router.get("/audit")
async def audit_log(session: SupervisorDep, console: ConsoleDep) -> dict[str, Any]:
    return {"items": await asyncio.to_thread(console.records.audit_log)}
