"""The review deadline in the distributed mode: an RQ job whose review hit the deadline ends as done (its
check run completed, saying so) and is not retried onto the next worker; a job retried after its worker died
learns when its first try began."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from rq import Queue
from rq.job import Job as RQJob
from rq.registry import FailedJobRegistry, ScheduledJobRegistry

from align.service.jobs import Job
from align.service.redis_queue import SERIALIZER, PullGate, RedisQueue, RedisQueueConfig, connect, rq_job_id
from align.service.review_deadline import EARLIER_TRY_KEY
from align.service.worker import handle_job
from tests.distributed.support import drain, push, worker_for
from tests.service.conftest import _key_pair
from tests.service.stack import Stack, start_stack, stop_stack
from tests.service.test_resume import detach, job_of_last_delivery
from tests.service.test_review_deadline import Signals, _StuckRule, _with

pytestmark = pytest.mark.redis


@pytest.fixture
def signals(tmp_path: Path) -> Iterator[Signals]:
    held = Signals(tmp_path)
    yield held
    held.let_go()


@pytest.fixture
def stack(signals: Signals) -> Iterator[Stack]:
    s = start_stack(*_key_pair(), review_deadline=1.0, workers=1)
    yield s
    signals.let_go()
    stop_stack(s)


def test_a_job_that_hit_its_deadline_is_done_and_never_retried_onto_the_next_worker(
    stack: Stack, config: RedisQueueConfig, signals: Signals
) -> None:
    detach(stack)
    stack.sim.commit(stack.repo, "stuck", {"stuck.md": "anything\n"}, "change")
    stack.sim.open_pull(stack.repo, "stuck", title="Stuck", user="dev")
    job = job_of_last_delivery(stack)
    deps = replace(stack.deps, rules=_with(_StuckRule(signals)), latest_head=None)
    calls: list[Job] = []

    def handler(queued: Job) -> None:
        calls.append(queued)
        handle_job(queued, deps)

    asyncio.run(RedisQueue(config).enqueue(job))
    drain(worker_for(config, handler))

    assert len(calls) == 1
    rq = Queue(config.queue_name, connection=connect(config), serializer=SERIALIZER)
    rq_job = RQJob.fetch(rq_job_id(job), connection=rq.connection, serializer=SERIALIZER)
    assert rq_job.get_status() == "finished" and rq_job.return_value() == "done"
    assert FailedJobRegistry(queue=rq).get_job_ids() == []
    assert ScheduledJobRegistry(queue=rq).get_job_ids() == []
    run = stack.last_run(str(job.head_sha))
    assert (run.status, run.conclusion) == ("completed", "neutral")
    assert "deadline passed" in str(run.output["summary"])


def test_a_retried_job_is_told_when_its_first_try_began(config: RedisQueueConfig, name: str) -> None:
    job = push(name, 1, 5, "aaa")
    gate = PullGate(connect(config), config)
    gate.first_began(rq_job_id(job), 1000.0)  # as a first try whose worker then died
    seen: list[dict[str, Any]] = []
    asyncio.run(RedisQueue(config).enqueue(job))
    drain(worker_for(config, lambda queued: seen.append(queued.extra)))
    assert [extra[EARLIER_TRY_KEY] for extra in seen] == ["1000.0"]
    assert gate.first_began(rq_job_id(job), 2000.0) == 1000.0  # never moved by a later try
