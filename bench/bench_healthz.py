"""`/healthz` latency of a real `align serve` (embedded mode) while it reviews a CPU-heavy pull request, against
the same server idle, in the same run.

    python bench/bench_healthz.py [--files 100] [--lines 60] [--workers 4] [--pulls 2]

The GitHub simulator and the prober run in this process; `align serve` in its own. Phase 1 (baseline): the
prober sends one GET /healthz at a time (a fresh connection each, as a kubelet probe does) for a few seconds
with nothing to review. Phase 2: `--pulls` pull requests of `--files` files each (Python and Markdown full of
GPU names, prices and memory figures: pure-Python engine work on every line) are opened at once and the
prober keeps going until every check run completed. Both phases run for three configurations of the service:
the engine in a process of its own per review (ALIGN_REVIEW_ISOLATION=process, the default), and on the
worker's thread with Python's GIL switch interval (5 ms) and with 1 ms (ALIGN_SWITCH_INTERVAL_MS=1). Prints
p50 / p99 / max per phase and the ratios.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _launch import app_environment, summarize, table

from align.simulator import Simulator
from tests.helpers import GH200_MANIFEST
from tests.service.conftest import SECRET, _key_pair
from tests.service.test_restart import Serve, _free_port

REPO = "acme/inference"
PY_LINES = [
    'GPU_MODEL = "H100"  # the H100 80GB nodes, $2.49/hour each\n',
    "GPU_MEMORY_GB = 80  # 3 × 80 = 240 GB across the cluster\n",
    'NODE_SELECTOR = {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}\n',
    "def cost(hours):\n    return hours * 2.49 * 3  # three H100 at $2.49\n",
]
MD_LINES = [
    "The service runs on 3 × H100 (80 GB) at $2.49 per GPU-hour, about $5,400 a month.\n",
    "Each node has an NVIDIA H100 SXM with 80GB of HBM3; the KV cache takes 30 GB of it.\n",
    "| gpu | H100 | 80 GB | $2.49/h |\n",
]


def heavy_files(pull: int, files: int, lines: int) -> dict[str, str]:
    out = {}
    for i in range(files):
        pool, suffix = (PY_LINES, "py") if i % 2 else (MD_LINES, "md")
        out[f"svc{pull}/mod{i:04}.{suffix}"] = "".join(pool[j % len(pool)] for j in range(lines))
    return out


def get_healthz(port: int) -> bytes:
    """One GET over a fresh socket, written by hand: an HTTP client library costs the prober more CPU (and
    time) per request than the server spends answering."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        chunks = []
        while chunk := sock.recv(4096):
            chunks.append(chunk)
    return b"".join(chunks)


def probe(port: int, seconds: float | None, until: object = None) -> list[float]:
    """Sequential GET /healthz, fresh connection each, for `seconds` or until `until()` is true (in ms)."""
    latencies: list[float] = []
    end = time.monotonic() + seconds if seconds is not None else None
    while (end is None or time.monotonic() < end) and not (until is not None and until()):  # type: ignore[operator]
        start = time.perf_counter()
        answer = get_healthz(port)
        latencies.append(time.perf_counter() - start)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:100]
        time.sleep(0.02)
    return latencies


def measure(sim: Simulator, env: dict[str, str], tmp: Path, label: str, args: argparse.Namespace,
            pulls_from: int) -> tuple[list[float], list[float], float]:
    """(idle latencies, latencies during the reviews, seconds the reviews took) of one `align serve`."""
    serve = Serve(env, _free_port(), tmp / f"serve-{label}.log")
    sim.configure_webhook(f"http://127.0.0.1:{serve.port}/api/github/webhooks", SECRET)
    try:
        serve.start()
        idle = probe(serve.port, args.idle_seconds)
        pulls = range(pulls_from, pulls_from + args.pulls)
        heads = [sim.commit(REPO, f"heavy-{p}", heavy_files(p, args.files, args.lines), "heavy change") for p in pulls]
        started = time.monotonic()
        for pull in pulls:
            sim.open_pull(REPO, f"heavy-{pull}", title=f"Heavy {pull}", user="dev")

        def done() -> bool:
            runs = [r for sha in heads for r in sim.check_runs(REPO, sha, "Align")]
            return len(runs) == len(heads) and all(r.status == "completed" for r in runs)

        busy = probe(serve.port, None, done)
        return idle, busy, time.monotonic() - started
    finally:
        serve.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--lines", type=int, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--pulls", type=int, default=2)
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    args = parser.parse_args()

    private, public = _key_pair()
    sim = Simulator()
    api = sim.start()
    sim.register_app(1, public, "align")
    installation = sim.create_installation("acme")
    sim.set_rate_limit(installation, limit=1_000_000)
    sim.create_repo(REPO, {"align.yaml": GH200_MANIFEST, "README.md": "# Inference\n"}, installation)
    tmp = Path(tempfile.mkdtemp(prefix="align-bench-healthz-"))
    env = app_environment(api, private, SECRET, tmp, ALIGN_LOG_LEVEL="WARNING", ALIGN_WORKERS=str(args.workers),
                          ALIGN_REVIEW_DEADLINE="600")
    configs = {
        "thread, 5 ms": {"ALIGN_REVIEW_ISOLATION": "thread", "ALIGN_SWITCH_INTERVAL_MS": "5"},
        "thread, 1 ms": {"ALIGN_REVIEW_ISOLATION": "thread", "ALIGN_SWITCH_INTERVAL_MS": "1"},
        "process (default)": {"ALIGN_REVIEW_ISOLATION": "process"},
    }
    results = {}
    try:
        for index, (label, extra) in enumerate(configs.items()):
            results[label] = measure(sim, {**env, **extra}, tmp, str(index), args, index * args.pulls)
    finally:
        sim.stop()

    rows = []
    for label, (idle, busy, took) in results.items():
        for name, values in (("idle", idle), (f"during the reviews ({took:.1f} s)", busy)):
            stats = summarize(values)
            rows.append([label, name, len(values), f"{stats['p50']:.1f}", f"{stats['p99']:.1f}",
                         f"{stats['max']:.1f}"])
    print(f"{args.pulls} pull requests × {args.files} files × {args.lines} lines at once, {args.workers} workers")
    print(table(["engine runs on", "phase", "probes", "p50 ms", "p99 ms", "max ms"], rows))
    base_label = "thread, 5 ms"
    base = summarize(results[base_label][1])
    for label, (idle, busy, took) in results.items():
        still, load = summarize(idle), summarize(busy)
        print(f"{label}: during/idle p50 {load['p50'] / still['p50']:.1f}x, p99 {load['p99'] / still['p99']:.1f}x, "
              f"max {load['max'] / still['max']:.1f}x; against {base_label} during the reviews: "
              f"p50 {load['p50'] / base['p50']:.2f}x, p99 {load['p99'] / base['p99']:.2f}x, "
              f"max {load['max'] / base['max']:.2f}x, review time {took / results[base_label][2]:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
