"""The embedded queue's durable store: what is accepted is on disk before the webhook answers, what finished or
was superseded leaves it, and a queue started on the same store takes the rest back in order."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from align.service.app import create_app
from align.service.job_store import JobStore
from align.service.jobs import Job
from align.service.memory_queue import MemoryQueue
from align.service.review_deadline import EARLIER_TRY_KEY
from align.service.settings import SettingsError

from .conftest import make_settings


def _job(n: int, pull: int, head: str) -> Job:
    return Job("review", f"d-{n}", "pull_request.synchronize", 42, "octo/repo", pull, head)


def test_a_queue_started_on_the_store_of_a_killed_one_runs_what_it_had_accepted(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    release = threading.Event()
    first_ran: list[str] = []

    def stuck(job: Job) -> None:
        first_ran.append(job.delivery_id)
        release.wait(30)

    async def accept() -> None:
        queue = MemoryQueue(stuck, workers=1, store=JobStore(path))
        await queue.start()
        for job in (_job(1, 1, "a1"), _job(2, 2, "b1"), _job(3, 3, "c1")):
            await queue.enqueue(job)
        while not first_ran:
            await asyncio.sleep(0.01)
        # The process "dies" here: nothing more runs, nothing is cleaned up.

    asyncio.run(accept())
    assert len(JobStore(path).all()) == 3

    ran: list[Job] = []

    async def restart() -> None:
        queue = MemoryQueue(ran.append, workers=1, store=JobStore(path))
        await queue.start()
        await queue.join(timeout=10)
        await queue.stop()

    asyncio.run(restart())
    release.set()
    assert [job.delivery_id for job in ran] == ["d-1", "d-2", "d-3"]
    assert EARLIER_TRY_KEY in ran[0].extra  # it was running: the handler learns when that try began
    assert EARLIER_TRY_KEY not in ran[1].extra and EARLIER_TRY_KEY not in ran[2].extra
    assert JobStore(path).all() == []


def test_a_superseded_waiting_job_leaves_the_store(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.sqlite3")
    release = threading.Event()

    async def run() -> None:
        queue = MemoryQueue(lambda job: release.wait(30) and None, workers=1, store=store)
        await queue.start()
        await queue.enqueue(_job(1, 9, "other"))  # holds the only worker
        await queue.enqueue(_job(2, 1, "a1"))
        await queue.enqueue(_job(3, 1, "a2"))  # a newer head of pull 1: its waiting review is dropped
        assert [s.job.delivery_id for s in store.all()] == ["d-1", "d-3"]
        release.set()
        await queue.join(timeout=10)
        await queue.stop()

    asyncio.run(run())
    assert store.all() == []


def test_a_job_store_that_cannot_be_written_refuses_to_start_naming_the_setting(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(SettingsError, match="ALIGN_DATA_DIR"):
        create_app(make_settings(data_dir=blocker / "data"))
