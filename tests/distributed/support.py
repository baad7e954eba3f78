"""Helpers shared by the distributed tests: jobs, a worker run in this process, waiting on a condition."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

from rq.timeouts import TimerDeathPenalty

from align.service.jobs import Job
from align.service.redis_queue import RedisQueueConfig
from align.service.worker_main import AlignWorker, JobHandler, build_worker


def push(name: str, n: int, pull: int, head: str, *, event: str = "pull_request.synchronize",
         kind: str = "review", extra: dict[str, str] | None = None) -> Job:
    return Job(kind, f"{name}-d{n}", event, 7, "octo/gpu", pull, head, extra=extra or {})  # type: ignore[arg-type]


def worker_for(config: RedisQueueConfig, handler: JobHandler) -> AlignWorker:
    worker = build_worker(config, handler, heartbeat_file=None)
    # pytest-timeout owns SIGALRM in the main thread; a thread-based death penalty leaves it alone.
    worker.death_penalty_class = TimerDeathPenalty
    return worker


def drain(worker: AlignWorker) -> None:
    """Run every job that is queued now (burst mode), keeping pytest's own signal handlers."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        worker.work(burst=True, logging_level="WARNING")
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def wait_for(condition: Callable[[], bool], timeout: float = 30.0, step: float = 0.1) -> bool:
    """Poll until the condition holds; False when the timeout passes (the caller asserts)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()
