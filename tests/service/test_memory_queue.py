"""The embedded queue: bounded, one job per pull request at a time, newest head wins, dedupe."""

from __future__ import annotations

import asyncio
import threading

import pytest

from align.service.jobs import Job, QueueUnavailable
from align.service.memory_queue import DeliveryLog, MemoryQueue, supersedes


def job(event: str = "pull_request.synchronize", pull: int = 1, head: str = "h1", kind: str = "review") -> Job:
    return Job(kind, f"d-{event}-{pull}-{head}", event, 42, "octo/repo", pull, head)  # type: ignore[arg-type]


def test_supersedes_rules() -> None:
    old = job(head="h1")
    assert supersedes(job(head="h2"), old)
    assert supersedes(job("check_run.rerequested", head="h1"), old)  # same commit again
    assert not supersedes(job("check_run.rerequested", head="h0"), old)  # a re-run of an older commit
    assert not supersedes(job(pull=2), old)
    assert not supersedes(job(), job("issue_comment.created", kind="command"))  # commands are never lost


def test_one_at_a_time_per_pull_and_newest_head_wins() -> None:
    async def scenario() -> tuple[list[str], int, int]:
        started = threading.Event()
        release = threading.Event()
        ran: list[str] = []
        active: dict[int, int] = {}
        overlap = 0

        def handler(j: Job) -> None:
            nonlocal overlap
            assert j.pull_number is not None
            active[j.pull_number] = active.get(j.pull_number, 0) + 1
            overlap = max(overlap, active[j.pull_number])
            started.set()
            release.wait(5)
            ran.append(f"{j.pull_number}:{j.head_sha}")
            active[j.pull_number] -= 1

        queue = MemoryQueue(handler, size=10, workers=4)
        await queue.start()
        await queue.enqueue(job(head="h1"))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
        await queue.enqueue(job(head="h2"))  # waits behind h1 ...
        await queue.enqueue(job(head="h3"))  # ... and is replaced by h3
        await queue.enqueue(job("issue_comment.created", kind="command", head=""))
        await queue.enqueue(job(pull=2, head="x1"))
        release.set()
        await queue.join(10)
        await queue.stop()
        return ran, overlap, queue.dropped

    ran, overlap, dropped = asyncio.run(scenario())
    assert overlap == 1
    assert "1:h2" not in ran and dropped == 1
    assert ran.index("1:h1") < ran.index("1:h3")
    assert sorted(ran) == sorted(["1:h1", "1:h3", "1:", "2:x1"])


def test_full_queue_refuses() -> None:
    async def scenario() -> None:
        release = threading.Event()

        def hold(_: Job) -> None:
            release.wait(5)

        queue = MemoryQueue(hold, size=1, workers=1)
        await queue.start()
        await queue.enqueue(job(pull=1))
        await asyncio.sleep(0.05)  # the first runs, the second waits
        await queue.enqueue(job(pull=2))
        with pytest.raises(QueueUnavailable):
            await queue.enqueue(job(pull=3))
        await queue.enqueue(job(pull=2, head="h9"))  # replacing a waiting job needs no extra room
        assert queue.depth() == 1
        release.set()
        await queue.join(5)
        await queue.stop()

    asyncio.run(scenario())


def test_not_started_queue_is_unavailable() -> None:
    async def scenario() -> None:
        queue = MemoryQueue(lambda j: None)
        assert not await queue.ready()
        with pytest.raises(QueueUnavailable):
            await queue.enqueue(job())

    asyncio.run(scenario())


def test_delivery_log_is_bounded_in_size_and_age() -> None:
    now = [0.0]
    log = DeliveryLog(ttl=10, max_entries=3, clock=lambda: now[0])
    assert log.first("a") and not log.first("a")
    now[0] = 11
    assert log.first("a")  # expired
    for name in "bcd":
        log.first(name)
    assert log.first("a")  # evicted by size
    log.forget("d")
    assert log.first("d")


def test_a_running_review_learns_that_a_newer_head_arrived() -> None:
    async def scenario() -> tuple[list[str | None], str | None]:
        started, release = threading.Event(), threading.Event()
        seen: list[str | None] = []
        queue: MemoryQueue

        def handler(j: Job) -> None:
            started.set()
            release.wait(5)
            seen.append(queue.latest_head(j.pull_key))

        queue = MemoryQueue(handler, size=10, workers=2)
        await queue.start()
        await queue.enqueue(job(head="h1"))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
        await queue.enqueue(job("check_run.rerequested", head="h0"))  # a re-run announces no head
        await queue.enqueue(job(head="h2"))
        release.set()
        await queue.join(5)
        await queue.stop()
        return seen, queue.latest_head(job().pull_key)

    seen, after = asyncio.run(scenario())
    assert seen == ["h2", "h2"]  # h1 saw that it was superseded (h0's re-run was replaced), h2 saw itself
    assert after is None  # forgotten once the pull request has nothing waiting or running
