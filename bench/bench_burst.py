"""A burst of pull requests larger than GitHub's write budget: every one must end with a completed check run.

    python bench/bench_burst.py [--pulls 1000] [--time-scale 1] [--workers 4]

Issue 8, item 12: "1,000 pull requests delivered at once: 168 reviewed, 832 never got a check run". The GitHub
simulator (this process) enforces GitHub's secondary limits — 80 content-creating requests a minute, 500 an
hour, 900 points a minute per installation — and a real `align serve` (embedded mode, its own process) holds
its request budget to the same limits. `--time-scale 60` runs GitHub's minute in one second and its hour in
one minute (both sides scaled alike; at 1, the run takes over an hour: a review's check run is one
content-creating request, so 1,000 of them need two of GitHub's hours). Each pull request is clean (one
check run, nothing else to post), so the figure is the pace GitHub's limits allow.

Prints how many heads ended with a completed `Align` check run, how many waited (were put back in the queue),
the time taken, and the ratio to the least time GitHub's limits allow for that many check runs.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _launch import app_environment

REPO = "acme/inference"
PER_MINUTE, PER_HOUR = 80, 500


def _serve(port: int, time_scale: float) -> int:
    """`align serve` with GitHub's secondary limits on `time_scale` (the seam: budget.build_budget)."""
    from align.service import budget
    from align.service.server import serve
    from align.service.settings import get_settings

    limits = tuple(replace(limit, window_seconds=limit.window_seconds / time_scale)
                   for limit in budget.GITHUB_SECONDARY_LIMITS)

    def build_budget(queue: str, redis_url: str, *, max_wait: float = 900.0, prefix: str = "align") -> Any:
        return budget.LocalRequestBudget(limits, max_wait=max_wait)

    budget.build_budget = build_budget
    serve(get_settings(), "127.0.0.1", port)
    return 0


def least_seconds(pulls: int, time_scale: float) -> float:
    """The least time GitHub's content limits allow for `pulls` check runs: 500 an hour, 80 a minute."""
    hours, rest = divmod(pulls - 1, PER_HOUR) if pulls else (0, 0)
    return (hours * 3600 + (rest // PER_MINUTE) * 60) / time_scale


def main() -> int:
    from align.simulator import Simulator
    from tests.helpers import GH200_MANIFEST
    from tests.service.conftest import SECRET, _key_pair
    from tests.service.test_restart import Serve, _free_port

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pulls", type=int, default=1000)
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    scale = args.time_scale

    private, public = _key_pair()
    sim = Simulator()
    api = sim.start()
    sim.register_app(1, public, "align")
    installation = sim.create_installation("acme")
    sim.set_rate_limit(installation, limit=10_000_000)  # the primary limit is not what this measures
    sim.enable_secondary_limits(minute_seconds=60 / scale, hour_seconds=3600 / scale)
    sim.create_repo(REPO, {"align.yaml": GH200_MANIFEST, "README.md": "# Inference\n"}, installation)
    tmp = Path(tempfile.mkdtemp(prefix="align-bench-burst-"))
    env = app_environment(api, private, SECRET, tmp, ALIGN_LOG_LEVEL="INFO", ALIGN_WORKERS=str(args.workers),
                          ALIGN_QUEUE_SIZE=str(max(1000, args.pulls)),
                          ALIGN_MAX_RATE_LIMIT_WAIT=f"{900 / scale:g}", ALIGN_RETRY_BACKOFF=f"{1 / scale:g}")
    port = _free_port()
    serve = Serve(env, port, tmp / "serve.log")
    serve_cmd = [sys.executable, str(Path(__file__).resolve()), "serve", str(port), str(scale)]
    sim.configure_webhook(f"http://127.0.0.1:{port}/api/github/webhooks", SECRET)

    heads = [sim.commit(REPO, f"pr-{i}", {f"docs/pr{i}.md": f"Pull request {i} runs on GH200.\n"}, "change")
             for i in range(args.pulls)]
    try:
        serve.start(serve_cmd)
        started = time.monotonic()
        for i in range(args.pulls):  # delivered one after another as fast as the service answers
            sim.open_pull(REPO, f"pr-{i}", title=f"Change {i}", user=f"dev{i % 7}")
        delivered = time.monotonic() - started
        refused = sum(1 for d in sim.deliveries if d.status not in (200, 202))

        wanted = set(heads)

        def completed() -> int:  # one copy of every run per poll, not one per head
            return len({r.head_sha for r in sim.check_runs(REPO, None, "Align")
                        if r.status == "completed" and r.head_sha in wanted})

        limit = least_seconds(args.pulls, scale) * 2 + 120
        last, last_change = -1, time.monotonic()
        while (done := completed()) < args.pulls:
            if done != last:
                last, last_change = done, time.monotonic()
            if time.monotonic() - last_change > limit:
                break  # nothing moved for far longer than GitHub's limits explain
            time.sleep(1.0)
        took = time.monotonic() - started
    finally:
        serve.stop()
        sim.stop()

    log = serve.log.read_text()
    waits = len(re.findall(r"the review waits until", log))
    runs = sim.check_runs(REPO, None, "Align")
    queued = sum(1 for r in runs if any(status == "queued" for status, _ in r.history))
    per_sha = Counter(r.head_sha for r in runs)
    per_head = [per_sha[sha] for sha in heads]
    least = least_seconds(args.pulls, scale)
    print(f"{args.pulls} pull requests delivered in {delivered:.1f} s ({refused} deliveries refused), "
          f"GitHub's limits on a time scale of {scale:g} ({60 / scale:g} s minute, {3600 / scale:g} s hour)")
    print(f"completed check runs: {done} of {args.pulls}; heads with more than one run: "
          f"{sum(1 for n in per_head if n > 1)}; runs shown queued while waiting: {queued}; "
          f"reviews put back to wait: {waits}")
    print(f"took {took:.1f} s; the least GitHub's limits allow: {least:.1f} s "
          f"({took / least if least else math.nan:.2f}x); at GitHub's real pace that is {took * scale / 60:.1f} min")
    return 0 if done == args.pulls else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        raise SystemExit(_serve(int(sys.argv[2]), float(sys.argv[3])))
    raise SystemExit(main())
