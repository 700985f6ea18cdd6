"""Widget transport benchmark for `make bench`: WebSocket conversations against a real server.

Figures: reply latency (citizen frame sent -> the bot's answer frame received) for N
conversations that each ask back to back (the largest N whose p99 stays under 300 ms);
1,000 idle connections held with 200 active ones asking every few seconds, as citizens do;
the server's memory per open connection.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Sequence
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

P99_TARGET_MS = 300.0


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)] if ordered else float("nan")


async def open_widget(ws_url: str) -> ClientConnection:
    """A connected, welcomed widget (history and state read)."""
    ws = await connect(ws_url, origin=None, max_size=2**20, open_timeout=60, ping_interval=None)
    await ws.send(json.dumps({"type": "hello", "site": "demo", "last_seq": 0}))
    while json.loads(await ws.recv())["type"] != "state":
        pass
    return ws


async def ask(ws: ClientConnection, text: str, client_id: str) -> float:
    """Milliseconds until the answer to `text` arrives (or an error frame)."""
    started = time.perf_counter()
    await ws.send(json.dumps({"type": "message", "client_id": client_id, "text": text}))
    while True:
        frame = json.loads(await ws.recv())
        if frame["type"] == "error" or (frame["type"] == "message" and frame["author"] != "citizen"):
            if frame["type"] == "error":
                raise RuntimeError(f"refused: {frame}")
            return (time.perf_counter() - started) * 1000


async def closed_loop(ws_url: str, questions: list[str], conversations: int, seconds: float
                      ) -> dict[str, Any]:
    """`conversations` citizens asking back to back for `seconds`."""
    sockets = [await open_widget(ws_url) for _ in range(conversations)]
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    rng = random.Random(conversations)

    async def citizen(n: int, ws: ClientConnection) -> None:
        sent = 0  # the bench's server runs with the rate limits lifted
        while time.perf_counter() < deadline:
            latencies.append(await ask(ws, rng.choice(questions), f"b{conversations}-{n}-{sent}"))
            sent += 1

    started = time.perf_counter()
    try:
        await asyncio.gather(*(citizen(n, ws) for n, ws in enumerate(sockets)))
    finally:
        for ws in sockets:
            await ws.close()
    elapsed = time.perf_counter() - started
    return {"conversations": conversations, "messages": len(latencies),
            "per_s": len(latencies) / elapsed, "p50_ms": percentile(latencies, 0.5),
            "p99_ms": percentile(latencies, 0.99)}


async def idle_and_active(ws_url: str, questions: list[str], idle: int, active: int,
                          seconds: float, rss_mb: Any) -> dict[str, Any]:
    """`idle` connections held open while `active` citizens ask every 2-8 s."""
    before = rss_mb()
    held: list[ClientConnection] = []
    for start in range(0, idle, 50):
        held += await asyncio.gather(*(open_widget(ws_url) for _ in range(min(50, idle - start))))
    after_idle = rss_mb()
    talkers = [await open_widget(ws_url) for _ in range(active)]
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def citizen(n: int, ws: ClientConnection) -> None:
        nonlocal errors
        rng, sent = random.Random(n), 0
        await asyncio.sleep(rng.uniform(0, 5))
        while time.perf_counter() < deadline:
            try:
                latencies.append(await ask(ws, rng.choice(questions), f"a-{n}-{sent}"))
            except RuntimeError:
                errors += 1
            sent += 1
            await asyncio.sleep(rng.uniform(2, 8))

    try:
        await asyncio.gather(*(citizen(n, ws) for n, ws in enumerate(talkers)))
        alive = sum(1 for ws in held if ws.state.name == "OPEN")
    finally:
        for ws in held + talkers:
            await ws.close()
    return {"idle": idle, "idle_still_open": alive, "active": active, "messages": len(latencies),
            "errors": errors, "p50_ms": percentile(latencies, 0.5),
            "p99_ms": percentile(latencies, 0.99),
            "rss_per_connection_kb": (after_idle - before) * 1024 / max(idle, 1)}


async def bench_widget(url: str, questions: list[str], rss_mb: Any, quick: bool = False
                       ) -> dict[str, Any]:
    ws_url = url.replace("http://", "ws://") + "/ws/chat?site=demo"
    warm = await open_widget(ws_url)
    for n, text in enumerate(questions[:5]):
        await ask(warm, text, f"warm-{n}")
    await warm.close()
    levels = (1, 2, 4, 8) if quick else (1, 2, 4, 8, 16, 32)
    steps = []
    for level in levels:
        steps.append(await closed_loop(ws_url, questions, level, 8 if quick else 20))
        if steps[-1]["p99_ms"] > 3 * P99_TARGET_MS:
            break  # far past the target: larger levels only queue longer
    within = [s["conversations"] for s in steps if s["p99_ms"] <= P99_TARGET_MS]
    idle, active = (200, 50) if quick else (1000, 200)
    held = await idle_and_active(ws_url, questions, idle, active, 20 if quick else 60, rss_mb)
    return {"closed_loop": steps, "largest_n_p99_under_300ms": max(within, default=0),
            "held": held}


def report(result: dict[str, Any]) -> str:
    lines = ["## Web chat widget transport (WebSocket, demo content)",
             "| conversations asking back to back | messages/s | p50 | p99 |",
             "| --- | --- | --- | --- |"]
    for s in result["closed_loop"]:
        lines.append(f"| {s['conversations']} | {s['per_s']:.0f} | {s['p50_ms']:.0f} ms "
                     f"| {s['p99_ms']:.0f} ms |")
    held = result["held"]
    lines += [
        f"largest N with p99 < 300 ms: {result['largest_n_p99_under_300ms']}",
        (f"{held['idle']} idle connections held ({held['idle_still_open']} still open at the end) "
         f"+ {held['active']} active asking every 2-8 s: {held['messages']} answers, p50 "
         f"{held['p50_ms']:.0f} ms, p99 {held['p99_ms']:.0f} ms, errors {held['errors']}; "
         f"server memory per idle connection {held['rss_per_connection_kb']:.0f} KB"),
    ]
    return "\n".join(lines)
