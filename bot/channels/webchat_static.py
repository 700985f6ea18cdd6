"""Our own pages and the widget's files: the demo portal at `/`, `/widget.js`, `/widget.css`
and `/static/<name>`, with a strict Content-Security-Policy and cache validators."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

STATIC_DIR = Path(__file__).resolve().parent / "static"
NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,80}$")
TYPES = {
    ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png",
    ".ico": "image/x-icon",
}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'self'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=64)
def _load(path: Path, mtime_ns: int) -> tuple[bytes, str]:
    body = path.read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


def serve_file(request: Request, name: str, max_age: int = 300) -> Response:
    """A file from the static folder; 304 when the browser's copy is current."""
    path = STATIC_DIR / name
    if not NAME.match(name) or path.suffix not in TYPES or not path.is_file():
        return Response("not found", status_code=404, media_type="text/plain; charset=utf-8")
    body, etag = _load(path, path.stat().st_mtime_ns)
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}", **SECURITY_HEADERS}
    if path.suffix == ".html":
        headers |= {"Content-Security-Policy": CSP, "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=TYPES[path.suffix], headers=headers)


@router.api_route("/", methods=["GET", "HEAD"])
async def demo_portal(request: Request) -> Response:
    return serve_file(request, "demo.html")


@router.api_route("/widget.js", methods=["GET", "HEAD"])
async def widget_script(request: Request) -> Response:
    return serve_file(request, "widget.js")


@router.api_route("/widget.css", methods=["GET", "HEAD"])
async def widget_style(request: Request) -> Response:
    return serve_file(request, "widget.css")


@router.api_route("/static/{name}", methods=["GET", "HEAD"])
async def static_file(request: Request, name: str) -> Response:
    return serve_file(request, name, max_age=3600)
