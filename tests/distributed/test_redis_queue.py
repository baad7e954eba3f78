"""RedisQueue and the worker-side rules against a real Redis: dedupe, newest head wins, one review at a time
per pull request, retries with back-off ending in the failed registry, and a Redis outage refused loudly."""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace

import pytest
import redis
from rq import Queue
from rq.job import Job as RQJob
from rq.registry import FailedJobRegistry, ScheduledJobRegistry

from align.service.jobs import Job, QueueUnavailable
from align.service.jobs_admin import report_jobs
from align.service.redis_queue import SERIALIZER, PullGate, RedisQueue, RedisQueueConfig, connect, rq_job_id
from tests.distributed.support import drain, push, wait_for, worker_for

pytestmark = pytest.mark.redis


def enqueue_all(config: RedisQueueConfig, *jobs: Job) -> RedisQueue:
    queue = RedisQueue(config)

    async def go() -> None:
        await queue.start()
        for job in jobs:
            await queue.enqueue(job)

    asyncio.run(go())
    return queue


def rq_queue(config: RedisQueueConfig) -> Queue:
    return Queue(config.queue_name, connection=connect(config), serializer=SERIALIZER)


def test_a_delivery_is_seen_once_across_web_processes(config: RedisQueueConfig) -> None:
    first, second = RedisQueue(config), RedisQueue(config)

    async def go() -> list[bool]:
        return [await first.first_delivery("abc"), await second.first_delivery("abc"),
                await second.first_delivery("abd")]

    assert asyncio.run(go()) == [True, False, True]
    ttl = connect(config).ttl(f"{config.prefix}:delivery:abc")
    assert 0 < ttl <= config.delivery_ttl
    asyncio.run(first.forget_delivery("abc"))  # after a 503, GitHub's redelivery must get through
    assert asyncio.run(second.first_delivery("abc")) is True


def test_the_newest_head_wins_and_older_heads_are_dropped_unrun(config: RedisQueueConfig, name: str) -> None:
    queue = enqueue_all(
        config,
        push(name, 1, 5, "aaa"),
        push(name, 2, 5, "bbb"),
        push(name, 3, 6, "xxx"),  # another pull request is not affected
        push(name, 4, 5, "ccc"),
    )
    assert queue.depth() == 4
    ran: list[tuple[int | None, str | None]] = []
    drain(worker_for(config, lambda job: ran.append((job.pull_number, job.head_sha))))
    assert sorted(ran, key=str) == [(5, "ccc"), (6, "xxx")]
    assert queue.depth() == 0
    outcomes = {job.head_sha: RQJob.fetch(rq_job_id(job), connection=connect(config), serializer=SERIALIZER)
                .return_value() for job in (push(name, 1, 5, "aaa"), push(name, 4, 5, "ccc"))}
    assert outcomes == {"aaa": "superseded", "ccc": "done"}


def test_a_rerun_of_an_old_head_never_displaces_the_newest(config: RedisQueueConfig, name: str) -> None:
    newest = push(name, 1, 5, "bbb")
    old_rerun = push(name, 2, 5, "aaa", event="check_run.rerequested")
    command = push(name, 3, 5, "", kind="command", event="issue_comment.created")
    command = replace(command, head_sha=None, command_text="/align review")
    enqueue_all(config, newest, old_rerun, command)
    ran: list[str] = []
    drain(worker_for(config, lambda job: ran.append(job.event)))
    assert ran == ["pull_request.synchronize", "issue_comment.created"]
    assert PullGate(connect(config), config).latest_head(newest.pull_key) == "bbb"


def test_an_outdated_job_that_already_began_is_run_to_finish_its_work(config: RedisQueueConfig, name: str) -> None:
    """A try that was killed after it began may have left a check run in progress: the handler must run again
    (it completes the run as outdated) even though a newer head arrived meanwhile."""
    old, new = push(name, 1, 5, "aaa"), push(name, 2, 5, "bbb")
    enqueue_all(config, old, new)
    PullGate(connect(config), config).set_job_state(rq_job_id(old), "began")
    ran: list[str | None] = []
    drain(worker_for(config, lambda job: ran.append(job.head_sha)))
    assert ran == ["aaa", "bbb"]


def test_a_job_for_a_busy_pull_request_waits_and_then_runs(config: RedisQueueConfig, name: str) -> None:
    job = push(name, 1, 5, "aaa")
    gate = PullGate(connect(config), config)
    assert gate.try_lock(job.pull_key, "another-worker")  # a review of this pull request is running elsewhere
    enqueue_all(config, job)
    ran: list[str | None] = []
    worker = worker_for(config, lambda j: ran.append(j.head_sha))
    drain(worker)
    assert ran == []
    waiting = rq_queue(config).get_job_ids() + ScheduledJobRegistry(queue=rq_queue(config)).get_job_ids()
    assert waiting == [rq_job_id(job)]  # re-queued with a short delay, not lost
    assert RQJob.fetch(rq_job_id(job), connection=connect(config), serializer=SERIALIZER).number_of_retries

    gate.release_lock(job.pull_key, "another-worker")

    def step() -> bool:
        worker.keeper.sweep()
        drain(worker)
        return ran == ["aaa"]

    assert wait_for(step, timeout=10, step=0.3)


def test_the_lock_is_kept_and_released_only_by_its_owner(config: RedisQueueConfig) -> None:
    gate = PullGate(connect(config), config)
    assert gate.try_lock("7:o/r#1", "a")
    assert not gate.try_lock("7:o/r#1", "b")
    assert not gate.refresh_lock("7:o/r#1", "b")
    gate.release_lock("7:o/r#1", "b")
    assert gate.refresh_lock("7:o/r#1", "a")
    gate.release_lock("7:o/r#1", "a")
    assert gate.try_lock("7:o/r#1", "b")


def test_a_failing_job_is_retried_with_back_off_then_kept_as_failed(config: RedisQueueConfig, name: str) -> None:
    tries: list[str | None] = []

    def broken(job: Job) -> None:
        tries.append(job.head_sha)
        raise RuntimeError("GitHub unreachable: token=ghs_abcdefghijklmnop")

    job = push(name, 1, 5, "aaa")
    enqueue_all(config, job)
    worker = worker_for(config, broken)
    failed = FailedJobRegistry(queue=rq_queue(config))

    def step() -> bool:
        worker.keeper.sweep()  # promotes the retry once its back-off has passed
        drain(worker)
        return rq_job_id(job) in failed.get_job_ids()

    assert wait_for(step, timeout=20, step=0.3)
    assert tries == ["aaa"] * 3  # the first try and two retries (retry_intervals has two entries)
    # Nothing holds the pull request afterwards.
    assert PullGate(connect(config), config).try_lock(job.pull_key, "next")

    out = io.StringIO()
    assert report_jobs(config, out) == 0
    report = out.getvalue()
    assert "0 queued, 0 scheduled, 0 running, 1 failed" in report
    assert "RuntimeError: GitHub unreachable" in report and "ghs_abcdefghijklmnop" not in report

    out = io.StringIO()
    assert report_jobs(config, out, requeue_failed=True) == 0
    assert "requeued 1 failed job" in out.getvalue() and "1 queued" in out.getvalue()
    requeued = RQJob.fetch(rq_job_id(job), connection=connect(config), serializer=SERIALIZER)
    assert requeued.retries_left == config.retry.max


def test_redis_down_means_not_ready_and_work_refused(closed_port: int) -> None:
    down = RedisQueue(RedisQueueConfig(redis_url=f"redis://127.0.0.1:{closed_port}/0"))

    async def go() -> None:
        await down.start()
        assert await down.ready() is False
        assert await down.first_delivery("x") is True  # not known to be a duplicate: enqueue decides
        with pytest.raises(QueueUnavailable):
            await down.enqueue(push("t", 1, 5, "aaa"))
        await down.forget_delivery("x")  # best effort, never raises
        await down.stop()

    asyncio.run(go())
    assert down.depth() == 0  # metrics keep their last value instead of failing the scrape
    out = io.StringIO()
    assert report_jobs(down.config, out) == 1
    assert "Redis unreachable" in out.getvalue()


def test_job_ids_are_valid_rq_ids_and_distinct_per_pull_request() -> None:
    one = Job("review", "weird id/with:stuff", "check_suite.rerequested", 1, "o/r", 1, "abc")
    two = replace(one, pull_number=2)
    assert rq_job_id(one) != rq_job_id(two)
    assert rq_job_id(one).startswith("weird_id_with_stuff-")


def test_ready_is_true_against_a_live_redis(config: RedisQueueConfig) -> None:
    queue = RedisQueue(config)

    async def go() -> bool:
        await queue.start()
        ready = await queue.ready()
        await queue.stop()
        return ready

    assert asyncio.run(go()) is True
    assert isinstance(connect(config), redis.Redis)
