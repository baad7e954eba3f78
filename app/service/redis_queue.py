"""The distributed queue (ALIGN_QUEUE=redis): web processes enqueue, `align worker` processes run reviews.

RQ carries the jobs (queue, retries with back-off, started and failed registries); this module adds what a
pull-request bot needs on top:

- deliveries deduplicated in Redis (SET NX EX), so a redelivery reaching another web process is caught;
- the newest head wins: each `pull_request.*` job records its head as the latest for its pull request in the
  same transaction that enqueues it, and a worker drops a review whose head is no longer the latest;
- one review at a time per pull request: a lock with a lease the worker keeps alive (see worker_main); a job
  that finds its pull request busy asks RQ to run it again a moment later (RQ's returned `Retry`);
- a Redis outage is reported at once (short socket timeouts): `ready()` is False and `enqueue` raises
  QueueUnavailable, so the webhook answers 503 instead of accepting work it would lose.

Key layout: RQ's own keys live under `rq:` (queue `rq:queue:<queue_name>`); ours under `<prefix>:`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
from dataclasses import dataclass, fields
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry as RedisRetry
from rq import Queue, Retry
from rq.registry import ScheduledJobRegistry
from rq.serializers import JSONSerializer

from align.service.jobs import Job, QueueUnavailable

# The function RQ runs: it lives in the worker module, named here so that web processes never import it.
JOB_FUNCTION = "align.service.worker_main.perform"

# JSON rather than RQ's default pickle: nothing read back from Redis can run code in a worker.
SERIALIZER = JSONSerializer
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class RedisQueueConfig:
    redis_url: str = "redis://127.0.0.1:6379/0"
    prefix: str = "align"  # our keys; RQ's keys are under "rq:"
    queue_name: str = "align"
    delivery_ttl: float = 24 * 3600  # how long a delivery id is remembered
    head_ttl: float = 7 * 24 * 3600  # how long the latest head of an idle pull request is remembered
    job_state_ttl: float = 24 * 3600  # how long a job's progress (began, done) is remembered
    lease_seconds: float = 30.0  # a dead worker's job and pull-request lock are taken over after this
    sweep_seconds: float = 1.0  # how often a worker promotes due retries and reaps abandoned jobs
    job_timeout: int = 900  # a review running longer is stopped and retried
    retry_intervals: tuple[int, ...] = (10, 60, 300)  # back-off between tries; len() = retries after the first
    defer_seconds: int = 2  # a job for a busy pull request runs again after this
    defer_max: int = 1800  # ... at most this many times (an hour at 2 s), then it fails visibly
    socket_timeout: float = 1.0  # web side: fail fast rather than hold a webhook answer
    result_ttl: int = 3600
    failure_ttl: int = 7 * 24 * 3600

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> RedisQueueConfig:
        """Values the service Settings carry (URL, delivery TTL, and any field of this class it defines)."""
        values: dict[str, Any] = {"redis_url": settings.redis_url}
        if getattr(settings, "delivery_ttl_seconds", None) is not None:
            values["delivery_ttl"] = float(settings.delivery_ttl_seconds)
        for field in fields(cls):  # optional tuning: Settings may define `redis_<field>` (redis_lease_seconds...)
            setting = getattr(settings, f"redis_{field.name}", None)
            if setting is not None:
                values[field.name] = setting
        values.update(overrides)
        return cls(**values)

    @property
    def retry(self) -> Retry:
        return Retry(max=max(len(self.retry_intervals), 1), interval=list(self.retry_intervals) or [0])


def connect(config: RedisQueueConfig, *, socket_timeout: float | None = None) -> redis.Redis:
    """A client that fails fast: one reconnect attempt without back-off, short timeouts."""
    timeout = config.socket_timeout if socket_timeout is None else socket_timeout
    return redis.Redis.from_url(
        config.redis_url,
        socket_timeout=timeout,
        socket_connect_timeout=min(timeout, 2.0),
        retry=RedisRetry(NoBackoff(), 1),
    )


def rq_job_id(job: Job) -> str:
    """Stable per job: the delivery id (readable in `align jobs`) plus a digest, since one delivery may ask
    for several jobs (a check suite with several pull requests)."""
    digest = hashlib.sha256(job.to_json().encode()).hexdigest()[:12]
    return f"{_UNSAFE_ID.sub('_', job.delivery_id)[:64]}-{digest}"


def announces_head(job: Job) -> bool:
    """Only pull_request events say what the pull request's head is now. A check run re-run may name an old
    commit and must not make it the latest."""
    return job.kind == "review" and bool(job.head_sha) and job.event.startswith("pull_request.")


def describe(job: Job) -> str:
    pull = f"#{job.pull_number}" if job.pull_number else ""
    head = f" @{job.head_sha[:7]}" if job.head_sha else ""
    return f"{job.kind} {job.event} {job.repository}{pull}{head}"


class Keys:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def delivery(self, delivery_id: str) -> str:
        return f"{self.prefix}:delivery:{delivery_id}"

    def head(self, pull_key: str) -> str:
        return f"{self.prefix}:head:{pull_key}"

    def lock(self, pull_key: str) -> str:
        return f"{self.prefix}:lock:{pull_key}"

    def job_state(self, rq_id: str) -> str:
        return f"{self.prefix}:job:{rq_id}"

    def began_at(self, rq_id: str) -> str:
        return f"{self.prefix}:began:{rq_id}"


# Extend or delete a lock only while we still own it: after a lease expired another worker may hold it.
_REFRESH_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def release_if_owner(client: redis.Redis, key: str, owner: str) -> bool:
    return bool(client.eval(_RELEASE_LOCK, 1, key, owner))


class PullGate:
    """The per-pull-request rules the workers apply before and while running a job."""

    def __init__(self, client: redis.Redis, config: RedisQueueConfig) -> None:
        self.client = client
        self.config = config
        self.keys = Keys(config.prefix)
        self._refresh = client.register_script(_REFRESH_LOCK)
        self._release = client.register_script(_RELEASE_LOCK)

    def latest_head(self, pull_key: str) -> str | None:
        value = self.client.get(self.keys.head(pull_key))
        return value.decode() if isinstance(value, bytes) else None

    def is_superseded(self, job: Job) -> bool:
        """A review of a head that is no longer the pull request's newest. Commands and reviews that do not
        name a head (the worker looks the head up) are never superseded."""
        if job.kind != "review" or not job.head_sha:
            return False
        latest = self.latest_head(job.pull_key)
        return latest is not None and latest != job.head_sha

    def try_lock(self, pull_key: str, owner: str) -> bool:
        lease_ms = int(self.config.lease_seconds * 1000)
        return bool(self.client.set(self.keys.lock(pull_key), owner, nx=True, px=lease_ms))

    def refresh_lock(self, pull_key: str, owner: str) -> bool:
        lease_ms = int(self.config.lease_seconds * 1000)
        return bool(self._refresh(keys=[self.keys.lock(pull_key)], args=[owner, lease_ms]))

    def release_lock(self, pull_key: str, owner: str) -> None:
        self._release(keys=[self.keys.lock(pull_key)], args=[owner])

    def job_state(self, rq_id: str) -> str | None:
        """"began" once the handler was called (it may have left work on GitHub to finish), "done" after."""
        value = self.client.get(self.keys.job_state(rq_id))
        return value.decode() if isinstance(value, bytes) else None

    def set_job_state(self, rq_id: str, state: str) -> None:
        self.client.set(self.keys.job_state(rq_id), state, ex=int(self.config.job_state_ttl))

    def first_began(self, rq_id: str, now: float) -> float:
        """When the first try of this job began (`now` for the first try): a retry after a worker died
        learns from it whether that try already spent the review's deadline."""
        key = self.keys.began_at(rq_id)
        with self.client.pipeline(transaction=True) as pipe:
            pipe.set(key, repr(now), nx=True, ex=int(self.config.job_state_ttl))
            pipe.get(key)
            _, stored = pipe.execute()
        try:
            return float(stored.decode()) if isinstance(stored, bytes) else now
        except ValueError:
            return now

    def forget_began(self, rq_id: str) -> None:
        self.client.delete(self.keys.began_at(rq_id))


class RedisQueue:
    """JobQueue on Redis for the web tier. Redis calls are short and run in a thread, off the event loop."""

    def __init__(self, config: RedisQueueConfig, client: redis.Redis | None = None) -> None:
        self.config = config
        self.keys = Keys(config.prefix)
        self._client = client
        self._queue: Queue | None = None
        self._last_depth = 0

    @property
    def client(self) -> redis.Redis:
        if self._client is None:
            self._client = connect(self.config)
        return self._client

    @property
    def rq_queue(self) -> Queue:
        if self._queue is None:
            self._queue = Queue(self.config.queue_name, connection=self.client, serializer=SERIALIZER,
                                default_timeout=self.config.job_timeout)
        return self._queue

    async def start(self) -> None:
        # No ping: a web process starts while Redis is away and reports not ready until it is back.
        _ = self.rq_queue

    async def stop(self) -> None:
        if self._client is not None:
            await asyncio.to_thread(self._client.close)

    async def ready(self) -> bool:
        try:
            return bool(await asyncio.to_thread(self.client.ping))
        except redis.RedisError:
            return False

    async def first_delivery(self, delivery_id: str) -> bool:
        """SET NX EX: one web process wins. Redis unreachable: True, so that the caller goes on to `enqueue`,
        which raises QueueUnavailable (503); a delivery is never dropped as a duplicate unseen."""
        try:
            stored = await asyncio.to_thread(
                self.client.set, self.keys.delivery(delivery_id), b"1", nx=True, ex=int(self.config.delivery_ttl)
            )
        except redis.RedisError:
            return True
        return bool(stored)

    async def forget_delivery(self, delivery_id: str) -> None:
        """The webhook answered 503, so GitHub marks the delivery failed: let its redelivery through."""
        with contextlib.suppress(redis.RedisError):  # best effort: Redis is probably unreachable
            await asyncio.to_thread(self.client.delete, self.keys.delivery(delivery_id))

    async def enqueue(self, job: Job) -> None:
        try:
            await asyncio.to_thread(self._enqueue, job)
        except redis.RedisError as error:
            raise QueueUnavailable(f"redis: {type(error).__name__}") from error

    def _enqueue(self, job: Job) -> None:
        """The latest head and the job land together (MULTI/EXEC): a worker never sees one without the other."""
        with self.client.pipeline(transaction=True) as pipe:
            pipe.multi()  # explicit, before our first command: RQ joins the same MULTI
            if announces_head(job):
                assert job.head_sha is not None
                pipe.set(self.keys.head(job.pull_key), job.head_sha, ex=int(self.config.head_ttl))
            self.rq_queue.enqueue_call(
                JOB_FUNCTION,
                args=(job.to_json(),),
                job_id=rq_job_id(job),
                description=describe(job),
                timeout=self.config.job_timeout,
                retry=self.config.retry,
                result_ttl=self.config.result_ttl,
                failure_ttl=self.config.failure_ttl,
                pipeline=pipe,
            )
            pipe.execute()

    def depth(self) -> int:
        """Jobs waiting to run: queued now, or scheduled (retry back-off, busy pull request)."""
        try:
            queue = self.rq_queue
            scheduled = ScheduledJobRegistry(queue=queue)
            with self.client.pipeline(transaction=False) as pipe:
                pipe.llen(queue.key)
                pipe.zcard(scheduled.key)
                queued, waiting = pipe.execute()
            self._last_depth = int(queued) + int(waiting)
        except redis.RedisError:
            pass  # metrics keep the last value rather than failing the scrape
        return self._last_depth
