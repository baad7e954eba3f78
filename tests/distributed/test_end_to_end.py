"""The distributed mode end to end: two `align serve` and two `align worker` OS processes sharing Redis, the
GitHub simulator, 500 signed deliveries for 50 pull requests (every delivery sent twice, to different web
processes, and several pushes per pull request), one worker killed with SIGKILL halfway.

Afterwards: each pull request's newest head has exactly one completed `Align` check run and one review,
nothing was posted twice, the queue is empty and no delivery was lost."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from rq import Queue, Worker
from rq.job import Job as RQJob
from rq.registry import FailedJobRegistry, FinishedJobRegistry, StartedJobRegistry

from align.service.jobs import Job
from align.service.redis_queue import SERIALIZER, RedisQueue, RedisQueueConfig, connect
from align.simulator.auth import generate_app_key_pair
from align.simulator.webhooks import sign
from tests.distributed.conftest import remove_keys
from tests.distributed.support import wait_for
from tests.helpers import GH200_MANIFEST

pytestmark = pytest.mark.redis

Simulator: Any
try:
    from align.simulator.simulator import Simulator
except ImportError:  # pragma: no cover - the simulator is being written alongside
    Simulator = None

ROOT = Path(__file__).resolve().parents[2]
REPO = "octo/gpu"
APP_ID = 4242
SECRET = "e2e-webhook-secret"
PULLS = 50
PUSHES = 4  # 50 pull requests × (opened + 4 synchronize) = 250 deliveries, each sent twice = 500


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """The service's OS processes, with their logs kept for a failure message."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{'-'.join(args)}-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen([sys.executable, "-m", "tests.distributed.e2e_process", *args], cwd=ROOT,
                                   env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def workers(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.processes if isinstance(p.args, list) and p.args[-1] == "worker"]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()

    def tail(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.logs.glob("*.log")))


def process_env(base_url: str, redis_url: str, name: str, tmp: Path, *, lease_seconds: float) -> dict[str, str]:
    """The environment `align serve` / `align worker` processes get: this machine's, minus any ALIGN_ setting,
    plus the app, simulator and Redis settings of one isolated run (key prefix and queue named `name`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALIGN_")}
    env.update({
        "ALIGN_APP_ID": str(APP_ID), "ALIGN_APP_SLUG": "align", "ALIGN_PRIVATE_KEY_FILE": str(tmp / "key.pem"),
        "ALIGN_WEBHOOK_SECRET": SECRET, "ALIGN_GITHUB_API_URL": base_url, "ALIGN_QUEUE": "redis",
        "ALIGN_REDIS_URL": redis_url, "ALIGN_REDIS_PREFIX": name, "ALIGN_REDIS_QUEUE_NAME": name,
        "ALIGN_REDIS_LEASE_SECONDS": f"{lease_seconds:g}", "ALIGN_REDIS_SWEEP_SECONDS": "0.5",
        "ALIGN_REDIS_RETRY_INTERVALS": "[1,1,1]", "ALIGN_REDIS_DEFER_SECONDS": "1",
        "ALIGN_SECONDS_BETWEEN_REQUESTS": "0", "ALIGN_SECONDS_BETWEEN_WRITES": "0",
        "ALIGN_RETRY_BACKOFF": "0", "ALIGN_LOG_LEVEL": "WARNING", "TMPDIR": str(tmp),
    })
    return env


@pytest.fixture
def cluster(redis_url: str, name: str, tmp_path: Path) -> Iterator[tuple[Any, Cluster, list[str], RedisQueueConfig]]:
    if Simulator is None:
        pytest.skip("align.simulator is not available yet")
    private, public = generate_app_key_pair()
    (tmp_path / "key.pem").write_text(private)

    sim = Simulator()
    base_url = sim.start()
    sim.register_app(APP_ID, public, slug="align")
    installation = sim.create_installation("octo")
    sim.set_rate_limit(installation, limit=1_000_000)
    sim.create_repo(REPO, {"align.yaml": GH200_MANIFEST, "README.md": "# GPU service\n"},
                    installation_id=installation)

    config = RedisQueueConfig(redis_url=redis_url, prefix=name, queue_name=name, lease_seconds=3.0,
                              sweep_seconds=0.5, retry_intervals=(1, 1, 1), defer_seconds=1)
    env = process_env(base_url, redis_url, name, tmp_path, lease_seconds=3)
    cluster = Cluster(env, tmp_path)
    ports = [free_port(), free_port()]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for port in ports:
            cluster.start("serve", str(port))
        for _ in range(2):
            cluster.start("worker")
        for url in urls:
            assert wait_for(partial(_ready, url), timeout=30), cluster.tail()
        yield sim, cluster, [f"{url}/api/github/webhooks" for url in urls], config
    finally:
        cluster.stop()
        sim.stop()
        remove_keys(redis_url, name)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def record_deliveries(sim: Any, closed_hook: str) -> tuple[dict[int, str], dict[int, int]]:
    """Act as users while the webhook points nowhere: the simulator records each signed-to-be delivery
    (GitHub's payload, id and order) without waiting on the service, so that they can be sent in a burst."""
    sim.configure_webhook(closed_hook, SECRET)
    branches = {i: f"pr-{i}" for i in range(PULLS)}
    for i in range(PULLS):
        sim.commit(REPO, branches[i], {f"deploy/pr{i}-v0.yaml": f"gpu: H200  # pull {i}\n"})
    numbers = {i: sim.open_pull(REPO, branches[i], title=f"Change {i}") for i in range(PULLS)}
    for push in range(1, PUSHES + 1):
        for i in range(PULLS):  # each push adds a new finding, so each head has something new to review
            sim.commit(REPO, branches[i], {f"deploy/pr{i}-v{push}.yaml": f"gpu: H200  # pull {i} push {push}\n"})
    return branches, numbers


def kill_mid_review(rq: Queue, cluster: Cluster, sim: Any) -> int:
    """SIGKILL a worker (one of ours: its pid is checked) while its review is under way on GitHub: its job's
    check run is in progress."""
    ours = {p.pid for p in cluster.workers() if p.poll() is None}
    victim: list[int] = []

    def reviewing() -> bool:
        for worker in Worker.all(queue=rq):
            job_id = worker.get_current_job_id() if worker.pid in ours else None
            rq_job = RQJob.fetch_many([job_id], connection=rq.connection, serializer=SERIALIZER)[0] if job_id else None
            if rq_job is None:
                continue
            job = Job.from_json(rq_job.args[0])
            if any(r.status == "in_progress" for r in sim.check_runs(REPO, job.head_sha, name="Align")):
                victim.append(int(worker.pid or 0))
                return True
        return False

    assert wait_for(reviewing, timeout=60, step=0.01), "no worker was seen in the middle of a review"
    os.kill(victim[0], signal.SIGKILL)
    next(p for p in cluster.processes if p.pid == victim[0]).wait(timeout=10)
    return victim[0]


def test_two_webs_and_two_workers_review_every_newest_head_once(cluster: Any) -> None:
    sim, processes, hooks, config = cluster
    branches, numbers = record_deliveries(sim, f"http://127.0.0.1:{free_port()}/")
    deliveries = sim.deliveries
    assert len(deliveries) == PULLS * (PUSHES + 1)

    rq = Queue(config.queue_name, connection=connect(config), serializer=SERIALIZER)
    statuses: Counter[int] = Counter()
    with httpx.Client(timeout=10) as client:
        for n, delivery in enumerate(deliveries):
            headers = {"Content-Type": "application/json", "X-GitHub-Event": delivery.event,
                       "X-GitHub-Delivery": delivery.id, "X-Hub-Signature-256": sign(SECRET, delivery.body)}
            # Each delivery reaches one web process, then (a redelivery, same id) the other.
            for hook in (hooks[n % 2], hooks[(n + 1) % 2]):
                statuses[client.post(hook, content=delivery.body, headers=headers).status_code] += 1
            if n == len(deliveries) // 2:
                kill_mid_review(rq, processes, sim)  # halfway
                processes.start("worker")  # its replacement, as a container runtime would start one
    sent = len(deliveries)
    assert statuses == Counter({202: sent, 200: sent}), statuses  # all accepted once, every duplicate caught

    queue = RedisQueue(config)
    newest = {i: sim.head_sha(REPO, branches[i]) for i in range(PULLS)}

    def settled() -> bool:
        if queue.depth() or StartedJobRegistry(queue=rq).get_job_ids():
            return False
        return all(any(r.status == "completed" for r in sim.check_runs(REPO, newest[i], name="Align"))
                   for i in range(PULLS))

    assert wait_for(settled, timeout=120, step=0.5), processes.tail()

    problems: list[str] = []
    for i in range(PULLS):
        runs = sim.check_runs(REPO, newest[i], name="Align")
        if [r.status for r in runs] != ["completed"]:
            problems.append(f"#{numbers[i]} newest head check runs: {[r.status for r in runs]}")
        reviews = Counter(r.commit_id for r in sim.reviews(REPO, numbers[i]))
        if reviews[newest[i]] != 1 or max(reviews.values()) != 1:
            problems.append(f"#{numbers[i]} reviews per head: { {h[:7]: c for h, c in reviews.items()} }")
        comments = Counter((c.path, c.body) for c in sim.review_comments(REPO, numbers[i]))
        if comments and max(comments.values()) > 1:
            problems.append(f"#{numbers[i]} an inline comment was posted twice")
        summaries = [c for c in sim.issue_comments(REPO, numbers[i]) if c.user.login == "align[bot]"]
        if len(summaries) > 1:
            problems.append(f"#{numbers[i]} {len(summaries)} summary comments")
    all_runs = sim.check_runs(REPO, name="Align")
    per_head = Counter(r.head_sha for r in all_runs)
    doubled = [h[:7] for h, n in per_head.items() if n > 1]
    if doubled:
        problems.append(f"heads with several check runs (a retried job must reuse its run): {doubled}")
    stuck = [r.head_sha[:7] for r in all_runs if r.status != "completed"]
    if stuck:
        problems.append(f"check runs never completed: {stuck}")
    assert not problems, "\n".join(problems[:20])

    # Nothing waiting, nothing failed, and every one of the 250 deliveries became a job that ran to its end.
    assert queue.depth() == 0
    assert FailedJobRegistry(queue=rq).get_job_ids() == []
    assert FinishedJobRegistry(queue=rq).count == sent
