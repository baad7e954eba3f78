"""Fixtures for the distributed mode: a real Redis, and names no other test uses."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import pytest
import redis

from align.service.redis_queue import RedisQueueConfig

DEFAULT_URL = "redis://127.0.0.1:6379/9"  # a database of its own, away from anyone's data in 0


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis. Unreachable: skipped with the reason on a laptop, a failure in CI (CI=true)."""
    url = os.environ.get("ALIGN_TEST_REDIS_URL", DEFAULT_URL)
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.RedisError as error:
        reason = f"Redis not reachable at {url} ({type(error).__name__}); set ALIGN_TEST_REDIS_URL"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return url


@pytest.fixture
def name() -> str:
    """Unique per test: key prefix, queue name and delivery-id prefix, removed afterwards."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def config(redis_url: str, name: str) -> Iterator[RedisQueueConfig]:
    """Short leases and back-off so that recovery paths run within seconds."""
    yield RedisQueueConfig(
        redis_url=redis_url,
        prefix=name,
        queue_name=name,
        lease_seconds=2.0,
        sweep_seconds=0.25,
        retry_intervals=(1, 1),
        defer_seconds=1,
        job_timeout=60,
    )
    remove_keys(redis_url, name)


def remove_keys(url: str, name: str) -> None:
    """Every key of the test: ours and RQ's (named after the queue), and the jobs its registries list."""
    client = redis.Redis.from_url(url, decode_responses=True)
    job_ids = {str(entry) for entry in client.lrange(f"rq:queue:{name}", 0, -1)}
    for registry in ("finished", "failed", "scheduled", "wip", "deferred"):
        job_ids.update(str(entry).split(":")[0] for entry in client.zrange(f"rq:{registry}:{name}", 0, -1))
    keys = [str(key) for key in client.scan_iter(match=f"*{name}*", count=1000)]
    keys += [f"rq:{kind}:{job_id}" for job_id in job_ids for kind in ("job", "results", "executions")]
    if keys:
        client.delete(*keys)
    client.srem("rq:queues", f"rq:queue:{name}")
    client.close()


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
