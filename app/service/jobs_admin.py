"""`align jobs`: what the distributed queue holds — queued, scheduled, running and failed jobs with their
errors — and putting failed jobs back on the queue once the cause is fixed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, TextIO

import redis
from rq import Queue
from rq.job import Job as RQJob
from rq.registry import BaseRegistry, FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from rq.results import Result

from align.service.logging_setup import redact
from align.service.redis_queue import SERIALIZER, RedisQueueConfig, connect

LIMIT = 50  # jobs listed per section; the counts are always complete


def list_jobs(settings: Any, out: TextIO, *, requeue_failed: bool = False) -> int:
    """The CLI entry point. 0 on success, 1 when Redis cannot be reached, 2 without ALIGN_QUEUE=redis."""
    if settings.queue != "redis":
        out.write("align jobs: needs ALIGN_QUEUE=redis (the embedded queue lives inside `align serve`)\n")
        return 2
    config = RedisQueueConfig.from_settings(settings)
    return report_jobs(config, out, requeue_failed=requeue_failed)


def report_jobs(config: RedisQueueConfig, out: TextIO, *, requeue_failed: bool = False) -> int:
    client = connect(config, socket_timeout=5.0)
    queue = Queue(config.queue_name, connection=client, serializer=SERIALIZER)
    try:
        if requeue_failed:
            count = requeue_failed_jobs(queue, config)
            out.write(f"requeued {count} failed job{'s' if count != 1 else ''}\n")
        _write_report(queue, out)
    except redis.RedisError as error:
        where = client.connection_pool.connection_kwargs
        out.write(f"align jobs: Redis unreachable at {where.get('host')}:{where.get('port')} "
                  f"({type(error).__name__})\n")
        return 1
    finally:
        client.close()
    return 0


def requeue_failed_jobs(queue: Queue, config: RedisQueueConfig) -> int:
    """Every failed job back on the queue with its tries renewed. Returns how many."""
    registry = FailedJobRegistry(queue=queue)
    count = 0
    for job in _fetch(queue, registry.get_job_ids()):
        job.retries_left = config.retry.max
        registry.requeue(job)
        count += 1
    return count


def _write_report(queue: Queue, out: TextIO) -> None:
    scheduled = ScheduledJobRegistry(queue=queue)
    started = StartedJobRegistry(queue=queue)
    failed = FailedJobRegistry(queue=queue)
    queued_ids = queue.get_job_ids()
    sections: list[tuple[str, BaseRegistry | None, list[str]]] = [
        ("queued", None, queued_ids),
        ("scheduled", scheduled, scheduled.get_job_ids()),
        ("running", started, started.get_job_ids()),
        ("failed", failed, failed.get_job_ids()),
    ]
    counts = ", ".join(f"{len(ids)} {name}" for name, _, ids in sections)
    out.write(f"queue {queue.name}: {counts}\n")
    for name, registry, ids in sections:
        if not ids:
            continue
        out.write(f"\n{name.upper()}\n")
        for job in _fetch(queue, ids[:LIMIT]):
            out.write(f"  {job.id}  {job.description}{_detail(name, job, registry)}\n")
        if len(ids) > LIMIT:
            out.write(f"  ... and {len(ids) - LIMIT} more\n")


def _fetch(queue: Queue, ids: Iterable[str]) -> list[RQJob]:
    jobs = RQJob.fetch_many(list(ids), connection=queue.connection, serializer=queue.serializer)
    return [job for job in jobs if job is not None]


def _detail(section: str, job: RQJob, registry: BaseRegistry | None) -> str:
    if section == "queued":
        return f"  (queued {_when(job.enqueued_at)})"
    if section == "scheduled" and isinstance(registry, ScheduledJobRegistry):
        latest = job.latest_result()
        deferred = latest is not None and latest.type == Result.Type.RETRIED  # the job returned Retry: PR busy
        why = "waiting for its pull request" if deferred else "retry after an error"
        return f"  ({why}, at {_when(registry.get_scheduled_time(job))})"
    if section == "running":
        return f"  (on {job.worker_name or '?'} since {_when(job.started_at)})"
    return f"  (failed {_when(job.ended_at)}): {_error(job)}"


def _error(job: RQJob) -> str:
    """The last line of the failure, which names the exception, scrubbed of secrets."""
    result = job.latest_result()
    text = result.exc_string if result is not None and result.type == Result.Type.FAILED else None
    if not text:
        return "no error recorded (ran out of tries)"
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return redact(lines[-1][:300]) if lines else "?"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%SZ") if moment else "?"
