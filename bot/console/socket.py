"""/ws/staff: the console's live channel. The session cookie authenticates the handshake;
the first frame must carry the session's CSRF token, so another site cannot open it with
the cookie alone. Then: presence heartbeats in, events out."""

from __future__ import annotations

import asyncio
import hmac
import json
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from bot.console.accounts import StaffSession
from bot.console.auth import find_session, same_origin
from bot.console.desk import DeskRefused
from bot.console.hub import StaffSocket
from bot.console.wiring import Console

router = APIRouter()
HELLO_TIMEOUT_S = 10.0
MAX_FRAME = 4096
CLOSE_UNAUTHORISED, CLOSE_FORBIDDEN, CLOSE_BUSY = 4401, 4403, 1013


async def _hello(websocket: WebSocket, session: StaffSession) -> bool:
    try:
        raw = await asyncio.wait_for(websocket.receive_text(), HELLO_TIMEOUT_S)
        frame = json.loads(raw) if len(raw) <= MAX_FRAME else {}
    except (TimeoutError, ValueError, KeyError, RuntimeError):
        return False
    sent = frame.get("csrf") if isinstance(frame, dict) and frame.get("type") == "hello" else None
    return isinstance(sent, str) and hmac.compare_digest(sent.encode(), session.csrf.encode())


@router.websocket("/ws/staff")
async def staff_socket(websocket: WebSocket) -> None:
    await websocket.accept()  # first, so the close code reaches the browser
    console: Console | None = getattr(websocket.app.state, "console", None)
    if console is None:
        await websocket.close(CLOSE_BUSY)
        return
    if not same_origin(websocket):
        await websocket.close(CLOSE_FORBIDDEN)
        return
    session = await find_session(websocket, console)
    if session is None or not await _hello(websocket, session):
        await websocket.close(CLOSE_UNAUTHORISED)
        return
    await _serve(websocket, console, session)


async def _serve(websocket: WebSocket, console: Console, session: StaffSession) -> None:
    user = session.user

    async def send(event: dict[str, Any]) -> None:
        await websocket.send_json(event)

    socket = StaffSocket(user.username, user.supervisor, send)
    console.roster.connect(user.username)
    await send({"type": "welcome", "username": user.username, "role": user.role})
    console.hub.add(socket)
    await console.presence_changed()
    try:
        await _receive(websocket, console, session)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        console.hub.remove(socket)
        console.roster.disconnect(user.username)
        # shielded: a server cancelling the closed socket's task must not swallow the news
        await asyncio.shield(console.presence_changed())


async def _receive(websocket: WebSocket, console: Console, session: StaffSession) -> None:
    while True:
        raw = await websocket.receive_text()
        if len(raw) > MAX_FRAME:
            await websocket.close(1009)
            return
        if console.expired(session):
            await websocket.close(CLOSE_UNAUTHORISED)
            return
        try:
            frame = json.loads(raw)
        except ValueError:
            continue
        if isinstance(frame, dict) and frame.get("type") == "typing":
            await _typing(console, session, frame)
        elif isinstance(frame, dict) and frame.get("type") == "heartbeat":
            status = frame.get("status") if isinstance(frame.get("status"), str) else None
            before = console.roster.status(session.user.username)
            console.roster.heartbeat(session.user.username, status)
            if console.roster.status(session.user.username) != before:
                await console.presence_changed()
            await websocket.send_json({"type": "pong"})


async def _typing(console: Console, session: StaffSession, frame: dict[str, Any]) -> None:
    """{"type":"typing","handoff_id":7,"on":true}: only for a conversation this person holds."""
    handoff_id, on = frame.get("handoff_id"), frame.get("on")
    if not isinstance(handoff_id, int) or isinstance(handoff_id, bool) or not isinstance(on, bool):
        return
    try:
        await console.desk.typing(handoff_id, session.user, on)
    except DeskRefused:
        pass  # a stale console (the conversation moved on): nothing to show
