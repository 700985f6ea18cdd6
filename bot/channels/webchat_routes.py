"""Web chat transports: a WebSocket at /ws/chat, and Server-Sent Events plus POST for
networks whose proxies block WebSockets. Both speak the frames of docs/webchat-protocol.md
and hand them to the `WebchatService` found on `app.state.webchat`."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request, WebSocket
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.websockets import WebSocketDisconnect

from bot.channels import texts
from bot.channels.webchat import Subscriber, WebchatService
from bot.channels.webchat_frames import MAX_FRAME_BYTES, BadFrame, error_frame, parse_frame
from bot.channels.webchat_identity import SiteNotAllowed, WebchatRefused, WidgetIdentity
from bot.errors import StorageUnavailable

HELLO_TIMEOUT_S = 10.0
KEEP_ALIVE_S = 15.0
SSE_QUEUE = 1000
CLOSE_BAD_HELLO, CLOSE_TOO_BIG, CLOSE_BUSY = 4400, 1009, 1013
ERROR_STATUS = {"too_long": 413, "rate_limited": 429, "not_found": 404, "unavailable": 503}
_connection_ids = itertools.count(1)

router = APIRouter(tags=["web chat"])


def _service(app: Any) -> WebchatService | None:
    return getattr(app.state, "webchat", None)


def _hello_fields(frame: dict[str, Any]) -> tuple[str | None, str | None, str | None, int]:
    def text(key: str) -> str | None:
        value = frame.get(key)
        if value is not None and not isinstance(value, str):
            raise BadFrame(f"hello.{key} must be a string")
        return value or None

    last_seq = frame.get("last_seq", 0)
    if isinstance(last_seq, bool) or not isinstance(last_seq, int) or last_seq < 0:
        raise BadFrame("hello.last_seq must be a non-negative integer")
    return text("token"), text("user"), text("user_hash"), last_seq


@router.websocket("/ws/chat")
async def websocket_chat(websocket: WebSocket) -> None:
    await websocket.accept()  # accept first: a close code only reaches the browser after it
    service = _service(websocket.app)
    if service is None:
        await websocket.close(CLOSE_BUSY)
        return
    try:
        subscriber, token = await _open(websocket, service)
    except WebchatRefused as exc:
        await websocket.close(exc.code)
        return
    except (BadFrame, TimeoutError):
        await websocket.close(CLOSE_BAD_HELLO)
        return
    except StorageUnavailable:
        await websocket.close(CLOSE_BUSY)
        return
    except WebSocketDisconnect:
        return
    try:
        await websocket.send_json(await service.welcome(subscriber.identity, token))
        await service.attach(subscriber)
        await _receive(websocket, service, subscriber)
    except StorageUnavailable:
        await websocket.close(CLOSE_BUSY)
    except (WebSocketDisconnect, RuntimeError):
        pass  # the citizen left mid-send; they resume from their last sequence number
    finally:
        service.detach(subscriber)


async def _open(websocket: WebSocket, service: WebchatService) -> tuple[Subscriber, str]:
    site = service.policy.check(
        websocket.query_params.get("site"), websocket.headers.get("origin"),
        websocket.headers.get("host"),
    )
    message = await asyncio.wait_for(websocket.receive(), HELLO_TIMEOUT_S)
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    hello = parse_frame(message.get("text") or message.get("bytes") or b"", ("hello",))
    if hello.data.get("site", site) != site:
        raise BadFrame("hello.site differs from the URL's site")
    token, user, user_hash, last_seq = _hello_fields(hello.data)
    identity, token = service.identify(site, token, user, user_hash)
    lock = asyncio.Lock()

    async def send(frame: dict[str, Any]) -> None:
        async with lock:  # catch-up and direct answers may send at the same moment
            await websocket.send_json(frame)

    return Subscriber(identity, send, last_seq), token


async def _receive(websocket: WebSocket, service: WebchatService, subscriber: Subscriber) -> None:
    key = f"ws:{next(_connection_ids)}"
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        raw = message.get("text") if message.get("text") is not None else message.get("bytes")
        if raw is not None and len(raw) > MAX_FRAME_BYTES:
            await websocket.close(CLOSE_TOO_BIG)
            return
        try:
            frame = parse_frame(raw or b"")
        except BadFrame:
            reply: dict[str, Any] | None = error_frame("bad_frame", texts.WEB_BAD_FRAME)
        else:
            reply = await service.handle(subscriber.identity, frame, key)
        if reply is not None:
            await subscriber.send(reply)


# -- Server-Sent Events + POST ------------------------------------------------------------


def _cors(service: WebchatService, request: Request, site: str | None) -> dict[str, str]:
    origin = request.headers.get("origin")
    if origin and service.policy.allowed_origin(site, origin, request.headers.get("host")):
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    return {"Vary": "Origin"}


def _refusal(exc: WebchatRefused, headers: dict[str, str]) -> JSONResponse:
    status = 403 if isinstance(exc, SiteNotAllowed) else 401 if exc.code == 4401 else 400
    detail = "此网站未获准使用智能助手" if status == 403 else "身份信息无效，请刷新页面"
    return JSONResponse({"error": "refused", "detail": detail, "code": exc.code}, status, headers)


def _not_ready() -> JSONResponse:
    return JSONResponse({"error": "unavailable", "detail": "服务正在启动，请稍后再试"}, 503)


def _event(frame: dict[str, Any]) -> str:
    head = f"id: {frame['seq']}\n" if frame.get("type") == "message" else ""
    return f"{head}data: {json.dumps(frame, ensure_ascii=False)}\n\n"


@router.get("/api/webchat/events")
async def webchat_events(
    request: Request, site: str | None = None, token: str | None = None, last_seq: int = 0,
    user: str | None = None, user_hash: str | None = None,
) -> Response:
    service = _service(request.app)
    if service is None:
        return _not_ready()
    headers = _cors(service, request, site)
    try:
        site = service.policy.check(site, request.headers.get("origin"), request.headers.get("host"))
        identity, token = service.identify(site, token, user, user_hash)
    except WebchatRefused as exc:
        return _refusal(exc, headers)
    resumed = request.headers.get("last-event-id", "")
    start = int(resumed) if resumed.isdigit() else max(last_seq, 0)
    welcome = await service.welcome(identity, token)
    stream = _stream(service, identity, start, welcome)
    headers |= {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream, media_type="text/event-stream", headers=headers)


async def _stream(
    service: WebchatService, identity: WidgetIdentity, start: int, welcome: dict[str, Any]
) -> AsyncIterator[str]:
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(SSE_QUEUE)

    async def send(frame: dict[str, Any]) -> None:
        queue.put_nowait(frame)  # QueueFull: a stalled reader is dropped and resumes later

    subscriber = Subscriber(identity, send, start)
    try:
        yield _event(welcome)
        await service.attach(subscriber)
        while True:
            try:
                frame = await asyncio.wait_for(queue.get(), KEEP_ALIVE_S)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            yield _event(frame)
    finally:
        service.detach(subscriber)


@router.options("/api/webchat/send")
@router.options("/api/webchat/events")
async def webchat_preflight(request: Request) -> Response:
    service = _service(request.app)
    origin = request.headers.get("origin")
    if service is None or not origin or not service.policy.allows_anywhere(origin):
        return Response(status_code=403)
    return Response(status_code=204, headers={
        "Access-Control-Allow-Origin": origin, "Vary": "Origin",
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type, Last-Event-ID",
        "Access-Control-Max-Age": "600",
    })


@router.post("/api/webchat/send", status_code=202)
async def webchat_send(request: Request) -> Response:
    service = _service(request.app)
    if service is None:
        return _not_ready()
    try:
        body = json.loads(await request.body())
        site, token = body["site"], body["token"]
        if not isinstance(site, str) or not isinstance(token, str) or not token:
            raise BadFrame("site and token must be strings")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return JSONResponse({"error": "bad_frame", "detail": texts.WEB_BAD_FRAME}, 400)
    headers = _cors(service, request, site)
    try:
        service.policy.check(site, request.headers.get("origin"), request.headers.get("host"))
        identity, _ = service.identify(site, token)
        frame = parse_frame(body.get("frame"))
    except WebchatRefused as exc:
        return _refusal(exc, headers)
    except BadFrame:
        return JSONResponse({"error": "bad_frame", "detail": texts.WEB_BAD_FRAME}, 400, headers)
    reply = await service.handle(identity, frame, f"sse:{token}")
    if reply is not None and reply["type"] == "error":
        content = {"error": reply["code"], "detail": reply["message"], "client_id": reply.get("client_id")}
        return JSONResponse(content, ERROR_STATUS.get(reply["code"], 400), headers)
    if reply is not None:
        await service.broadcast(identity.user_id, reply)
    return JSONResponse({"ok": True, "frame": reply}, 202, headers)
