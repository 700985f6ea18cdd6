"""The console's pages: /staff/login (public), /staff (logged in only) and their files under
/staff/assets/, with a strict Content-Security-Policy: no inline script or style anywhere."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from bot.console.auth import find_session, get_console

STATIC_DIR = Path(__file__).resolve().parent / "static"
NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,60}$")
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; "
       "form-action 'self'; object-src 'none'")
HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
           "X-Frame-Options": "DENY"}

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=32)
def _load(path: Path, mtime_ns: int) -> tuple[bytes, str]:
    body = path.read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


def serve(request: Request, name: str) -> Response:
    path = STATIC_DIR / name
    if not NAME.match(name) or path.suffix not in TYPES or not path.is_file():
        return Response("not found", status_code=404, media_type="text/plain; charset=utf-8")
    body, etag = _load(path, path.stat().st_mtime_ns)
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Content-Security-Policy": CSP,
               **HEADERS}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=TYPES[path.suffix], headers=headers)


@router.get("/staff/login")
async def login_page(request: Request) -> Response:
    return serve(request, "login.html")


@router.get("/staff")
async def console_page(request: Request) -> Response:
    session = await find_session(request, await get_console(request))
    if session is None:
        return RedirectResponse("/staff/login", status_code=303)
    return serve(request, "console.html")


@router.get("/staff/assets/{name}")
async def asset(request: Request, name: str) -> Response:
    return serve(request, name)
