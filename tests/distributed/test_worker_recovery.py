"""A worker killed with SIGKILL in the middle of a job: another worker picks the job up and completes it."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from rq import Queue
from rq.job import Job as RQJob
from rq.registry import FailedJobRegistry, StartedJobRegistry

from align.service.redis_queue import SERIALIZER, RedisQueue, RedisQueueConfig, connect, rq_job_id
from tests.distributed.support import push, wait_for

pytestmark = pytest.mark.redis
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def start_worker(config: RedisQueueConfig, tmp_path: Path) -> Iterator[object]:
    started: list[subprocess.Popen[bytes]] = []

    def start(label: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.distributed.tiny_worker",
             json.dumps(dataclasses.asdict(config)), str(tmp_path / f"{label}.alive")],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def test_a_job_survives_its_worker_being_killed(config: RedisQueueConfig, name: str, start_worker, tmp_path: Path
                                                ) -> None:
    client = redis.Redis.from_url(config.redis_url, decode_responses=True)
    workers = {p.pid: p for p in (start_worker("a"), start_worker("b"))}
    hanging = push(name, 1, 5, "aaa", extra={"hang": "1"})
    other = push(name, 2, 6, "bbb")
    queue = RedisQueue(config)
    asyncio.run(queue.enqueue(hanging))

    first = client.blpop([f"{name}:started"], timeout=30)
    assert first is not None, "no worker picked the job up"
    victim = int(first[1].split()[0])
    os.kill(victim, signal.SIGKILL)
    workers.pop(victim).wait(timeout=10)
    asyncio.run(queue.enqueue(other))  # work keeps flowing meanwhile

    def finished() -> list[str]:
        return [str(entry) for entry in client.lrange(f"{name}:finished", 0, -1)]

    assert wait_for(lambda: len(finished()) == 2, timeout=45), f"finished: {finished()}"
    survivor = next(iter(workers))
    assert sorted(finished()) == sorted([f"{survivor} {hanging.delivery_id}", f"{survivor} {other.delivery_id}"])
    assert client.get(f"{name}:attempts:{hanging.delivery_id}") == "2"  # picked up again once, not more

    rq = Queue(config.queue_name, connection=connect(config), serializer=SERIALIZER)
    job = RQJob.fetch(rq_job_id(hanging), connection=rq.connection, serializer=SERIALIZER)
    assert wait_for(lambda: job.get_status() == "finished", timeout=10)
    assert job.return_value() == "done"
    assert FailedJobRegistry(queue=rq).get_job_ids() == []
    assert StartedJobRegistry(queue=rq).get_job_ids() == []
    assert queue.depth() == 0
    assert (tmp_path / "b.alive").exists() or (tmp_path / "a.alive").exists()  # the liveness file is kept
