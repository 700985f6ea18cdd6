"""Handoff benchmark for `make bench` (`python -m bot bench --only console`).

Staff log in over HTTP and hold `/ws/staff` open; web citizens ask 转人工 at about the same
moment. Figures per citizen: the time from sending the message to the first staff socket's
`queue` event for the new waiting conversation (and to the last of the staff screens); then,
staff having claimed the conversations through the API (spread over everyone), the time from
a staff reply request being sent to the citizen's widget receiving the `staff` message.
Client and server share the machine, so the figures include the client's own scheduling.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bot.channels.webchat_bench import open_widget, percentile
from settings import Settings

ASK = "转人工"
REPLY = "您好，我是人工客服，请问需要办理什么业务？"
LIFTED = {"BOT_LOAD_DEMO_CONTENT": "true", "BOT_WIDGET_BURST": "1000000",
          "BOT_WIDGET_PER_MINUTE": "1000000", "BOT_STAFF_LOGIN_IP_LIMIT": "1000",
          "BOT_STAFF_HOURS_OPEN": "00:00", "BOT_STAFF_HOURS_CLOSE": "24:00",
          "BOT_STAFF_WEEKDAYS": "[1,2,3,4,5,6,7]", "BOT_STAFF_HOLIDAYS": "[]"}


@dataclass(eq=False)
class Citizen:
    n: int
    ws: ClientConnection
    conversation_id: int | None = None
    asked_at: float = 0.0
    reply_at: float | None = None
    replied: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(eq=False)
class Desk:
    """One logged-in staff member: an HTTP client carrying the cookie and CSRF token, and the
    open staff socket."""

    username: str
    http: httpx.AsyncClient
    ws: ClientConnection


@dataclass
class Run:
    errors: list[str] = field(default_factory=list)
    screens: dict[int, list[float]] = field(default_factory=dict)  # conversation -> arrivals
    reply_sent: dict[int, float] = field(default_factory=dict)  # citizen number -> time


async def log_in(url: str, username: str, password: str) -> Desk:
    async with httpx.AsyncClient(base_url=url, timeout=60) as anonymous:
        response = await anonymous.post("/api/staff/login",
                                        json={"username": username, "password": password})
    response.raise_for_status()
    token, csrf = response.cookies["wz_staff"], response.json()["csrf"]
    http = httpx.AsyncClient(base_url=url, timeout=60,
                             headers={"cookie": f"wz_staff={token}", "X-CSRF-Token": csrf})
    ws_url = url.replace("http://", "ws://") + "/ws/staff"
    ws = await connect(ws_url, origin=None, additional_headers={"cookie": f"wz_staff={token}"},
                       open_timeout=60, ping_interval=None, max_size=2**20)
    await ws.send(json.dumps({"type": "hello", "csrf": csrf}))
    welcome = json.loads(await ws.recv())
    if welcome.get("type") != "welcome":
        raise RuntimeError(f"staff socket refused: {welcome}")
    return Desk(username, http, ws)


async def watch_screen(desk: Desk, run: Run) -> None:
    """Records when each conversation first appears on this staff member's screen."""
    shown: set[int] = set()
    async for raw in desk.ws:
        frame = json.loads(raw)
        conversation_id = frame.get("conversation_id")
        if frame.get("type") == "queue" and conversation_id not in shown:
            shown.add(conversation_id)
            run.screens.setdefault(conversation_id, []).append(time.perf_counter())


async def watch_widget(citizen: Citizen, run: Run) -> None:
    client_id = f"h-{citizen.n}"
    async for raw in citizen.ws:
        frame = json.loads(raw)
        if frame["type"] == "error":
            run.errors.append(f"citizen {citizen.n}: {frame.get('code')}")
        elif frame["type"] != "message":
            continue
        elif frame["author"] == "citizen" and frame.get("client_id") == client_id:
            citizen.conversation_id = frame["conversation_id"]
        elif frame["author"] == "staff" and citizen.reply_at is None:
            citizen.reply_at = time.perf_counter()
            citizen.replied.set()


async def serve_share(desk: Desk, share: list[Citizen], run: Run) -> None:
    """Claims and answers this staff member's share of the queue, one after the other."""
    queue = (await desk.http.get("/api/staff/queue")).json()["items"]
    handoffs = {i["conversation_id"]: i["id"] for i in queue if i["status"] == "pending"}
    for citizen in share:
        handoff_id = handoffs.get(citizen.conversation_id)
        if handoff_id is None:
            run.errors.append(f"citizen {citizen.n}: not in {desk.username}'s queue")
            continue
        claimed = await desk.http.post(f"/api/staff/handoffs/{handoff_id}/claim")
        if claimed.status_code != 200:
            run.errors.append(f"claim {handoff_id}: {claimed.status_code} {claimed.text[:80]}")
            continue
        run.reply_sent[citizen.n] = time.perf_counter()
        reply = await desk.http.post(f"/api/staff/handoffs/{handoff_id}/reply", json={"text": REPLY})
        if reply.status_code != 200 or reply.json().get("delivered") != "sent":
            run.errors.append(f"reply {handoff_id}: {reply.status_code} {reply.text[:80]}")


async def wait_all(condition: Any, timeout_s: float) -> bool:
    deadline = time.perf_counter() + timeout_s
    while not condition():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def figures(values_ms: list[float]) -> dict[str, float]:
    return {"p50_ms": percentile(values_ms, 0.5), "p99_ms": percentile(values_ms, 0.99),
            "max_ms": max(values_ms, default=float("nan"))}


async def bench_console(url: str, staff: Sequence[tuple[str, str]], citizens: int,
                        timeout_s: float = 120.0) -> dict[str, Any]:
    """`staff` (username, password) pairs log in; `citizens` web citizens ask for a person."""
    run = Run()
    desks = list(await asyncio.gather(*(log_in(url, u, p) for u, p in staff)))
    ws_url = url.replace("http://", "ws://") + "/ws/chat?site=demo"
    people: list[Citizen] = []
    for start in range(0, citizens, 50):
        opened = await asyncio.gather(*(open_widget(ws_url) for _ in range(min(50, citizens - start))))
        people += [Citizen(start + i, ws) for i, ws in enumerate(opened)]
    readers = [asyncio.create_task(watch_screen(d, run)) for d in desks]
    readers += [asyncio.create_task(watch_widget(c, run)) for c in people]

    async def ask(citizen: Citizen) -> None:
        citizen.asked_at = time.perf_counter()
        await citizen.ws.send(json.dumps({"type": "message", "client_id": f"h-{citizen.n}",
                                          "text": ASK}))

    started = time.perf_counter()
    try:
        await asyncio.gather(*(ask(c) for c in people))
        on_all = await wait_all(lambda: all(
            c.conversation_id is not None and len(run.screens.get(c.conversation_id, ())) == len(desks)
            for c in people), timeout_s)
        if not on_all:
            run.errors.append("some handoffs never reached every staff screen")
        queued_s = time.perf_counter() - started
        shares = [people[i::len(desks)] for i in range(len(desks))]
        await asyncio.gather(*(serve_share(d, s, run) for d, s in zip(desks, shares)))
        if not await wait_all(lambda: all(c.replied.is_set() for c in people), timeout_s):
            run.errors.append("some staff replies never reached the citizen")
    finally:
        for task in readers:
            task.cancel()
        for closing in [c.ws for c in people] + [d.ws for d in desks]:
            await closing.close()
        for desk in desks:
            await desk.http.aclose()
    return summarise(people, desks, run, queued_s)


def summarise(people: list[Citizen], desks: list[Desk], run: Run, queued_s: float) -> dict[str, Any]:
    first, last, reply = [], [], []
    for c in people:
        seen = run.screens.get(c.conversation_id, []) if c.conversation_id is not None else []
        if seen:
            first.append((min(seen) - c.asked_at) * 1000)
            last.append((max(seen) - c.asked_at) * 1000)
        sent = run.reply_sent.get(c.n)
        if sent is not None and c.reply_at is not None:
            reply.append((c.reply_at - sent) * 1000)
    return {"citizens": len(people), "staff": len(desks), "on_a_screen": len(first),
            "on_every_screen": sum(len(run.screens.get(c.conversation_id, ())) == len(desks)
                                   for c in people if c.conversation_id is not None),
            "replies_received": len(reply), "all_queued_s": queued_s,
            "to_first_screen": figures(first), "to_every_screen": figures(last),
            "reply_to_citizen": figures(reply), "errors": len(run.errors),
            "error_samples": run.errors[:5]}


def report(r: dict[str, Any]) -> str:
    def row(name: str, f: dict[str, float], count: int) -> str:
        return f"| {name} | {f['p50_ms']:.0f} ms | {f['p99_ms']:.0f} ms | {f['max_ms']:.0f} ms | {count} |"

    lines = [f"## Staff handoff ({r['citizens']} web citizens ask 转人工 at once, {r['staff']} staff)",
             "| path | p50 | p99 | max | count |", "| --- | --- | --- | --- | --- |",
             row("citizen 转人工 -> first staff screen", r["to_first_screen"], r["on_a_screen"]),
             row(f"citizen 转人工 -> all {r['staff']} staff screens", r["to_every_screen"],
                 r["on_every_screen"]),
             row("staff reply sent -> citizen widget", r["reply_to_citizen"], r["replies_received"]),
             f"all {r['citizens']} handoffs on every screen after {r['all_queued_s']:.1f} s; "
             f"errors {r['errors']}" + (f" (e.g. {r['error_samples'][0]})" if r["errors"] else "")]
    return "\n".join(lines)


def fresh_accounts(data_dir: Path, count: int) -> list[tuple[str, str]]:
    """A fresh database (the index and intent model are kept) with `count` staff accounts."""
    from bot.console.accounts import AccountStore
    from server import open_database

    data_dir.mkdir(parents=True, exist_ok=True)
    for stale in data_dir.glob("bot.sqlite3*"):
        stale.unlink()
    engine = open_database(Settings(data_dir=data_dir))
    accounts, password = AccountStore(engine), secrets.token_urlsafe(18)
    staff = [(f"bench{n}", password) for n in range(1, count + 1)]
    for username, _ in staff:
        accounts.add_user(username, password, "staff", f"坐席{username[5:]}")
    engine.dispose()
    return staff


def bench_handoff(settings: Settings, quick: bool) -> dict[str, Any]:
    """A real server on the demo content, staff on duty around the clock, limits lifted."""
    from bot.benchmark import Server

    data_dir = settings.data_dir / "bench" / "console"
    citizens, staff_count = (40, 4) if quick else (200, 10)
    staff = fresh_accounts(data_dir, staff_count)
    server = Server(data_dir, **LIFTED)
    try:
        server.wait_ready()
        result = asyncio.run(bench_console(server.url, staff, citizens))
        result["peak_rss_mb"] = server.peak_rss_mb()
    finally:
        server.stop()
    return result

