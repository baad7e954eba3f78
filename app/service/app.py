"""The web tier: webhook intake and operations endpoints. It never reviews anything itself.

A delivery is verified against the raw body before anything is parsed, deduplicated by delivery id,
turned into jobs and queued; the answer (202) leaves within milliseconds.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from align.service.jobs import Job, JobQueue, QueueUnavailable
from align.service.logging_setup import log_context
from align.service.metrics import CONTENT_TYPE_LATEST, UNVERIFIED, Metrics, event_label
from align.service.payload import MalformedPayload, parse_payload
from align.service.settings import Settings
from align.service.webhook import route, verify_signature

log = logging.getLogger("align.webhook")

WEBHOOK_PATH = "/api/github/webhooks"


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing more than `limit` bytes without reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _default_queue(settings: Settings, metrics: Metrics, github: Any) -> tuple[JobQueue, Any]:
    """The queue, and the embedded workers' dependencies (None in the distributed mode)."""
    if settings.queue == "redis":
        from align.service.redis_queue import RedisQueue, RedisQueueConfig  # workers run in other processes

        return RedisQueue(RedisQueueConfig.from_settings(settings)), None
    from align.service.job_store import JobStore, JobStoreError
    from align.service.memory_queue import MemoryQueue
    from align.service.settings import SettingsError
    from align.service.worker import WorkerDeps, build_worker_deps, handle_job

    deps = WorkerDeps(settings=settings, gateway=github, metrics=metrics) if github is not None \
        else build_worker_deps(settings, metrics)
    try:
        store = JobStore(settings.job_store_path)
    except JobStoreError as error:  # refuse to start rather than accept jobs a restart would lose
        raise SettingsError(f"{error} (set ALIGN_DATA_DIR or ALIGN_JOB_STORE)") from None

    queue = MemoryQueue(lambda job: handle_job(job, deps), size=settings.queue_size, workers=settings.workers,
                        delivery_ttl=settings.delivery_ttl_seconds, store=store)
    deps.latest_head = queue.latest_head  # a review learns from the queue whether a newer push arrived
    return queue, deps


def create_app(settings: Settings, queue: JobQueue | None = None, github: Any = None,
               metrics: Metrics | None = None) -> FastAPI:
    """`queue` and `github` (a GitHubGateway) may be given by tests and by the distributed mode."""
    metrics = metrics or Metrics()
    if github is not None and getattr(github, "observer", None) is None:
        github.observer = metrics
    job_queue, deps = (queue, None) if queue is not None else _default_queue(settings, metrics, github)
    metrics.track_queue(job_queue.depth)
    secret = settings.webhook_secret.get_secret_value().encode()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await job_queue.start()
        try:
            yield
        finally:
            await job_queue.stop()

    api = FastAPI(title="Align", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    api.state.queue = job_queue
    api.state.metrics = metrics
    api.state.settings = settings
    api.state.worker_deps = deps  # the embedded workers' WorkerDeps (tests hand them rules)

    def answer(label: str, outcome: str, status: int, **extra: Any) -> JSONResponse:
        metrics.delivery(label, outcome)
        return JSONResponse({"status": outcome, **extra}, status_code=status)

    @api.post(WEBHOOK_PATH)
    async def webhook(request: Request) -> Response:
        event = request.headers.get("x-github-event", "")
        delivery = request.headers.get("x-github-delivery", "")
        # Header values are the sender's: logged bounded, and a metric label only once signed and known.
        with log_context(delivery=delivery[:100] or None, event=event[:100] or None):
            try:
                body = await _read_body(request, settings.max_body_bytes)
            except _TooLarge:
                return answer(UNVERIFIED, "too_large", 413)
            if not verify_signature(secret, body, request.headers.get("x-hub-signature-256")):
                log.warning("webhook signature mismatch")
                return answer(UNVERIFIED, "bad_signature", 401)
            label = event_label(event)
            try:
                payload = parse_payload(body, settings.max_json_depth)
            except MalformedPayload as error:
                return answer(label, "malformed", 400, reason=str(error))
            if not event:
                return answer(label, "malformed", 400, reason="missing X-GitHub-Event header")
            jobs = route(event, payload, delivery, settings.app_id)
            if not jobs:
                return answer(label, "ignored", 202)
            return await _enqueue(label, delivery, jobs)

    async def _enqueue(label: str, delivery: str, jobs: list[Job]) -> Response:
        with log_context(repository=jobs[0].repository, pull=jobs[0].pull_number):
            if delivery and not await job_queue.first_delivery(delivery):
                log.info("duplicate delivery dropped")
                return answer(label, "duplicate", 200)
            try:
                for job in jobs:
                    await job_queue.enqueue(job)
            except QueueUnavailable as error:
                forget = getattr(job_queue, "forget_delivery", None)
                if delivery and forget is not None:
                    await forget(delivery)  # let GitHub's redelivery through later
                log.warning("queue unavailable: %s", error)
                return answer(label, "unavailable", 503)
            except Exception:
                log.exception("queue failed")
                return answer(label, "unavailable", 503)
            log.info("queued %d job(s)", len(jobs), extra={"fields": {"jobs": [j.event for j in jobs]}})
            return answer(label, "queued", 202, jobs=len(jobs))

    @api.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/readyz")
    async def readyz() -> Response:
        try:
            ready = await job_queue.ready()
        except Exception:
            ready = False
        return JSONResponse({"status": "ready" if ready else "unavailable"}, status_code=200 if ready else 503)

    @api.get("/metrics")
    async def prometheus() -> Response:
        return PlainTextResponse(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return api
