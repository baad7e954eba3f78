"""`align worker`: an RQ worker that runs Align jobs from Redis (distributed mode).

The worker runs jobs in its own process (RQ's SimpleWorker: the GitHub gateway, its token cache and
connections live across jobs). Next to it a keeper thread:

- keeps the running job's lease alive: its entry in RQ's started registry and its pull-request lock expire
  `lease_seconds` after the last beat, so a job whose worker was killed is noticed within a lease, instead
  of RQ's default of a minute or more;
- sweeps, in one worker at a time: RQ's own abandoned-job handling (`StartedJobRegistry.cleanup`: retry
  while tries remain, else the failed registry) and the promotion of due scheduled jobs (retry back-off and
  busy pull requests), which RQ's scheduler would do in an extra process with a minute-long lock;
- touches a heartbeat file for the container's liveness probe.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import replace
from pathlib import Path
from typing import Any

import redis
from rq import Queue, Retry, SimpleWorker, get_current_job
from rq.executions import Execution
from rq.job import Job as RQJob
from rq.scheduler import RQScheduler
from rq.worker import WorkerStatus

from align.service.jobs import Job, ReviewDeferred
from align.service.logging_setup import log_context
from align.service.redis_queue import SERIALIZER, PullGate, RedisQueueConfig, release_if_owner
from align.service.review_deadline import EARLIER_TRY_KEY

log = logging.getLogger("align.worker")

JobHandler = Callable[[Job], object]  # may return an awaitable
HEARTBEAT_FILE = Path(tempfile.gettempdir()) / "align-worker.alive"

# The runtime of the worker executing the current job (RQ calls job functions by import path).
_runtime: ContextVar[JobRuntime | None] = ContextVar("align_job_runtime", default=None)


def perform(payload: str) -> str | Retry:
    """The function RQ runs for every Align job (see redis_queue.JOB_FUNCTION)."""
    runtime = _runtime.get()
    current = get_current_job()
    if runtime is None or current is None:
        raise RuntimeError("Align jobs run under `align worker`, not a plain `rq worker`")
    return runtime.run(Job.from_json(payload), current.id)


class Keeper:
    """The worker's background thread: job lease, pull-request lock, sweeps, heartbeat file."""

    def __init__(self, client: redis.Redis, queue: Queue, gate: PullGate, config: RedisQueueConfig,
                 heartbeat_file: Path | None) -> None:
        self.client = client
        self.queue = queue
        self.gate = gate
        self.config = config
        self.heartbeat_file = heartbeat_file
        self.lease = max(1, math.ceil(config.lease_seconds))
        self.tick = min(config.lease_seconds / 3, config.sweep_seconds)
        self._stop = threading.Event()
        self._guard = threading.Lock()
        self._execution: Execution | None = None
        self._worker_key: str | None = None
        self._lock: tuple[str, str] | None = None
        self._scheduler = RQScheduler([queue], connection=client, serializer=SERIALIZER)
        self._scheduler.prepare_registries([queue.name])
        self._thread: threading.Thread | None = None
        self._sweep_owner = uuid.uuid4().hex
        self._last_sweep = 0.0

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="align-keeper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def track(self, execution: Execution, worker_key: str) -> None:
        with self._guard:
            self._execution, self._worker_key = execution, worker_key

    def hold(self, pull_key: str, owner: str) -> None:
        with self._guard:
            self._lock = (pull_key, owner)

    def untrack(self) -> None:
        with self._guard:
            self._execution = self._worker_key = self._lock = None

    def _loop(self) -> None:
        clock = 0.0
        while not self._stop.wait(self.tick):
            clock += self.tick
            try:
                self.beat()
                if clock - self._last_sweep >= self.config.sweep_seconds:
                    self._last_sweep = clock
                    self.sweep()
            except redis.RedisError as error:
                log.warning("keeper: redis unavailable (%s)", type(error).__name__)
            if self.heartbeat_file is not None:
                try:
                    self.heartbeat_file.touch()
                except OSError as error:
                    log.warning("keeper: cannot touch %s (%s)", self.heartbeat_file, error.strerror)
                    self.heartbeat_file = None

    def beat(self) -> None:
        """Push back the expiry of the running job and of its pull-request lock."""
        with self._guard:
            execution, worker_key, held = self._execution, self._worker_key, self._lock
        if execution is None:
            return
        with self.client.pipeline(transaction=False) as pipe:
            execution.heartbeat(self.queue.started_job_registry, self.lease, pipeline=pipe)
            if worker_key:
                pipe.expire(worker_key, self.lease + 1)
            pipe.execute()
        if held is not None and not self.gate.refresh_lock(*held):
            log.warning("lost the lock of %s: its lease expired while the job ran", held[0])

    def sweep(self) -> None:
        """Reap jobs whose worker died and promote due jobs, in one worker at a time. The lock is RQ's own
        maintenance lock (so RQ's periodic maintenance never runs this concurrently), held briefly."""
        key = self.queue.registry_cleaning_key
        if not self.client.set(key, self._sweep_owner, nx=True, ex=max(10, self.lease)):
            return
        try:
            self.queue.started_job_registry.cleanup()
            self._scheduler.enqueue_scheduled_jobs()
        finally:
            release_if_owner(self.client, key, self._sweep_owner)


class JobRuntime:
    """Runs one Align job under the pull-request rules: no double run, newest head wins, one at a time."""

    def __init__(self, gate: PullGate, handler: JobHandler, keeper: Keeper | None = None) -> None:
        self.gate = gate
        self.handler = handler
        self.keeper = keeper
        self.config = gate.config

    def run(self, job: Job, rq_id: str) -> str | Retry:
        with log_context(delivery=job.delivery_id, repository=job.repository, pull=job.pull_number):
            state = self.gate.job_state(rq_id)
            if state == "done":
                return "duplicate"  # this job already ran to the end (a second copy of it was queued)
            if self._drop(job, rq_id, state):
                return "superseded"
            owner = f"{rq_id}:{uuid.uuid4().hex[:8]}"
            if not self.gate.try_lock(job.pull_key, owner):
                log.info("pull request busy: running again in %d s", self.config.defer_seconds)
                return Retry(max=self.config.defer_max, interval=self.config.defer_seconds)
            if self.keeper is not None:
                self.keeper.hold(job.pull_key, owner)
            try:
                if self._drop(job, rq_id, state):  # a newer head arrived while this job waited
                    return "superseded"
                self.gate.set_job_state(rq_id, "began")
                # The handler learns when the first try began: one that died after spending the review's
                # deadline is not run again (the same input would hold this worker too).
                began = self.gate.first_began(rq_id, time.time())
                try:
                    outcome = self.handler(replace(job, extra={**job.extra, EARLIER_TRY_KEY: repr(began)}))
                    if inspect.isawaitable(outcome):
                        asyncio.run(_awaited(outcome))
                except ReviewDeferred as deferred:
                    return self._wait(rq_id, deferred.until)
                self.gate.set_job_state(rq_id, "done")
                return "done"
            finally:
                self.gate.release_lock(job.pull_key, owner)

    def _wait(self, rq_id: str, until: float) -> Retry:
        """GitHub's limits make the review wait: RQ schedules it again at `until` (its state stays "began",
        so that a newer push makes it complete its run as superseded instead of dropping it unrun; its
        deadline counts afresh)."""
        self.gate.forget_began(rq_id)
        seconds = max(1, math.ceil(until - time.time()))
        log.info("waiting for GitHub's limits: running again in %d s", seconds)
        return Retry(max=self.config.defer_max, interval=seconds)

    def _drop(self, job: Job, rq_id: str, state: str | None) -> bool:
        """A review of an outdated head is dropped unrun, unless an earlier try of it began: its check run may
        be in progress on GitHub, and only the handler can complete it (as outdated)."""
        if state == "began" or not self.gate.is_superseded(job):
            return False
        log.info("dropped: head %s is no longer the newest", (job.head_sha or "")[:7])
        self.gate.set_job_state(rq_id, "done")
        return True


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


class AlignWorker(SimpleWorker):
    """SimpleWorker whose job lease is the keeper's short one and whose jobs see the Align runtime."""

    def __init__(self, queue: Queue, runtime: JobRuntime, keeper: Keeper, **kwargs: Any) -> None:
        super().__init__([queue], connection=queue.connection, serializer=SERIALIZER, **kwargs)
        self.runtime = runtime
        self.keeper = keeper

    def get_heartbeat_ttl(self, job: RQJob, working_time: float = 0.0) -> int:
        return self.keeper.lease

    def execute_job(self, job: RQJob, queue: Queue) -> None:
        execution = self.prepare_execution(job)
        self.keeper.track(execution, self.key)
        token = _runtime.set(self.runtime)
        try:
            self.perform_job(job, queue, execution)
        finally:
            _runtime.reset(token)
            self.keeper.untrack()
        self.set_state(WorkerStatus.IDLE)

    def work(self, *args: Any, **kwargs: Any) -> bool:
        self.keeper.start()
        try:
            return super().work(*args, **kwargs)
        finally:
            self.keeper.stop()


def build_worker(
    config: RedisQueueConfig,
    handler: JobHandler,
    *,
    name: str | None = None,
    heartbeat_file: Path | None = HEARTBEAT_FILE,
) -> AlignWorker:
    """An RQ worker for `config`'s queue that runs `handler` for each job."""
    connection = redis.Redis.from_url(config.redis_url)  # RQ sets a socket timeout above its blocking pop
    keeper_client = redis.Redis.from_url(config.redis_url, socket_timeout=5.0, socket_connect_timeout=2.0)
    queue = Queue(config.queue_name, connection=connection, serializer=SERIALIZER,
                  default_timeout=config.job_timeout)
    keeper_queue = Queue(config.queue_name, connection=keeper_client, serializer=SERIALIZER)
    gate = PullGate(keeper_client, config)
    keeper = Keeper(keeper_client, keeper_queue, gate, config, heartbeat_file)
    runtime = JobRuntime(PullGate(connection, config), handler, keeper)
    return AlignWorker(
        queue,
        runtime,
        keeper,
        name=name or f"align-{os.uname().nodename}-{os.getpid()}-{uuid.uuid4().hex[:6]}",
        worker_ttl=max(20, 2 * keeper.lease),
        maintenance_interval=60,
    )


def run_worker(settings: Any) -> int:
    """`align worker`: run Align jobs from Redis until SIGTERM (the current job finishes first)."""
    from align.service.logging_setup import configure_logging
    from align.service.settings import SettingsError
    from align.service.worker import build_worker_deps, handle_job

    if settings.queue != "redis":
        print("align worker: needs ALIGN_QUEUE=redis (the embedded queue runs inside `align serve`)", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    try:
        deps = build_worker_deps(settings)
    except SettingsError as error:  # its message names the setting, never a secret value
        print(f"align worker: {error}", file=sys.stderr)
        return 2
    worker = build_worker(RedisQueueConfig.from_settings(settings), lambda job: handle_job(job, deps))
    log.info("worker %s listening on %s", worker.name, worker.queues[0].name)
    worker.work(logging_level=settings.log_level.upper())
    return 0
