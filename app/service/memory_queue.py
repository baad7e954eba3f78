"""The embedded queue: web and worker in one process, jobs run on a thread pool (PyGithub is blocking).

- bounded: a full queue refuses (the webhook answers 503 and GitHub shows the delivery as failed);
- one job at a time per pull request (`job.pull_key`), pull requests served in turn (a FIFO of slots);
- newest head wins: a waiting review is dropped when a newer one for the same pull request arrives;
- a review that has to wait for GitHub's limits (ReviewDeferred) is kept and runs again at the time named;
- with a JobStore, accepted jobs survive the process: a restart resumes them;
- delivery ids remembered for a while, so a redelivery is not reviewed twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from align.service.job_store import JobStore
from align.service.jobs import Job, QueueUnavailable, ReviewDeferred
from align.service.review_deadline import EARLIER_TRY_KEY

log = logging.getLogger("align.queue")

Handler = Callable[[Job], None]


def supersedes(new: Job, old: Job) -> bool:
    """A pull_request event carries the head at delivery time, so it replaces any waiting review of that
    pull request; a re-run of one commit replaces only a waiting run of the same commit. Commands are
    never dropped (a waiver must not be lost)."""
    if new.kind != "review" or old.kind != "review" or new.pull_key != old.pull_key:
        return False
    return new.event.startswith("pull_request.") or (new.head_sha is not None and new.head_sha == old.head_sha)


class DeliveryLog:
    """Delivery ids seen recently: bounded in size and age."""

    def __init__(self, ttl: float, max_entries: int = 50_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first(self, delivery_id: str) -> bool:
        now = self.clock()
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if now - at <= self.ttl and len(self._seen) < self.max_entries:
                break
            self._seen.pop(oldest)
        if delivery_id in self._seen:
            return False
        self._seen[delivery_id] = now
        return True

    def forget(self, delivery_id: str) -> None:
        self._seen.pop(delivery_id, None)


@dataclass(frozen=True)
class _Entry:
    job: Job
    row: int | None = None  # its row in the durable store
    began: bool = False  # resumed after a restart killed it mid-run: never dropped, it has a run to complete


class MemoryQueue:
    def __init__(self, handler: Handler, *, size: int = 1000, workers: int = 4, delivery_ttl: float = 86_400,
                 store: JobStore | None = None, clock: Callable[[], float] = time.time) -> None:
        self.handler = handler
        self.size = size
        self.workers = workers
        self.deliveries = DeliveryLog(delivery_ttl)
        self.store = store
        self.clock = clock
        self.dropped = 0  # superseded jobs, for tests and logs
        self.deferred_total = 0  # times a job was put back to wait for GitHub's limits, for tests and logs
        self._pending: dict[str, deque[_Entry]] = {}
        self._deferred: dict[str, int] = {}  # pull key -> jobs waiting for GitHub's limits
        self._timers: set[asyncio.TimerHandle] = set()
        self._depth = 0  # jobs waiting in _pending, kept as a count: enqueue must not walk every pull request
        self._heads: dict[str, str] = {}  # pull key -> newest head announced by a pull_request event
        self._running: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._executor: ThreadPoolExecutor | None = None
        self._slots: asyncio.Semaphore | None = None
        self._idle: asyncio.Event | None = None

    async def start(self) -> None:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="align-worker")
            self._slots = asyncio.Semaphore(self.workers)
            self._idle = asyncio.Event()
            self._idle.set()
            self._resume()

    def _resume(self) -> None:
        """Take back the jobs the store kept (a restart after a crash or a stop): waiting ones in their
        order and at their time; one that was running gets the time its try began (see review_deadline)."""
        if self.store is None:
            return
        stored = self.store.all()
        for item in stored:
            job = item.job
            if item.state == "running" and item.began_at is not None:
                job = replace(job, extra={**job.extra, EARLIER_TRY_KEY: repr(item.began_at)})
            entry = _Entry(job, item.id, began=item.state == "running")
            if item.not_before > self.clock():
                self._wait(entry, item.not_before)
            else:
                self._accept(entry)
        if stored:
            log.info("resumed %d job(s) from %s", len(stored), self.store.path)

    async def stop(self) -> None:
        """Let running jobs finish. Waiting ones stay in the store (if any) for the next start, else they are
        dropped (GitHub shows their check runs as never started)."""
        executor, self._executor = self._executor, None
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        self._deferred.clear()
        self._pending.clear()
        self._depth = 0
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if executor is not None:
            executor.shutdown(wait=True)

    async def ready(self) -> bool:
        return self._executor is not None and self.depth() < self.size

    async def first_delivery(self, delivery_id: str) -> bool:
        return self.deliveries.first(delivery_id)

    async def forget_delivery(self, delivery_id: str) -> None:
        """Undo `first_delivery` when the job could not be accepted, so GitHub's redelivery is not dropped."""
        self.deliveries.forget(delivery_id)

    def depth(self) -> int:
        """Jobs waiting: to run now, or for GitHub's limits."""
        return self._depth + sum(self._deferred.values())

    def latest_head(self, pull_key: str) -> str | None:
        """The newest head a pull_request event announced for a pull request with jobs waiting or running
        (read from worker threads: one dict lookup)."""
        return self._heads.get(pull_key)

    def busy(self) -> bool:
        """Jobs waiting or running (read from any thread: tests and the demo poll it)."""
        return bool(self._running) or self.depth() > 0

    async def enqueue(self, job: Job) -> None:
        if self._executor is None:
            raise QueueUnavailable("queue is not running")
        waiting = self._pending.get(job.pull_key, deque())
        superseded = [old for old in waiting if not old.began and supersedes(job, old.job)]
        if self._depth - len(superseded) >= self.size:
            raise QueueUnavailable(f"queue full ({self.size} jobs waiting)")
        row = self.store.add(job) if self.store is not None else None  # durable before the webhook answers
        if superseded:
            self._pending[job.pull_key] = deque(old for old in waiting if old not in superseded)
            self._depth -= len(superseded)
            self.dropped += len(superseded)
            if self.store is not None:
                self.store.remove([old.row for old in superseded if old.row is not None])
        self._accept(_Entry(job, row))

    def _accept(self, entry: _Entry) -> None:
        """Line an accepted job up behind its pull request's, and start that pull request's turn."""
        job = entry.job
        self._pending.setdefault(job.pull_key, deque()).append(entry)
        self._depth += 1
        if job.kind == "review" and job.head_sha and job.event.startswith("pull_request."):
            self._heads[job.pull_key] = job.head_sha
        assert self._idle is not None
        self._idle.clear()
        if job.pull_key not in self._running:
            self._running.add(job.pull_key)
            task = asyncio.get_running_loop().create_task(self._drain(job.pull_key))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _wait(self, entry: _Entry, until: float) -> None:
        """Keep a job that waits for GitHub's limits and line it up again at `until`. Its pull request's
        newest head stays known meanwhile, so that a push in between makes it complete as superseded."""
        key = entry.job.pull_key
        self._deferred[key] = self._deferred.get(key, 0) + 1
        assert self._idle is not None
        self._idle.clear()

        def wake() -> None:
            self._timers.discard(timer)
            left = self._deferred.get(key, 0) - 1
            if left > 0:
                self._deferred[key] = left
            else:
                self._deferred.pop(key, None)
            if self._executor is not None:
                self._accept(entry)

        timer = asyncio.get_running_loop().call_later(max(until - self.clock(), 0.0), wake)
        self._timers.add(timer)

    async def _drain(self, key: str) -> None:
        """Run the jobs of one pull request one after another; the next is picked only when a slot is free,
        so a newer head arriving meanwhile can still replace it."""
        assert self._slots is not None and self._idle is not None
        loop = asyncio.get_running_loop()
        try:
            while True:
                async with self._slots:
                    waiting = self._pending.get(key)
                    if not waiting or self._executor is None:
                        break
                    entry = waiting.popleft()
                    self._depth -= 1
                    await self._run(loop, entry)
        finally:
            self._running.discard(key)
            if not self._pending.get(key):
                self._pending.pop(key, None)
                if not self._deferred.get(key):
                    self._heads.pop(key, None)  # nothing left that could be older
            if not self._running and not self._deferred:
                self._idle.set()

    async def _run(self, loop: asyncio.AbstractEventLoop, entry: _Entry) -> None:
        job, row, store = entry.job, entry.row, self.store
        if store is not None and row is not None:
            store.began(row)
        try:
            await loop.run_in_executor(self._executor, self.handler, job)
        except ReviewDeferred as deferred:
            self.deferred_total += 1
            if store is not None and row is not None:
                store.wait(row, deferred.until)
            # A try that waited for GitHub is not an earlier try that spent the deadline.
            extra = {k: v for k, v in job.extra.items() if k != EARLIER_TRY_KEY}
            self._wait(_Entry(replace(job, extra=extra), row), deferred.until)
            return
        except Exception:
            log.exception("job failed", extra={"fields": {"delivery": job.delivery_id}})
        if store is not None and row is not None:
            store.remove([row])

    async def join(self, timeout: float | None = None) -> None:
        """Wait until every accepted job has run (tests, and graceful shutdown)."""
        assert self._idle is not None
        await asyncio.wait_for(self._idle.wait(), timeout)
