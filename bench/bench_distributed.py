"""The distributed mode under load: 2 `align serve` and N `align worker` OS processes, Redis, the GitHub simulator.

    python bench/bench_distributed.py [--workers 1 2 4] [--repeat 2] [--backlog 100] [--probes 40] [--rate 20]

The web processes are started as tests/distributed/test_end_to_end.py starts them (its `Cluster`, running
tests/distributed/e2e_process.py: the real `serve`, isolated Redis keys); the workers are that file's worker
(the real `run_worker`) with GitHub's secondary limits in the shared Redis budget on a time scale of our choosing
(bench/_launch.py). Redis db 10, a key prefix of the run's own, removed afterwards.

1. Web tier: `--deliveries` signed `pull_request` deliveries (GitHub's payload, ~22 KB) sent by 32 concurrent
   connections round-robin to the 2 web processes, no worker running; baseline: 2 bare FastAPI processes that
   answer 202 (bench/_launch.py), same load, same run. Deliveries/s, acknowledgement latency, CPU per delivery.
2. Workers: for N in `--workers` (sweeps repeated and interleaved; N = 0, no worker, as the reference),
   `--backlog` small pull requests (one file with a finding) are opened at once, then `--probes` more at `--rate`
   per second, limits at `--time-scale` (1000: out of the way). Measured: reviews per minute while the backlog
   lasts, the acknowledgement latency of probes that arrived while every worker was busy, and the CPU seconds
   each kind of process (and the rest of the machine) used. Last, the most workers with the limits at
   `--capped-time-scale` (10, as in the end-to-end test): the request budget, not the CPU, sets the pace.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from rq import Queue, Worker
from rq.registry import FailedJobRegistry

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _launch import (
    ROOT,
    WebProcess,
    post_raw,
    process_cpu,
    pull_request_variant,
    summarize,
    table,
    worker_command,
)

from align.service import budget
from align.service.redis_queue import SERIALIZER, RedisQueueConfig, connect
from align.simulator import Simulator
from tests.distributed.conftest import remove_keys
from tests.distributed.support import wait_for
from tests.distributed.test_end_to_end import Cluster, _ready, free_port, process_env
from tests.helpers import GH200_MANIFEST
from tests.service.conftest import _key_pair, signed

REDIS_URL = "redis://127.0.0.1:6379/10"
REPO = "octo/gpu"
APP_ID = 4242
SECRET = "bench-webhook-secret"
CONCURRENCY = 32  # connections in flight in the web-tier test
TICKS = os.sysconf("SC_CLK_TCK")
Request = dict[str, Any]
FAILED_REVIEW = "Align could not complete"  # the check run title of a review that raised (app/service/worker.py)


@dataclass
class Rig:
    sim: Simulator
    cluster: Cluster
    hooks: list[str]
    config: RedisQueueConfig
    rq: Queue
    installation: int
    web_pids: list[int] = field(default_factory=list)


@contextmanager
def rig(tmp: Path, redis_url: str) -> Iterator[Rig]:
    """The simulator, 2 web processes and no worker yet (as test_end_to_end's `cluster` fixture)."""
    private, public = _key_pair()
    (tmp / "key.pem").write_text(private)
    name = f"bench{uuid.uuid4().hex[:8]}"
    sim = Simulator()
    base_url = sim.start()
    sim.register_app(APP_ID, public, slug="align")
    installation = sim.create_installation("octo")
    sim.set_rate_limit(installation, limit=1_000_000)  # the hourly quota is not what is measured
    sim.create_repo(REPO, {"align.yaml": GH200_MANIFEST, "README.md": "# GPU service\n"}, installation_id=installation)
    config = RedisQueueConfig(redis_url=redis_url, prefix=name, queue_name=name)
    env = process_env(base_url, redis_url, name, tmp, lease_seconds=10)
    cluster = Cluster(env, tmp)
    ports = [free_port(), free_port()]
    try:
        web = [cluster.start("serve", str(port)) for port in ports]
        for port in ports:
            if not wait_for(lambda p=port: _ready(f"http://127.0.0.1:{p}"), timeout=30):  # type: ignore[misc]
                raise RuntimeError(cluster.tail())
        rq = Queue(config.queue_name, connection=connect(config, socket_timeout=10), serializer=SERIALIZER)
        hooks = [f"http://127.0.0.1:{port}/api/github/webhooks" for port in ports]
        yield Rig(sim, cluster, hooks, config, rq, installation, [p.pid for p in web])
    finally:
        cluster.stop()
        sim.stop()
        remove_keys(redis_url, name)


# ---------------------------------------------------------------------------------------------- load


async def _closed_loop(hooks: Sequence[str], requests: Sequence[Request], concurrency: int) -> tuple[float, list]:
    """`concurrency` connections, each sending its next request as soon as the previous one is answered."""
    pending = iter(enumerate(requests))
    answers: list[tuple[int, float]] = []

    async def connection() -> None:
        for n, request in pending:
            answers.append(await post_raw(hooks[n % len(hooks)], request))

    start = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return time.perf_counter() - start, answers


async def _paced(hooks: Sequence[str], requests: Sequence[Request], rate: float) -> list[tuple[float, int, float]]:
    """One request every 1/rate s whatever the answers do (GitHub does not wait): (sent at, status, latency)."""
    start = time.time()

    async def one(n: int, request: Request) -> tuple[float, int, float]:
        await asyncio.sleep(max(0.0, start + n / rate - time.time()))
        sent = time.time()
        status, latency = await post_raw(hooks[n % len(hooks)], request)
        return sent, status, latency

    return list(await asyncio.gather(*(one(n, r) for n, r in enumerate(requests))))


def _record_pulls(r: Rig, tag: str, count: int) -> list[tuple[Request, str]]:
    """Open `count` small pull requests with the webhook pointed nowhere; their signed deliveries and heads."""
    r.sim.configure_webhook(f"http://127.0.0.1:{free_port()}/", SECRET)
    out = []
    for i in range(count):
        branch = f"{tag}-{i}"
        head = r.sim.commit(REPO, branch, {f"deploy/{branch}.yaml": f"gpu: H200  # {branch}\n"}, f"change {branch}")
        r.sim.open_pull(REPO, branch, title=f"Change {branch}", user="dev")
        delivery = r.sim.last_delivery
        assert delivery is not None
        out.append((signed(delivery.body, delivery.event, delivery.id, secret=SECRET), head))
    return out


# ---------------------------------------------------------------------------------------------- CPU accounting


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICKS, sum(values) / TICKS


class CpuMeter:
    """CPU seconds per kind of process over a phase, and what the rest of the machine used meanwhile."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self.groups = groups
        self.start = {name: sum(process_cpu(p) for p in pids) for name, pids in groups.items()}
        self.machine = _machine_busy()

    def read(self) -> dict[str, float]:
        used = {name: sum(process_cpu(p) for p in pids) - self.start[name] for name, pids in self.groups.items()}
        busy, total = _machine_busy()
        used["other"] = max(0.0, busy - self.machine[0] - sum(used.values()))
        used["wall cores"] = total - self.machine[1]  # core-seconds that passed (wall × cores)
        return used


def _redis_pid(url: str) -> int:
    return int(redis.Redis.from_url(url).info("server")["process_id"])


# ---------------------------------------------------------------------------------------------- phases


def web_tier(r: Rig, logs: Path, deliveries: int, rounds: int) -> list[list[object]]:
    """Deliveries/s, latency and CPU per delivery of the 2 web processes (and Redis) vs 2 bare ones,
    alternating, no worker running."""
    payload = json.loads(_record_pulls(r, "template", 1)[0][0]["content"])
    bare = [WebProcess("baseline", logs), WebProcess("baseline", logs)]
    redis_pid = _redis_pid(r.config.redis_url)
    results: dict[str, list[tuple[float, dict[str, float], set[int], float]]] = {"align": [], "baseline": []}
    try:
        for process in bare:
            process.wait_ready()
        targets = {"align": (r.hooks, r.web_pids), "baseline": ([b.hook for b in bare], [b.process.pid for b in bare])}
        first = 100_000
        for round_ in range(rounds + 1):  # round 0 warms up
            for name in (["align", "baseline"] if round_ % 2 else ["baseline", "align"]):
                hooks, pids = targets[name]
                requests = [signed(pull_request_variant(payload, n), "pull_request", f"w{n}", secret=SECRET)
                            for n in range(first, first + deliveries)]
                first += deliveries
                meter = CpuMeter({"server": [*pids, redis_pid]})
                elapsed, answers = asyncio.run(_closed_loop(hooks, requests, CONCURRENCY))
                cpu_ms = meter.read()["server"] / deliveries * 1000
                if round_:
                    results[name].append((deliveries / elapsed, summarize([s for _, s in answers]),
                                          {status for status, _ in answers}, cpu_ms))
    finally:
        for process in bare:
            process.stop()
    purge(r)
    rows: list[list[object]] = []
    for name, runs in results.items():
        statuses = set().union(*(x[2] for x in runs))
        rows.append([name, statistics.median(x[0] for x in runs),
                     *(statistics.median(x[1][k] for x in runs) for k in ("p50", "p99", "max")),
                     statistics.median(x[3] for x in runs), ",".join(map(str, sorted(statuses)))])
    ratios = [a[0] / b[0] for a, b in zip(results["align"], results["baseline"], strict=True)]
    rows[0].append(f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})")
    rows[1].append("")
    return rows


def purge(r: Rig) -> None:
    """Drop everything queued so far (no worker may be running)."""
    remove_keys(r.config.redis_url, r.config.queue_name)


@dataclass
class Phase:
    workers: int
    time_scale: float  # GitHub's secondary-limit windows divided by this in the shared budget
    backlog: int  # deliveries sent in a burst before the probes
    acks: list[tuple[float, int, float]]  # probes: (sent at, status, latency)
    done: dict[str, float]  # head -> when its check run was first seen completed
    cpu: dict[str, float]
    content_peak: int
    problems: list[str]

    def busy_latencies(self) -> list[float]:
        """Probe latencies while every worker had a review to do (N = 0: all of them)."""
        finished = sorted(self.done.values())
        out = []
        for n, (sent, _, latency) in enumerate(sorted(self.acks)):
            waiting = self.backlog + n - sum(1 for t in finished if t <= sent)
            if waiting >= max(1, self.workers):
                out.append(latency)
        return out

    def reviews_per_minute(self) -> float:
        """First completed review to last: the steady rate while the backlog lasts, start-up left out."""
        finished = sorted(self.done.values())
        if len(finished) < 2 or finished[-1] == finished[0]:
            return float("nan")
        return (len(finished) - 1) / (finished[-1] - finished[0]) * 60


def start_worker(r: Rig, logs: Path, time_scale: float) -> subprocess.Popen[bytes]:
    log = (logs / f"worker-{uuid.uuid4().hex[:6]}.log").open("wb")
    return subprocess.Popen(worker_command(time_scale), cwd=ROOT, env=r.cluster.env, stdout=log,
                            stderr=subprocess.STDOUT)


async def _burst_then_probe(hooks: Sequence[str], requests: Sequence[Request], backlog: int,
                            rate: float) -> tuple[list[tuple[int, float]], list[tuple[float, int, float]]]:
    _, burst = await _closed_loop(hooks, requests[:backlog], 8)
    return burst, await _paced(hooks, requests[backlog:], rate)


def reviews(r: Rig, logs: Path, workers: int, time_scale: float, backlog: int, probes: int, rate: float,
            timeout: float) -> Phase:
    """N workers, a burst of `backlog` new pull requests, then `probes` more at `rate` per second."""
    purge(r)
    processes = [start_worker(r, logs, time_scale) for _ in range(workers)]
    try:
        if not wait_for(lambda: len(Worker.all(queue=r.rq)) >= workers, timeout=60):
            raise RuntimeError(r.cluster.tail())
        pulls = _record_pulls(r, f"n{workers}-{uuid.uuid4().hex[:4]}", backlog + probes)
        heads = {head for _, head in pulls}
        done: dict[str, float] = {}
        stop = threading.Event()
        poller = threading.Thread(target=_poll, args=(r.sim, heads, done, stop), daemon=True)
        meter = CpuMeter({"web": r.web_pids, "workers": [p.pid for p in processes],
                          "redis": [_redis_pid(r.config.redis_url)], "simulator+client": [os.getpid()]})
        start = time.time()
        poller.start()
        burst, acks = asyncio.run(_burst_then_probe(r.hooks, [req for req, _ in pulls], backlog, rate))
        if workers:
            wait_for(lambda: len(done) == len(heads), timeout=timeout, step=0.1)
        stop.set()
        poller.join()
        cpu = meter.read()
        statuses = {status for status, _ in burst} | {status for _, status, _ in acks}
        return Phase(workers, time_scale, backlog, acks, done, cpu, _content_peak(r.sim, time_scale, start),
                     _problems(r, heads, done, statuses, workers))
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _poll(sim: Simulator, heads: set[str], done: dict[str, float], stop: threading.Event) -> None:
    """Note when each head's check run completes (reads the simulator's state under its lock, no copies)."""
    while not stop.wait(0.05):
        now = time.time()
        with sim.state.lock:
            completed = {run.head_sha for run in sim.state.check_runs.values()
                         if run.status == "completed" and run.head_sha in heads}
        for head in completed - done.keys():
            done[head] = now


def _problems(r: Rig, heads: set[str], done: dict[str, float], statuses: set[int], workers: int) -> list[str]:
    problems = []
    if statuses != {202}:
        problems.append(f"answers {sorted(statuses)}")
    if workers:
        if len(done) != len(heads):
            problems.append(f"{len(heads) - len(done)} reviews not completed")
        runs = [run for run in r.sim.check_runs(REPO, name="Align") if run.head_sha in heads]
        if len(runs) != len(heads):
            problems.append(f"{len(runs)} check runs for {len(heads)} heads")
        failed_reviews = sum(1 for run in runs if str(run.output.get("title", "")).startswith(FAILED_REVIEW))
        if failed_reviews:
            problems.append(f"{failed_reviews} reviews failed (see the worker logs)")
        failed = FailedJobRegistry(queue=r.rq).count
        if failed:
            problems.append(f"{failed} failed jobs")
    return problems


def content_window(time_scale: float) -> tuple[float, int]:
    """The budget's content-creating limit: (window seconds at this time scale, requests allowed in it)."""
    limit = min((lim for lim in budget.GITHUB_SECONDARY_LIMITS if lim.counts == "content"),
                key=lambda lim: lim.window_seconds)
    return limit.window_seconds / time_scale, limit.capacity


def _content_peak(sim: Simulator, time_scale: float, since: float) -> int:
    """The most content-creating requests (POSTs, token exchanges aside) seen in any one budget window."""
    window, _ = content_window(time_scale)
    times = sorted(c.time for c in sim.calls
                   if c.time >= since and c.method == "POST" and not c.path.endswith("/access_tokens"))
    peak, low = 0, 0
    for high, t in enumerate(times):
        while t - times[low] > window:
            low += 1
        peak = max(peak, high - low + 1)
    return peak


# ---------------------------------------------------------------------------------------------- report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--repeat", type=int, default=2, help="sweeps over --workers, interleaved")
    parser.add_argument("--backlog", type=int, default=100, help="pull requests opened at once per phase")
    parser.add_argument("--probes", type=int, default=40, help="pull requests opened at --rate afterwards")
    parser.add_argument("--rate", type=float, default=20.0, help="probe deliveries per second")
    parser.add_argument("--time-scale", type=float, default=1000.0,
                        help="GitHub's limit windows divided by this for the worker sweep (1000: out of the way)")
    parser.add_argument("--capped-time-scale", type=float, default=10.0,
                        help="one more phase with the most workers and this scale (10 as in the e2e test; 0: skip)")
    parser.add_argument("--capped-pulls", type=int, default=100, help="pull requests opened at once in that phase")
    parser.add_argument("--deliveries", type=int, default=1000, help="per round of the web-tier test")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the web-tier test (after a warm-up)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds allowed per phase")
    parser.add_argument("--redis-url", default=REDIS_URL)
    args = parser.parse_args()

    # Sweeps interleaved (1, 2, 4, 1, 2, 4): the machine's other load then falls on every worker count alike.
    plan = [(n, args.time_scale, args.backlog, args.probes) for n in [0, *args.workers * args.repeat]]
    if args.capped_time_scale:  # enough reviews to outlast several budget windows; no probes
        plan.append((max(args.workers), args.capped_time_scale, args.capped_pulls, 0))
    with tempfile.TemporaryDirectory() as tmp, rig(Path(tmp), args.redis_url) as r:
        web = web_tier(r, Path(tmp), args.deliveries, args.rounds)
        phases = [reviews(r, Path(tmp), n, scale, backlog, probes, args.rate, args.timeout)
                  for n, scale, backlog, probes in plan]
        per_review = _content_per_review(r.sim, sum(len(p.done) for p in phases))

    print(f"Web tier: {args.deliveries} signed deliveries per round, {CONCURRENCY} connections, 2 processes, "
          f"no worker running; medians of {args.rounds} rounds")
    print(table(["target", "deliveries/s", "p50 ms", "p99 ms", "max ms", "server CPU ms / delivery (web + Redis)",
                 "statuses", "deliveries/s vs baseline"], web))
    print(f"\nReviews: per phase {args.backlog} small pull requests opened at once, then {args.probes} more at "
          f"{args.rate:g}/s (the probes), through the 2 web processes; {args.repeat} phases per worker count "
          "(reviews/min: median, each phase in brackets; probes pooled; CPU summed). Probe acknowledgement latency "
          "counted while every worker had a review waiting (N = 0: no worker, the reference)")
    print(table(["workers", "GitHub limits", "reviews/min", "vs 1 worker", "probes while busy", "p50 ms", "p99 ms",
                 "max ms", "content reqs, peak / allowed per window", "CPU ms per review: workers / all ours",
                 "CPU s: workers / web / redis / sim+client / other", "cores busy", "check"],
                [_group_row(group, phases) for group in _groups(phases)]))
    print("(\"all ours\": workers, web, Redis, and this process: simulator, load generator; \"other\": the rest of "
          "the machine meanwhile)")
    print(f"\nContent-creating requests per review: {per_review:.1f}. GitHub allows 80 a minute per installation: "
          f"at most {80 / per_review:.0f} reviews a minute per installation, whatever the number of workers.")
    return 0 if all(not p.problems for p in phases) else 1


def _groups(phases: Sequence[Phase]) -> list[list[Phase]]:
    """Phases with the same worker count and limits, in order of first appearance."""
    groups: dict[tuple[int, float], list[Phase]] = {}
    for phase in phases:
        groups.setdefault((phase.workers, phase.time_scale), []).append(phase)
    return list(groups.values())


def _group_row(group: Sequence[Phase], phases: Sequence[Phase]) -> list[object]:
    first = group[0]
    one = statistics.median([q.reviews_per_minute() for q in phases if q.workers == 1] or [math.nan])
    rates = [p.reviews_per_minute() for p in group]
    rate = statistics.median(rates)
    busy = [latency for p in group for latency in p.busy_latencies()]
    stats = summarize(busy) if busy else {"p50": math.nan, "p99": math.nan, "max": math.nan}
    window, allowed = content_window(first.time_scale)
    c = {key: sum(p.cpu[key] for p in group) for key in first.cpu}
    ours = sum(c[k] for k in ("workers", "web", "redis", "simulator+client"))
    done = max(1, sum(len(p.done) for p in group))
    problems = "; ".join(problem for p in group for problem in p.problems)
    return [
        first.workers, f"x{first.time_scale:g} ({allowed} content reqs / {window:g} s)",
        f"{rate:.0f} ({' '.join(f'{x:.0f}' for x in rates)})" if first.workers else "-",
        f"{rate / one:.2f}x" if first.workers else "-",
        len(busy) if first.acks else "-", stats["p50"], stats["p99"], stats["max"],
        f"{max(p.content_peak for p in group)} / {allowed}" if first.workers else "-",
        f"{c['workers'] / done * 1000:.0f} / {ours / done * 1000:.0f}" if first.workers else "-",
        " / ".join(f"{c[k]:.1f}" for k in ("workers", "web", "redis", "simulator+client", "other")),
        f"{(ours + c['other']) / c['wall cores'] * (os.cpu_count() or 1):.2f} of {os.cpu_count()}",
        problems or "ok",
    ]


def _content_per_review(sim: Simulator, reviews_done: int) -> float:
    posts = sum(1 for c in sim.calls if c.method == "POST" and not c.path.endswith("/access_tokens"))
    return posts / max(1, reviews_done)


if __name__ == "__main__":
    raise SystemExit(main())
