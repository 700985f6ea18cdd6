"""Who is calling: the session cookie, the CSRF header, the role. Every staff route and the
staff socket go through these; only the login page, its files and the login call do not."""

from __future__ import annotations

import asyncio
import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.requests import HTTPConnection

from bot.console import texts
from bot.console.accounts import StaffSession
from bot.console.wiring import Console

COOKIE = "wz_staff"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_console(connection: HTTPConnection) -> Console:
    """Async: a plain function dependency would run in FastAPI's thread pool."""
    console: Console | None = getattr(connection.app.state, "console", None)
    if console is None:
        raise HTTPException(503, detail="服务正在启动，请稍后再试")
    return console


ConsoleDep = Annotated[Console, Depends(get_console)]


async def find_session(connection: HTTPConnection, console: Console) -> StaffSession | None:
    token = connection.cookies.get(COOKIE)
    if not token or len(token) > 128:
        return None
    return await asyncio.to_thread(console.accounts.session, token)


def same_origin(connection: HTTPConnection) -> bool:
    """A browser's Origin, when it sends one, must be this server (login, sockets)."""
    origin = connection.headers.get("origin")
    if origin is None:
        return True
    host = connection.headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")


async def require_staff(request: Request, console: ConsoleDep) -> StaffSession:
    session = await find_session(request, console)
    if session is None:
        raise HTTPException(401, detail=texts.NOT_LOGGED_IN)
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
            raise HTTPException(403, detail=texts.CSRF_FAILED)
    return session


StaffDep = Annotated[StaffSession, Depends(require_staff)]


async def require_supervisor(session: StaffDep) -> StaffSession:
    if not session.user.supervisor:
        raise HTTPException(403, detail=texts.FORBIDDEN)
    return session


SupervisorDep = Annotated[StaffSession, Depends(require_supervisor)]
