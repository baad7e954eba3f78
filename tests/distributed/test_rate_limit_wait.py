"""GitHub's limits in the distributed mode: a review that has to wait is scheduled again by RQ at the time the
limits name (not failed, not dropped), its check run says until when, and it completes afterwards."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace

import pytest
from rq import Queue
from rq.job import Job as RQJob
from rq.registry import FailedJobRegistry, ScheduledJobRegistry

from align.service import budget
from align.service.jobs import Job
from align.service.redis_queue import SERIALIZER, RedisQueue, RedisQueueConfig, connect, rq_job_id
from align.service.worker import handle_job
from tests.distributed.support import drain, wait_for, worker_for
from tests.service.conftest import _key_pair
from tests.service.stack import Stack, start_stack, stop_stack
from tests.service.test_rate_limit_wait import HOUR, LIMITS, MINUTE, MISMATCH, PER_HOUR
from tests.service.test_resume import detach, job_of_last_delivery

pytestmark = pytest.mark.redis


@pytest.fixture
def limited() -> Iterator[Stack]:
    s = start_stack(*_key_pair(), gateway_options={"budget": budget.LocalRequestBudget(LIMITS, max_wait=0.5)},
                    max_rate_limit_wait=0.5)
    s.sim.enable_secondary_limits(content_per_hour=PER_HOUR, minute_seconds=MINUTE, hour_seconds=HOUR)
    yield s
    stop_stack(s)


def test_a_review_waiting_for_githubs_limits_is_scheduled_again_and_completes(
    limited: Stack, config: RedisQueueConfig
) -> None:
    detach(limited)
    limited.sim.commit(limited.repo, "late", {"config/late.py": MISMATCH}, "change")
    number = limited.sim.open_pull(limited.repo, "late", title="Late", user="dev")
    job = job_of_last_delivery(limited)
    for _ in range(PER_HOUR - 1):  # room for the check run, not for the inline review after it
        limited.gateway.budget.acquire(limited.installation, budget.RequestCost(5, True))
    deps = replace(limited.deps, latest_head=None)
    outcomes: list[str] = []

    def handler(queued: Job) -> None:
        try:
            handle_job(queued, deps)
            outcomes.append("done")
        except Exception as error:
            outcomes.append(type(error).__name__)
            raise

    asyncio.run(RedisQueue(config).enqueue(job))
    worker = worker_for(config, handler)
    drain(worker)
    rq = Queue(config.queue_name, connection=connect(config), serializer=SERIALIZER)
    assert outcomes == ["ReviewDeferred"]
    assert ScheduledJobRegistry(queue=rq).get_job_ids() == [rq_job_id(job)]  # waiting, not failed
    [run] = limited.runs(str(job.head_sha))
    assert run.status == "queued" and str(run.output["title"]).startswith("Queued until ")

    def step() -> bool:
        worker.keeper.sweep()
        drain(worker)
        return outcomes[-1] == "done"

    assert wait_for(step, timeout=30, step=0.5)
    rq_job = RQJob.fetch(rq_job_id(job), connection=rq.connection, serializer=SERIALIZER)
    assert rq_job.get_status() == "finished" and rq_job.return_value() == "done"
    assert FailedJobRegistry(queue=rq).get_job_ids() == []
    [run] = limited.runs(str(job.head_sha))
    assert (run.status, run.conclusion) == ("completed", "failure")
    assert limited.inline(number) and len(limited.summaries(number)) == 1
