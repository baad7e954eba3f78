"""The intake under hostile requests, over real HTTP (uvicorn on a free port): metric series stay a fixed
set whatever arrives, and JSON nested past the limit is a 400, not a 500."""

from __future__ import annotations

import json
import random
import string
from collections.abc import Iterator

import httpx
import pytest

from align.service.app import WEBHOOK_PATH, create_app
from align.service.memory_queue import MemoryQueue
from align.service.payload import MAX_JSON_DEPTH
from align.service.server import BackgroundServer

from .conftest import make_settings, signed


@pytest.fixture
def service() -> Iterator[httpx.Client]:
    app = create_app(make_settings(), queue=MemoryQueue(lambda job: None))
    with BackgroundServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def _series(metrics: str) -> set[str]:
    """Every sample's name and labels, without its value."""
    return {line.rsplit(" ", 1)[0] for line in metrics.splitlines() if line and not line.startswith("#")}


def _random_event(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_lowercase + "_", k=rng.randint(3, 30)))


def test_unsigned_requests_with_random_event_names_add_no_metric_series(service: httpx.Client) -> None:
    rng = random.Random(8)
    before = service.get("/metrics").text
    statuses = set()
    for _ in range(5000):
        response = service.post(WEBHOOK_PATH, content=b"{}", headers={
            "X-GitHub-Event": _random_event(rng), "X-GitHub-Delivery": _random_event(rng),
            "X-Hub-Signature-256": "sha256=" + "0" * 64})
        statuses.add(response.status_code)
    after = service.get("/metrics").text
    assert statuses == {401}
    assert _series(after) == _series(before)
    assert len(after) - len(before) <= 8  # only the counter's digits: 0.0 -> 5000.0
    assert 'align_webhook_deliveries_total{event="unverified",outcome="bad_signature"} 5000.0' in after


def test_signed_unknown_event_names_share_one_series(service: httpx.Client) -> None:
    rng = random.Random(11)
    service.post(WEBHOOK_PATH, **signed({"zen": "z"}, "ping", "first"))
    before = _series(service.get("/metrics").text)
    for number in range(200):
        assert service.post(WEBHOOK_PATH, **signed({"zen": "z"}, _random_event(rng), f"d{number}")).status_code == 202
    added = _series(service.get("/metrics").text) - before
    assert added == {'align_webhook_deliveries_total{event="other",outcome="ignored"}',
                     'align_webhook_deliveries_created{event="other",outcome="ignored"}'}


def _nested(depth: int) -> object:
    """A JSON value `depth` arrays/objects deep."""
    value: object = {}
    for level in range(depth - 1):
        value = [value] if level % 2 else {"a": value}
    return value


def test_signed_json_nested_past_the_limit_is_400_not_500(service: httpx.Client) -> None:
    bomb = b"[" * 100_000 + b"]" * 100_000
    response = service.post(WEBHOOK_PATH, **signed(bomb, "pull_request", "bomb"))
    assert response.status_code == 400
    assert response.json() == {"status": "malformed", "reason": f"JSON nested deeper than {MAX_JSON_DEPTH} levels"}
    too_deep = {"zen": "z", "hook": _nested(MAX_JSON_DEPTH)}  # one level more than the limit
    assert service.post(WEBHOOK_PATH, **signed(too_deep, "ping", "deep")).status_code == 400
    at_limit = {"zen": "z", "hook": _nested(MAX_JSON_DEPTH - 1)}
    assert service.post(WEBHOOK_PATH, **signed(at_limit, "ping", "limit")).status_code == 202
    brackets_in_strings = {"zen": "[" * 10_000 + "{" * 10_000, "hook": _nested(8)}  # text, not nesting
    assert service.post(WEBHOOK_PATH, **signed(brackets_in_strings, "ping", "text")).status_code == 202
    unterminated = b'{"zen": "' + b'\\"[' * 10_000  # not JSON at all: refused as such, quickly
    assert service.post(WEBHOOK_PATH, **signed(unterminated, "ping", "bad")).json()["reason"] == "body is not JSON"
    assert service.get("/healthz").json() == {"status": "ok"}
    assert json.loads(service.get("/readyz").text)["status"] == "ready"
