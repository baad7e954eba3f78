"""The embedded queue: web and worker in one process, jobs run on a thread pool (PyGithub is blocking).

- bounded: a full queue refuses (the webhook answers 503 and GitHub shows the delivery as failed);
- one job at a time per pull request (`job.pull_key`);
- newest head wins: a waiting review is dropped when a newer one for the same pull request arrives;
- delivery ids remembered for a while, so a redelivery is not reviewed twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from app.service.jobs import Job, QueueUnavailable

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


class MemoryQueue:
    def __init__(self, handler: Handler, *, size: int = 1000, workers: int = 4, delivery_ttl: float = 86_400) -> None:
        self.handler = handler
        self.size = size
        self.workers = workers
        self.deliveries = DeliveryLog(delivery_ttl)
        self.dropped = 0  # superseded jobs, for tests and logs
        self._pending: dict[str, deque[Job]] = {}
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

    async def stop(self) -> None:
        """Let running jobs finish; waiting ones are dropped (GitHub shows their check runs as never started)."""
        executor, self._executor = self._executor, None
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
        return self._depth

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
        waiting = self._pending.setdefault(job.pull_key, deque())
        kept = deque(old for old in waiting if not supersedes(job, old))
        superseded = len(waiting) - len(kept)
        if self._depth - superseded >= self.size:
            raise QueueUnavailable(f"queue full ({self.size} jobs waiting)")
        self.dropped += superseded
        kept.append(job)
        self._pending[job.pull_key] = kept
        self._depth += 1 - superseded
        if job.kind == "review" and job.head_sha and job.event.startswith("pull_request."):
            self._heads[job.pull_key] = job.head_sha
        assert self._idle is not None
        self._idle.clear()
        if job.pull_key not in self._running:
            self._running.add(job.pull_key)
            task = asyncio.get_running_loop().create_task(self._drain(job.pull_key))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

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
                    job = waiting.popleft()
                    self._depth -= 1
                    try:
                        await loop.run_in_executor(self._executor, self.handler, job)
                    except Exception:
                        log.exception("job failed", extra={"fields": {"delivery": job.delivery_id}})
        finally:
            self._running.discard(key)
            if not self._pending.get(key):
                self._pending.pop(key, None)
                self._heads.pop(key, None)  # nothing left that could be older
            if not self._running:
                self._idle.set()

    async def join(self, timeout: float | None = None) -> None:
        """Wait until every accepted job has run (tests, and graceful shutdown)."""
        assert self._idle is not None
        await asyncio.wait_for(self._idle.wait(), timeout)
