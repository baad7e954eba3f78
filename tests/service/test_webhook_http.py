"""The webhook endpoint over HTTP: verification before parsing, limits, dedupe, routing, operations."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from align.service.app import WEBHOOK_PATH, create_app
from align.service.jobs import Job
from align.service.memory_queue import MemoryQueue

from .conftest import make_settings, pr_payload, signed


class Recorder:
    """A real MemoryQueue whose handler records jobs and can be held to keep the queue busy."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []
        self.release = threading.Event()
        self.release.set()
        self.done = threading.Semaphore(0)

    def __call__(self, job: Job) -> None:
        self.release.wait(10)
        self.jobs.append(job)
        self.done.release()

    def wait(self, count: int) -> list[Job]:
        for _ in range(count):
            assert self.done.acquire(timeout=10), "job did not run"
        return self.jobs


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def client(recorder: Recorder) -> Iterator[TestClient]:
    queue = MemoryQueue(recorder, size=2, workers=1)
    with TestClient(create_app(make_settings(), queue=queue)) as test_client:
        yield test_client
    recorder.release.set()


def test_signed_delivery_is_queued(client: TestClient, recorder: Recorder) -> None:
    response = client.post(WEBHOOK_PATH, **signed(pr_payload(), "pull_request"))
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    [job] = recorder.wait(1)
    assert (job.kind, job.event, job.repository, job.pull_number, job.head_sha, job.installation_id) == (
        "review", "pull_request.opened", "octo/repo", 7, "a" * 40, 42)
    assert job.delivery_id == "d-1"


def test_bad_or_missing_signature_is_401_before_parsing(client: TestClient, recorder: Recorder) -> None:
    bad = signed(b"not even json", "pull_request", secret="wrong")
    assert client.post(WEBHOOK_PATH, **bad).status_code == 401
    unsigned = signed(pr_payload(), "pull_request")
    del unsigned["headers"]["X-Hub-Signature-256"]
    assert client.post(WEBHOOK_PATH, **unsigned).status_code == 401
    tampered = signed(pr_payload(), "pull_request")
    tampered["content"] = tampered["content"].replace(b"octo/repo", b"evil/repo")
    assert client.post(WEBHOOK_PATH, **tampered).status_code == 401
    assert recorder.jobs == []


def test_malformed_body_is_400(client: TestClient) -> None:
    assert client.post(WEBHOOK_PATH, **signed(b"{not json", "pull_request")).status_code == 400
    assert client.post(WEBHOOK_PATH, **signed(b"[1, 2]", "pull_request")).status_code == 400


def test_oversized_body_is_413() -> None:
    settings = make_settings(max_body_bytes=1000)
    with TestClient(create_app(settings, queue=MemoryQueue(lambda job: None))) as small:
        big = signed({"pad": "x" * 2000}, "pull_request")
        assert small.post(WEBHOOK_PATH, **big).status_code == 413

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted while streaming
            for _ in range(20):
                yield b"x" * 100

        headers = {"X-GitHub-Event": "pull_request", "X-Hub-Signature-256": "sha256=00"}
        assert small.post(WEBHOOK_PATH, content=chunks(), headers=headers).status_code == 413


def test_redelivery_is_dropped(client: TestClient, recorder: Recorder) -> None:
    first = client.post(WEBHOOK_PATH, **signed(pr_payload(), "pull_request", delivery="same"))
    again = client.post(WEBHOOK_PATH, **signed(pr_payload(), "pull_request", delivery="same"))
    assert first.status_code == 202
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    recorder.wait(1)
    assert len(recorder.jobs) == 1


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        ("ping", {"zen": "Keep it logically awesome.", "hook_id": 1}),
        ("installation", {"action": "created", "installation": {"id": 42}, "repository": {"full_name": "o/r"}}),
        ("pull_request", pr_payload("closed")),
        ("pull_request", pr_payload("edited", changes={"title": {"from": "x"}})),
        ("pull_request", pr_payload("labeled")),
        ("push", {"ref": "refs/heads/main"}),
    ],
)
def test_ignored_events_do_nothing(client: TestClient, recorder: Recorder, event: str, payload: dict) -> None:
    response = client.post(WEBHOOK_PATH, **signed(payload, event))
    assert response.status_code == 202
    assert response.json()["status"] == "ignored"
    assert recorder.jobs == []


def test_full_queue_answers_503_and_forgets_the_delivery(client: TestClient, recorder: Recorder) -> None:
    recorder.release.clear()  # the worker holds the first job: the rest wait
    for number in range(1, 4):  # one running + two waiting (size 2)
        response = client.post(WEBHOOK_PATH, **signed(pr_payload(number=number), "pull_request", f"d{number}"))
        assert response.status_code == 202
    refused = client.post(WEBHOOK_PATH, **signed(pr_payload(number=9), "pull_request", "d9"))
    assert refused.status_code == 503
    recorder.release.set()
    recorder.wait(3)
    retried = client.post(WEBHOOK_PATH, **signed(pr_payload(number=9), "pull_request", "d9"))
    assert retried.status_code == 202  # GitHub's redelivery keeps the id: it must not be seen as a duplicate


def test_operations_endpoints(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    client.post(WEBHOOK_PATH, **signed(pr_payload(), "pull_request", "m1"))
    client.post(WEBHOOK_PATH, **signed({"zen": "z"}, "ping", "m2"))
    metrics = client.get("/metrics").text
    assert 'align_webhook_deliveries_total{event="pull_request",outcome="queued"} 1.0' in metrics
    assert 'align_webhook_deliveries_total{event="ping",outcome="ignored"} 1.0' in metrics
    assert "align_queue_depth" in metrics


def test_readyz_is_503_when_the_queue_is_not_running() -> None:
    app = create_app(make_settings(), queue=MemoryQueue(lambda job: None))
    with TestClient(app) as running:
        assert running.get("/readyz").status_code == 200
    stopped = TestClient(app)  # no lifespan: the queue never started
    assert stopped.get("/readyz").status_code == 503
    assert stopped.post(WEBHOOK_PATH, **signed(pr_payload(), "pull_request")).status_code == 503


def test_webhook_secret_is_required() -> None:
    from align.service.settings import SettingsError, get_settings

    with pytest.raises(SettingsError, match=r"ALIGN_WEBHOOK_SECRET \(or ALIGN_WEBHOOK_SECRET_FILE\) is required"):
        get_settings(_env_file=None)


def test_metrics_registries_are_per_app() -> None:
    one = create_app(make_settings(), queue=MemoryQueue(lambda job: None))
    two = create_app(make_settings(), queue=MemoryQueue(lambda job: None))
    assert one.state.metrics.registry is not two.state.metrics.registry
