"""What the service benchmarks share: the processes they measure, a light HTTP client, and statistics.

    python bench/_launch.py baseline PORT                 # a bare FastAPI endpoint answering 202
    python bench/_launch.py floor PORT                    # ... that first checks the signature, parses the JSON
    python bench/_launch.py align PORT [--sleep SECONDS]   # the real web tier, jobs handled by a no-op
    python bench/_launch.py worker [--time-scale 10]       # `align worker` (distributed mode), see _worker

Web processes are served by uvicorn with the arguments `align serve` uses (align.service.server.serve), each in its
own process so that the load generator does not share a GIL with the server it measures. The `align` process
replaces only the queue's handler (a no-op, or a sleep) and counts every job at the queue, readable at
GET /bench/counts, so a benchmark can prove that each delivery reached the queue exactly once.

Importing this module puts the repository root on sys.path: the benchmarks reuse the tests' launch helpers
(tests/service/stack.py, tests/distributed/test_end_to_end.py) instead of keeping copies of them.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import math
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from fastapi import FastAPI, Request  # noqa: E402
from fastapi.responses import Response  # noqa: E402

from align.service.app import WEBHOOK_PATH  # noqa: E402
from align.service.jobs import Job  # noqa: E402
from align.service.memory_queue import MemoryQueue  # noqa: E402
from tests.distributed.support import wait_for  # noqa: E402
from tests.distributed.test_end_to_end import _ready, free_port  # noqa: E402

__all__ = ["ROOT", "WEBHOOK_PATH", "WebProcess", "free_port", "post_raw", "pull_request_variant",
           "recorded_pull_request", "summarize", "table"]


# ---------------------------------------------------------------------------------------------- web processes


class CountingQueue(MemoryQueue):
    """The embedded queue, unchanged, with its handler replaced: counts jobs in and out, does no review."""

    def __init__(self, sleep: float, *, size: int, workers: int) -> None:
        super().__init__(self._handle, size=size, workers=workers)
        self.sleep = sleep
        self.enqueued: Counter[str] = Counter()
        self.handled: Counter[str] = Counter()
        self._lock = threading.Lock()

    async def enqueue(self, job: Job) -> None:
        await super().enqueue(job)  # raises when refused: then it is not counted
        self.enqueued[job.delivery_id] += 1

    def _handle(self, job: Job) -> None:
        if self.sleep:
            time.sleep(self.sleep)
        with self._lock:
            self.handled[job.delivery_id] += 1

    def counts(self) -> dict[str, Any]:
        with self._lock:  # worker threads add to `handled` meanwhile
            handled = dict(self.handled)
        return {"enqueued": dict(self.enqueued), "handled": handled, "dropped": self.dropped}


def align_app(sleep: float) -> FastAPI:
    from align.service.app import create_app
    from tests.service.conftest import make_settings

    settings = make_settings(workers=4, log_level="INFO")
    queue = CountingQueue(sleep, size=settings.queue_size, workers=settings.workers)
    api = create_app(settings, queue=queue)

    async def counts() -> dict[str, Any]:
        return queue.counts()

    api.add_api_route("/bench/counts", counts, methods=["GET"])
    return api


def _plain_app(webhook: Callable[[Request], Awaitable[Response]]) -> FastAPI:
    api = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    api.add_api_route(WEBHOOK_PATH, webhook, methods=["POST"])

    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    api.add_api_route("/readyz", readyz, methods=["GET"])
    return api


def baseline_app() -> FastAPI:
    """The least a webhook receiver can do: take the body and answer 202."""
    async def webhook(request: Request) -> Response:
        await request.body()
        return Response(status_code=202)

    return _plain_app(webhook)


def floor_app() -> FastAPI:
    """What any correct receiver must do before answering: check the signature over the raw body and parse
    the JSON. Between the bare baseline and Align, it shows how much of the difference is unavoidable."""
    import json

    from align.service.webhook import verify_signature
    from tests.service.conftest import SECRET

    async def webhook(request: Request) -> Response:
        body = await request.body()
        if not verify_signature(SECRET.encode(), body, request.headers.get("x-hub-signature-256")):
            return Response(status_code=401)
        json.loads(body)
        return Response(status_code=202)

    return _plain_app(webhook)


APPS = {"align": align_app, "baseline": lambda sleep: baseline_app(), "floor": lambda sleep: floor_app()}


def _serve(kind: str, port: int, sleep: float) -> None:
    import uvicorn

    from align.service.logging_setup import configure_logging

    app = APPS[kind](sleep)
    configure_logging("INFO")  # as `align serve` does: one JSON line per queued delivery
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False, proxy_headers=True,
                timeout_graceful_shutdown=30)


class WebProcess:
    """One web process on a free loopback port (`kind`: a key of APPS), stopped with SIGTERM."""

    def __init__(self, kind: str, log_dir: Path, sleep: float = 0.0) -> None:
        self.kind = kind
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.hook = f"{self.url}{WEBHOOK_PATH}"
        self._log = (log_dir / f"{kind}-{self.port}.log").open("wb")
        cmd = [sys.executable, str(Path(__file__).resolve()), kind, str(self.port), "--sleep", str(sleep)]
        self.process = subprocess.Popen(cmd, cwd=ROOT, env=dict(os.environ), stdout=self._log,
                                        stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 30.0) -> WebProcess:
        if not wait_for(lambda: self.process.poll() is None and _ready(self.url), timeout=timeout):
            raise RuntimeError(f"{self.kind} web process did not start (log: {self._log.name})")
        return self

    def cpu(self) -> float:
        return process_cpu(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._log.close()


# ---------------------------------------------------------------------------------------------- deliveries


def recorded_pull_request() -> dict[str, Any]:
    """A `pull_request.opened` payload as the GitHub simulator sends it (GitHub's full shape, a few KB)."""
    from align.simulator import Simulator
    from tests.helpers import GH200_MANIFEST
    from tests.service.conftest import _key_pair

    with Simulator() as sim:
        sim.register_app(1, _key_pair()[1], "align")
        installation = sim.create_installation("acme")
        sim.create_repo("acme/inference", {"align.yaml": GH200_MANIFEST}, installation)
        sim.commit("acme/inference", "feature", {"deploy/config.py": 'GPU = "H200"\n'}, "change")
        sim.configure_webhook(f"http://127.0.0.1:{free_port()}/", "unused")  # nothing listens: recorded only
        sim.open_pull("acme/inference", "feature", title="Change", user="dev")
        delivery = sim.last_delivery
        assert delivery is not None
        return delivery.payload


def pull_request_variant(template: dict[str, Any], number: int) -> dict[str, Any]:
    """The template for pull request `number`, with a head of its own: distinct pull requests are never
    superseded by one another in the queue, so every delivery must become a job."""
    payload = copy.deepcopy(template)
    payload["number"] = number
    payload["pull_request"]["number"] = number
    payload["pull_request"]["head"]["sha"] = f"{number:040x}"
    return payload


async def post_raw(url: str, request: Mapping[str, Any]) -> tuple[int, float]:
    """POST one signed delivery (`tests.service.conftest.signed` keyword arguments) over a fresh connection
    written by hand: (status, seconds until the status line). About 0.3 ms of client CPU per request against
    httpx's ~3 ms, so that on a 2-core machine the load generator does not hide the server."""
    target = httpx.URL(url)
    port = target.port or 80
    body: bytes = request["content"]
    headers = {"Host": f"{target.host}:{port}", "Content-Length": str(len(body)), "Connection": "close",
               **request["headers"]}
    head = f"POST {target.raw_path.decode()} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    data = (head + "\r\n").encode() + body
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection(target.host, port)
    try:
        writer.write(data)
        await writer.drain()
        status_line = await reader.readline()
        elapsed = time.perf_counter() - start
        await reader.read()  # the rest of the answer, until the server closes
    finally:
        writer.close()
    return int(status_line.split()[1]), elapsed


# ---------------------------------------------------------------------------------------------- statistics


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 once it is gone): steadier than latency on a machine
    that others load too."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): with 200 samples p99 is the second largest."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summarize(latencies: Sequence[float]) -> dict[str, float]:
    """p50, p99 and max in milliseconds."""
    return {"p50": percentile(latencies, 50) * 1000, "p99": percentile(latencies, 99) * 1000,
            "max": max(latencies, default=math.nan) * 1000}


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (pasted as is into BENCHMARKS.md); floats with two decimals."""
    def cell(value: object) -> str:
        return f"{value:.2f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _worker(time_scale: float) -> int:
    """tests/distributed/e2e_process.py's worker (the real `run_worker`, its isolated Redis keys), with GitHub's
    secondary limits on a time scale of our choosing: 10 as in the end-to-end test (80 content-creating
    requests per 6 s), 1 as on GitHub, 1000 to take the budget out of the way (its Redis calls remain)."""
    from align.service import budget
    from align.service.worker_main import run_worker
    from tests.distributed.e2e_process import E2ESettings

    settings = E2ESettings()  # type: ignore[call-arg]
    limits = tuple(replace(limit, window_seconds=limit.window_seconds / time_scale)
                   for limit in budget.GITHUB_SECONDARY_LIMITS)

    def build_budget(queue: str, redis_url: str, *, max_wait: float = 900.0, prefix: str = "align") -> Any:
        return budget.RedisRequestBudget.from_url(redis_url, limits=limits, max_wait=max_wait,
                                                  prefix=settings.redis_prefix)

    budget.build_budget = build_budget  # the seam run_worker's dependencies are built through
    return run_worker(settings)


def worker_command(time_scale: float) -> list[str]:
    """The command line of an `align worker` process for the benchmarks (environment: ALIGN_* as for
    tests/distributed/e2e_process.py)."""
    return [sys.executable, str(Path(__file__).resolve()), "worker", "--time-scale", str(time_scale)]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="processes for the service benchmarks")
    sub = parser.add_subparsers(dest="kind", required=True)
    for kind in APPS:
        web = sub.add_parser(kind)
        web.add_argument("port", type=int)
        web.add_argument("--sleep", type=float, default=0.0, help="seconds each job's handler sleeps (align)")
    worker = sub.add_parser("worker")
    worker.add_argument("--time-scale", type=float, default=10.0, help="GitHub's limit windows divided by this")
    args = parser.parse_args()
    if args.kind == "worker":
        raise SystemExit(_worker(args.time_scale))
    _serve(args.kind, args.port, args.sleep)


def app_environment(api: str, private_key: str, secret: str, tmp: Path, **settings: str) -> dict[str, str]:
    """The environment of an `align serve` under a benchmark: this process's, without its ALIGN_* settings,
    plus the App's key (written into `tmp`), the simulator's API, a data directory of its own, no pauses
    between requests, and `settings` (ALIGN_* names) over those."""
    (tmp / "key.pem").write_text(private_key)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALIGN_")}
    env.update({
        "ALIGN_APP_ID": "1", "ALIGN_APP_SLUG": "align", "ALIGN_PRIVATE_KEY_FILE": str(tmp / "key.pem"),
        "ALIGN_WEBHOOK_SECRET": secret, "ALIGN_GITHUB_API_URL": api, "ALIGN_DATA_DIR": str(tmp / "data"),
        "ALIGN_SECONDS_BETWEEN_REQUESTS": "0", "ALIGN_SECONDS_BETWEEN_WRITES": "0",
    })
    env.update(settings)
    return env
