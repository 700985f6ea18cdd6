"""Answering within WeChat's window: one job per message, shared by all its retries.

WeChat waits 5 s for a passive reply, then retries (3 attempts in all) and finally shows
the citizen "该公众号暂时无法提供服务". Every copy of a message joins the same job; the job
is answered passively when it is ready within 4.3 s. When it is not:

- verified account: reply "success" and send the answer through the customer-service API
  from the outbox when it is ready;
- unverified account: hold the first attempts open past WeChat's 5 s so it retries, and on
  the last attempt reply with an invitation to send any text, which then gets the answer.

Decisions about a job are taken on the event loop with no await between the check and
the mark, so a job is delivered one way only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from bot.channels import texts
from bot.channels.errors import WechatRequestError
from bot.channels.follower import FollowerStore
from bot.channels.inbox import InboxRecord, InboxStore
from bot.channels.outbox import Outbox
from bot.channels.wechat_answer import Answer
from bot.channels.wechat_inbound import WechatInbound, parse_inbound
from bot.channels.wechat_render import MAX_TEXT_BYTES, cut_to_bytes, size

log = logging.getLogger("wenzheng.wechat")

LAST_ATTEMPT = 3
JOB_MEMORY_S = 60.0  # finished jobs stay in memory this long for late retries
PICKUP_WAIT_S = 3.5
HOUSEKEEPING_S = 6 * 3600
ARRIVAL_SLACK_S = 0.3  # what rendering, encrypting and sending a reply may take

Compute = Callable[[WechatInbound], Awaitable[Answer]]


@dataclass(frozen=True)
class Timing:
    verified: bool
    deadline_s: float = 4.3  # WeChat drops the connection at 5 s; keep network slack
    hold_s: float = 5.5  # unverified, not the last attempt: answer only after WeChat gave up


@dataclass(frozen=True)
class Pickup:
    status: str  # ready (messages may be empty: the answer was silence) / working / lost
    messages: tuple[str, ...] = ()


@dataclass
class Job:
    key: str
    inbound: WechatInbound
    task: asyncio.Task[Answer] | None = None
    delivery: str | None = None  # passive / partial / outbox / pickup / silent
    done_answer: Answer | None = None  # a job finished before a restart

    def answer(self) -> Answer | None:
        if self.done_answer is not None:
            return self.done_answer
        task = self.task
        return task.result() if task is not None and task.done() and not task.cancelled() else None


@dataclass
class ReplyScheduler:
    timing: Timing
    compute: Compute  # the answer of a new message (rate limit, pickup and dialogue included)
    inbox: InboxStore
    followers: FollowerStore
    outbox: Outbox | None
    typing: Callable[[str], Awaitable[None]] | None = None
    _jobs: dict[str, Job] = field(default_factory=dict)
    _background: set[asyncio.Task[Any]] = field(default_factory=set)

    async def reply(self, inbound: WechatInbound, started: float) -> str | None:
        """The passive reply text for this copy of `inbound`, or None for "success"."""
        loop = asyncio.get_running_loop()
        # A database stalled past the window would make us late: give up in time instead
        # (the caller answers "busy, please send again").
        arrival = asyncio.to_thread(self.inbox.arrive, inbound.dedup_key, inbound.openid,
                                    inbound.raw)
        budget = started + self.timing.deadline_s - ARRIVAL_SLACK_S - loop.time()
        record = await asyncio.wait_for(arrival, timeout=max(budget, 0.01))
        job = self._jobs.get(record.key) or self._start(inbound, record)
        if job.delivery in ("outbox", "pickup", "silent"):
            return None  # a retry of a message already on its way another way
        last = self.timing.verified or record.attempts >= LAST_ATTEMPT
        until = started + (self.timing.deadline_s if last else self.timing.hold_s)
        if job.task is not None and not job.task.done():
            await asyncio.wait({job.task}, timeout=max(until - loop.time(), 0))
        if job.answer() is not None:
            return self._passive(job)
        if not last:
            return None  # WeChat has given up on this attempt; a retry will get the answer
        return self._defer(job)

    async def resume_promised(self) -> None:
        """After a restart: finish the answers promised to the outbox (idempotent)."""
        if self.outbox is None:
            return
        try:
            promised = await asyncio.to_thread(self.inbox.awaiting_outbox)
        except Exception:  # starting matters more than resuming
            log.exception("reading WeChat answers promised to the outbox failed")
            return
        for record, xml in promised:
            try:
                inbound = parse_inbound(xml)
            except WechatRequestError:
                log.warning("cannot resume %s: its message is not stored", record.key)
                continue
            if record.key not in self._jobs:
                self._start(inbound, record)

    async def housekeep(self, stop: asyncio.Event) -> None:
        """Forget old inbox records now and every few hours, until `stop`."""
        while not stop.is_set():
            try:
                await asyncio.to_thread(self.inbox.purge)
            except Exception:
                log.exception("purging the WeChat inbox failed")
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=HOUSEKEEPING_S)

    async def pickup(self, key: str) -> Pickup:
        """The answer held for `key` (unverified accounts), waiting a little if unfinished."""
        job = self._jobs.get(key)
        if job is not None and job.task is not None and not job.task.done():
            await asyncio.wait({job.task}, timeout=PICKUP_WAIT_S)
            if not job.task.done():
                return Pickup("working")
        answer = job.answer() if job is not None else None
        delivery = job.delivery if job is not None else None
        if answer is None:
            record = await asyncio.to_thread(self.inbox.get, key)
            if record is None or record.status != "done":
                return Pickup("lost")
            answer, delivery = Answer(record.messages, record.conversation_id), record.delivery
        held = answer.messages[1:] if delivery == "partial" else answer.messages
        return Pickup("ready", held)

    def _start(self, inbound: WechatInbound, record: InboxRecord) -> Job:
        job = Job(record.key, inbound, delivery=record.delivery)
        if record.status == "done":
            job.done_answer = Answer(record.messages, record.conversation_id)
            if record.delivery == "outbox":  # in case we stopped before enqueueing it
                self._later(self._enqueue(job, job.done_answer, record.messages, "answer"))
        else:
            job.task = asyncio.create_task(self._run(job))
        self._jobs[record.key] = job
        asyncio.get_running_loop().call_later(JOB_MEMORY_S, self._forget, job)
        return job

    def _forget(self, job: Job) -> None:
        if job.task is not None and not job.task.done():
            asyncio.get_running_loop().call_later(JOB_MEMORY_S, self._forget, job)
        elif self._jobs.get(job.key) is job:
            del self._jobs[job.key]

    async def _run(self, job: Job) -> Answer:
        try:
            answer = await self.compute(job.inbound)
        except Exception:
            log.exception("answering %s failed", job.key)
            answer = Answer((texts.BUSY,))
        try:
            await asyncio.to_thread(self.inbox.finish, job.key, answer.messages,
                                    answer.conversation_id)
        except Exception:
            log.exception("storing the answer to %s failed", job.key)
        if job.delivery == "outbox":  # decided while we were working: send it now
            await self._enqueue(job, answer, answer.messages, "answer")
        return answer

    def _passive(self, job: Job) -> str | None:
        answer = job.answer()
        if answer is None or job.delivery in ("outbox", "pickup", "silent"):
            return None
        if not answer.messages:
            job.delivery = "silent"  # not stored: a done record with no messages says it
            return None
        first, rest = answer.messages[0], answer.messages[1:]
        if job.delivery in ("passive", "partial"):
            return _with_more_hint(first) if job.delivery == "partial" else first
        if not rest:
            job.delivery = "passive"  # not stored: a retry after a restart answers the same
            return first
        if self.timing.verified:
            self._mark(job, "passive")
            self._later(self._enqueue(job, answer, rest, "answer-more"))
            return first
        self._mark(job, "partial")
        self._later(asyncio.to_thread(self.followers.set_pickup, job.inbound.openid, job.key))
        return _with_more_hint(first)

    def _defer(self, job: Job) -> str | None:
        if job.delivery in ("outbox", "pickup", "silent", "passive", "partial"):
            return None  # already on its way (or given) another way
        openid = job.inbound.openid
        if self.timing.verified:
            self._mark(job, "outbox")
            if self.typing is not None:
                self._later(self.typing(openid))
            return None
        self._mark(job, "pickup")
        self._later(asyncio.to_thread(self.followers.set_pickup, openid, job.key))
        return texts.PICKUP_INVITE

    def _mark(self, job: Job, delivery: str) -> None:
        job.delivery = delivery
        self._later(asyncio.to_thread(self.inbox.set_delivery, job.key, delivery))

    async def _enqueue(
        self, job: Job, answer: Answer, messages: tuple[str, ...], kind: str
    ) -> None:
        """Into the outbox under keys derived from the message: enqueueing twice adds nothing."""
        if self.outbox is None or not messages:
            return
        ids = await asyncio.to_thread(
            self.outbox.store.enqueue, job.inbound.openid, messages, f"{kind}:{job.key}",
            "answer", answer.conversation_id,
        )
        await self.outbox.deliver(ids)

    def _later(self, work: Awaitable[Any]) -> None:
        task = asyncio.create_task(_logged(work))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Wait for running jobs and their follow-up work (shutdown, tests)."""
        while pending := self._running():
            await asyncio.wait(pending)

    def _running(self) -> list[asyncio.Task[Any]]:
        jobs = [j.task for j in self._jobs.values() if j.task is not None and not j.task.done()]
        return [*jobs, *self._background]


async def _logged(work: Awaitable[Any]) -> None:
    try:
        await work
    except Exception:
        log.exception("background WeChat work failed")


def _with_more_hint(text: str) -> str:
    return cut_to_bytes(text, MAX_TEXT_BYTES - size(texts.MORE_PENDING)) + texts.MORE_PENDING
