"""The console's HTTP API under /api/staff: login, the queue, one conversation, and what
staff do with it. Bodies are JSON; refusals are JSON with a Chinese `detail`."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from bot.console import texts
from bot.console.accounts import LockedOut, StaffSession
from bot.console.auth import COOKIE, ConsoleDep, StaffDep, require_staff, same_origin
from bot.console.desk import DeskRefused
from bot.console.wiring import Console
from bot.messages import clean_text

public = APIRouter(prefix="/api/staff", tags=["staff console"])
router = APIRouter(prefix="/api/staff", tags=["staff console"],
                   dependencies=[Depends(require_staff)])


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class Text(BaseModel):
    text: str = Field(max_length=4000)


class Presence(BaseModel):
    status: str = Field(pattern="^(online|away|offline)$")


class Transfer(BaseModel):
    to: str | None = Field(default=None, max_length=64)  # a username; None: back to the queue


def me(session: StaffSession) -> dict[str, Any]:
    user = session.user
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "csrf": session.csrf, "expires_at": session.expires_at.isoformat()}


def clean(body: Text) -> str:
    text = clean_text(body.text)
    if not text:
        raise HTTPException(422, detail=texts.EMPTY_TEXT)
    return text


async def acting(work: Any) -> Any:
    try:
        return await work
    except DeskRefused as exc:
        raise HTTPException(exc.status, detail=exc.message) from None


@public.post("/login")
async def login(body: Login, request: Request, console: ConsoleDep) -> JSONResponse:
    if not same_origin(request):
        raise HTTPException(403, detail=texts.CSRF_FAILED)
    address = request.client.host if request.client else "unknown"
    wait = console.throttle.retry_after(address)
    if wait is not None:
        raise HTTPException(429, detail=texts.TOO_MANY_LOGINS.format(minutes=_minutes(wait)),
                            headers={"Retry-After": str(int(wait))})
    try:
        user = await asyncio.to_thread(console.accounts.authenticate, body.username, body.password)
    except LockedOut as exc:
        console.throttle.failed(address)
        wait = (exc.until - console.desk.clock()).total_seconds()
        raise HTTPException(429, detail=texts.LOCKED_OUT.format(minutes=_minutes(wait))) from None
    if user is None:
        console.throttle.failed(address)
        raise HTTPException(401, detail=texts.LOGIN_FAILED)
    token, session = await asyncio.to_thread(console.accounts.open_session, user)
    await asyncio.to_thread(console.records.record, user.username, "login")
    response = JSONResponse(me(session))
    response.set_cookie(COOKIE, token, max_age=int((session.expires_at - console.desk.clock())
                        .total_seconds()), httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")
    return response


def _minutes(seconds: float) -> int:
    return max(1, round(seconds / 60))


@router.post("/logout")
async def logout(request: Request, session: StaffDep, console: ConsoleDep) -> JSONResponse:
    await asyncio.to_thread(console.accounts.close_session, request.cookies.get(COOKIE, ""))
    await asyncio.to_thread(console.records.record, session.user.username, "logout")
    response = JSONResponse({"ok": True})
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("/me")
async def who_am_i(session: StaffDep) -> dict[str, Any]:
    return me(session)


@router.post("/presence")
async def presence(body: Presence, session: StaffDep, console: ConsoleDep) -> dict[str, Any]:
    console.roster.heartbeat(session.user.username, body.status)
    await console.presence_changed()
    return {"status": console.roster.status(session.user.username)}


@router.get("/queue")
async def queue(session: StaffDep, console: ConsoleDep) -> dict[str, Any]:
    rows = await console.desk.queue()
    return {"items": rows, "staff_available": console.roster.available(),
            "in_hours": console.roster.in_hours()}


@router.get("/handoffs/{handoff_id}")
async def handoff_detail(handoff_id: int, session: StaffDep, console: ConsoleDep) -> dict[str, Any]:
    handoff = await acting(console.desk.require(handoff_id))
    return await conversation_view(console, handoff)


async def conversation_view(console: Console, handoff: Any) -> dict[str, Any]:
    desk = console.desk
    turns = await asyncio.to_thread(desk.conversations.history, handoff.conversation_id, 0, 500)
    notes = await asyncio.to_thread(desk.records.notes, handoff.conversation_id)
    # the citizen's latest real question: "转人工" itself has no answer to suggest
    asked = [t for t in turns if t.author == "citizen"]
    question = next((t.text for t in reversed(asked) if t.intent != "request_human"),
                    asked[-1].text if asked else "")
    suggestions = await asyncio.to_thread(console.suggester.suggest, question)
    sender = desk.senders.get(handoff.channel)
    delivery = await sender.delivery(handoff.conversation_id) if hasattr(sender, "delivery") else []
    return {"handoff": handoff.to_dict(), "turns": [_turn(t) for t in turns], "notes": notes,
            "suggestions": suggestions, "delivery": [_jsonable(d) for d in delivery]}


def _turn(turn: Any) -> dict[str, Any]:
    payload = turn.payload or {}
    meta = payload.get("meta") or {}
    return {"id": turn.id, "author": turn.author, "text": turn.text,
            "created_at": turn.created_at.isoformat(), "intent": meta.get("intent"),
            "confidence": meta.get("confidence"), "entry_ids": list(turn.entry_ids),
            "citations": payload.get("citations") or [], "staff_name": meta.get("staff_name"),
            "delivery": meta.get("delivery"), "reason": meta.get("reason")}


def _jsonable(item: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in item.items()}


@router.post("/handoffs/{handoff_id}/claim")
async def claim(handoff_id: int, session: StaffDep, console: ConsoleDep) -> dict[str, Any]:
    handoff = await acting(console.desk.claim(handoff_id, session.user))
    return {"handoff": handoff.to_dict()}


@router.post("/handoffs/{handoff_id}/transfer")
async def transfer(handoff_id: int, body: Transfer, session: StaffDep,
                   console: ConsoleDep) -> dict[str, Any]:
    target = None
    if body.to:
        target = await asyncio.to_thread(console.accounts.user, body.to)
        if target is None:
            raise HTTPException(404, detail=texts.NO_SUCH_STAFF)
    await acting(console.desk.transfer(handoff_id, session.user, target))
    return {"ok": True}


@router.post("/handoffs/{handoff_id}/resolve")
async def resolve(handoff_id: int, session: StaffDep, console: ConsoleDep) -> dict[str, Any]:
    await acting(console.desk.resolve(handoff_id, session.user))
    return {"ok": True}


@router.post("/handoffs/{handoff_id}/reply")
async def reply(handoff_id: int, body: Text, session: StaffDep,
                console: ConsoleDep) -> dict[str, Any]:
    result: dict[str, Any] = await acting(console.desk.reply(handoff_id, session.user, clean(body)))
    return result


@router.post("/handoffs/{handoff_id}/notes")
async def add_note(handoff_id: int, body: Text, session: StaffDep,
                   console: ConsoleDep) -> dict[str, Any]:
    note_id = await acting(console.desk.note(handoff_id, session.user, clean(body)))
    return {"id": note_id}


@router.get("/team")
async def team(session: StaffDep, console: ConsoleDep) -> dict[str, Any]:
    users = await asyncio.to_thread(console.accounts.users)
    assigned = await asyncio.to_thread(console.desk.handoffs.with_status, "assigned")
    load = {u.username: sum(1 for h in assigned if h.staff == u.username) for u in users}
    return {"staff": [{"username": u.username, "display_name": u.display_name, "role": u.role,
                       "status": console.roster.status(u.username), "load": load[u.username]}
                      for u in users]}


@router.get("/canned")
async def canned(session: StaffDep, console: ConsoleDep) -> dict[str, Any]:
    return {"items": await asyncio.to_thread(console.records.canned)}
