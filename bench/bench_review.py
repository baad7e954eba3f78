"""Webhook to completed `Align` check run, through the real service and the GitHub simulator.

    python bench/bench_review.py [--runs 3] [--large-files 3000] [--large-runs 1]

Pull requests: a 20-file one (generated, one file in four with a finding), the example one
(examples/lambda-gh200 base/ and head/, as `align demo` opens it) and a 3,000-file one (bench/generate_large_pr.py's
files: same templates, seed and finding rate). Each is opened on the simulator with the webhook pointed nowhere,
then its recorded `pull_request.opened` delivery is sent to the service (tests/service/stack.py: uvicorn on a
free port, embedded queue, PyGithub against the simulator, no request pacing), so that the clock starts when the
delivery leaves and not while the simulator builds the payload. Measured: the acknowledgement, the check run
completed, and everything published (review, summary: the queue idle).

Baseline, same run and process: the engine alone on the same change, both trees already in memory (read out of
a local git repository before the clock starts; review_change, then the markdown report), i.e. the work a review
cannot avoid. The ratio service / engine is the figure (wall and CPU; CPU is steadier on a shared machine).
Also: GitHub API calls per review by endpoint, from the simulator's request log, for the 20-file pull
request (first review of a repository, then a later one), and one 20-file review with the production request
pacing (Settings defaults).
"""

from __future__ import annotations

import argparse
import gc
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _launch import WEBHOOK_PATH, free_port, table
from generate_large_pr import MANIFEST, PATHS, WEIGHTS, render_file

from align.demo import _example
from align.git_source import GitSource
from align.report import render
from align.review import review_change
from align.rule_api import LoadedRules, load_rules
from align.service.settings import Settings
from align.source import FileChange
from tests.gitrepo import commit_tree, init_repo
from tests.service.conftest import SECRET, _key_pair
from tests.service.stack import Stack, start_stack, stop_stack

Files = Mapping[str, str | bytes]
POLL = 0.01  # seconds between looks at the check run: the resolution of "completed"


@dataclass
class Scenario:
    name: str
    base: Files
    head: Files


@dataclass
class Timing:
    ack: float
    completed: float
    cpu: float  # this process's CPU seconds until completed: service and simulator share it
    published: float
    findings: str
    calls: list[tuple[str, str]] = field(default_factory=list)  # (method, endpoint) per request
    in_github: float = 0.0  # seconds the simulator spent answering this review's requests


def generated(files: int, lines: int = 100, finding_rate: float = 1 / 40, seed: int = 7) -> dict[str, str]:
    """generate_large_pr.generate's files, as a dict (same draws in the same order for the same seed)."""
    rng = random.Random(seed)
    kinds = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()), k=files)
    return {PATHS[kind].format(n=n): render_file(kind, lines, rng, with_finding=rng.random() < finding_rate)
            for n, kind in enumerate(kinds)}


_OWNER_REPO = re.compile(r"^/(repos|_codeload)/[^/]+/[^/]+")
_SHA = re.compile(r"\b[0-9a-f]{40}\b")
_NUMBER = re.compile(r"/\d+(?=/|$)")


def endpoint(path: str) -> str:
    """/repos/acme/x/check-runs/5000001 -> /repos/{owner}/{repo}/check-runs/{n}."""
    path = _OWNER_REPO.sub(lambda m: f"/{m.group(1)}/{{owner}}/{{repo}}", path.split("?")[0])
    return _NUMBER.sub("/{n}", _SHA.sub("{sha}", path))


def review_once(stack: Stack, repo: str, head: Files, branch: str, timeout: float) -> Timing:
    sim = stack.sim
    sim.configure_webhook(f"http://127.0.0.1:{free_port()}/", SECRET)  # nothing listens: recorded, not sent
    sha = sim.commit(repo, branch, dict(head), f"change on {branch}")  # a head of its own per run
    sim.open_pull(repo, branch, title=f"Change {branch}", user="dev")
    delivery = sim.last_delivery
    assert delivery is not None and delivery.event == "pull_request"
    sim.configure_webhook(f"{stack.server.url}{WEBHOOK_PATH}", SECRET)
    sim.reset_calls()

    gc.collect()  # a collection of the big trees built above must not land inside the measurement
    start, cpu_start = time.perf_counter(), time.process_time()
    status = sim.redeliver(delivery.id)
    ack = time.perf_counter() - start
    if status != 202:
        raise RuntimeError(f"the service answered {status}")
    deadline = start + timeout
    while not any(r.status == "completed" for r in sim.check_runs(repo, sha, "Align")):
        if time.perf_counter() > deadline:
            raise RuntimeError(f"no completed check run on {branch} within {timeout} s")
        time.sleep(POLL)
    completed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    stack.settle(timeout=max(1.0, deadline - time.perf_counter()))
    published = time.perf_counter() - start
    run = sim.check_runs(repo, sha, "Align")[-1]
    if str(run.output.get("title", "")).startswith("Align could not complete"):
        raise RuntimeError(f"the review of {branch} failed: {run.output.get('summary')}")
    log = sim.calls
    calls = [(c.method, endpoint(c.path)) for c in log]
    return Timing(ack, completed, cpu, published, str(run.output.get("title")), calls, sum(c.duration for c in log))


class Snapshot:
    """A RepoSource over two commits read out of git before the clock starts: the engine then does its own
    work only (no git, no network), which is the floor any review of this change stands on."""

    def __init__(self, repo: Path, base: str, head: str) -> None:
        git = GitSource(repo)
        self.changes = git.changed_files(base, head)
        self.trees = {ref: dict(git.read_many(ref, git.list_files(ref))) for ref in (base, head)}

    def resolve(self, ref: str) -> str:
        return ref

    def changed_files(self, base: str, head: str) -> list[FileChange]:
        return list(self.changes)

    def read(self, ref: str, path: str) -> bytes | None:
        return self.trees[ref].get(path)

    def read_many(self, ref: str, paths: Iterable[str]) -> Mapping[str, bytes]:
        tree = self.trees[ref]
        return {path: tree[path] for path in paths if path in tree}

    def list_files(self, ref: str) -> list[str]:
        return sorted(self.trees[ref])


def engine_once(base: Files, head: Files, rules: LoadedRules, workdir: Path) -> tuple[float, float, int]:
    """The engine alone on the same change, as the worker runs it (review, then the markdown report):
    wall seconds, CPU seconds, and its number of findings."""
    repo = workdir / f"repo-{time.monotonic_ns()}"
    init_repo(repo)
    base_sha = commit_tree(repo, files=base, message="base")
    head_sha = commit_tree(repo, files=head, message="head")
    source = Snapshot(repo, base_sha, head_sha)
    gc.collect()
    start, cpu_start = time.perf_counter(), time.process_time()
    changes = source.changed_files(base_sha, head_sha)
    result = review_change(source, base_sha, head_sha, changes=changes, rules=rules)
    blobs = source.read_many(head_sha, [c.path for c in changes])
    texts = {path: data.decode("utf-8", "replace") for path, data in blobs.items()}
    render(result, "markdown", sources=texts)
    return time.perf_counter() - start, time.process_time() - cpu_start, len(result.findings)


def _scenarios(args: argparse.Namespace) -> list[tuple[Scenario, int]]:
    base = {"align.yaml": MANIFEST}
    example_base, example_head = _example()
    return [
        (Scenario("20-file", base, generated(20, finding_rate=1 / 4)), args.runs),
        (Scenario("example", example_base, example_head), args.runs),
        (Scenario(f"{args.large_files}-file", base, generated(args.large_files)), args.large_runs),
    ]


def _measure(stack: Stack, scenario: Scenario, runs: int, rules: LoadedRules, tmp: Path,
             timeout: float) -> tuple[list[object], list[Counter[tuple[str, str]]]]:
    """Service and engine alone in turn, `runs` times each (so that the machine's load falls on both alike):
    a table row, and the API calls of each review."""
    repo = f"acme/{scenario.name}"
    stack.sim.create_repo(repo, dict(scenario.base), stack.installation)
    timings: list[Timing] = []
    engine: list[tuple[float, float, int]] = []
    for n in range(runs):
        timings.append(review_once(stack, repo, scenario.head, f"pr-{n}", timeout))
        engine.append(engine_once(scenario.base, scenario.head, rules, tmp))
    completed = statistics.median(t.completed for t in timings)
    cpu = statistics.median(t.cpu for t in timings)
    engine_s, engine_cpu = statistics.median(e[0] for e in engine), statistics.median(e[1] for e in engine)
    row: list[object] = [
        scenario.name, len(scenario.head), timings[-1].findings, engine[-1][2],
        statistics.median(t.ack for t in timings) * 1000, completed, statistics.median(t.published for t in timings),
        engine_s, f"{completed / engine_s:.2f}x", cpu, engine_cpu, f"{cpu / engine_cpu:.2f}x", len(timings[-1].calls),
        statistics.median(t.in_github for t in timings),
    ]
    return row, [Counter(t.calls) for t in timings]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="reviews of each small pull request")
    parser.add_argument("--large-files", type=int, default=3000)
    parser.add_argument("--large-runs", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds allowed per review")
    args = parser.parse_args()

    private, public = _key_pair()
    rules = load_rules()
    rows: list[list[object]] = []
    calls: dict[str, list[Counter[tuple[str, str]]]] = {}
    stack = start_stack(private, public)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for scenario, runs in _scenarios(args):
                row, calls[scenario.name] = _measure(stack, scenario, runs, rules, Path(tmp), args.timeout)
                rows.append(row)
    finally:
        stop_stack(stack)
    paced = _paced_review(private, public, args.timeout)

    print(f"Webhook to completed check run (medians of {args.runs} reviews; {args.large_runs} for the large one); "
          "baseline: the engine alone on the same change. CPU: this process's CPU seconds over the same span "
          "(the service and the simulator share the process), steadier than wall time on a loaded machine; "
          "answering them: the simulator's own time on the review's API calls")
    print(table(["pull request", "files", "check run title", "engine findings", "ack ms", "check completed s",
                 "all published s", "engine alone s", "wall ratio", "service CPU s", "engine CPU s", "CPU ratio",
                 "API calls", "answering them s"], rows))
    print(f"\n20-file pull request with production pacing (seconds_between_requests="
          f"{_default('seconds_between_requests')}, seconds_between_writes={_default('seconds_between_writes')}): "
          f"check completed in {paced.completed:.2f} s, all published in {paced.published:.2f} s, "
          f"{len(paced.calls)} API calls")
    first, later = calls["20-file"][0], calls["20-file"][-1]
    breakdown = [[method, path, first[(method, path)], later[(method, path)]]
                 for method, path in sorted(set(first) | set(later), key=lambda k: (k[1], k[0]))]
    breakdown.append(["", "**total**", sum(first.values()), sum(later.values())])
    print("\nGitHub API calls per review, 20-file pull request (first review of the repository; a later one)")
    print(table(["method", "endpoint", "first", "later"], breakdown))
    return 0


def _default(name: str) -> object:
    return Settings.model_fields[name].default


def _paced_review(private: str, public: str, timeout: float) -> Timing:
    """One 20-file review with the request pacing a real installation runs with."""
    stack = start_stack(private, public, seconds_between_requests=_default("seconds_between_requests"),
                        seconds_between_writes=_default("seconds_between_writes"))
    try:
        stack.sim.create_repo("acme/paced", {"align.yaml": MANIFEST}, stack.installation)
        return review_once(stack, "acme/paced", generated(20, finding_rate=1 / 4), "pr-paced", timeout)
    finally:
        stop_stack(stack)


if __name__ == "__main__":
    raise SystemExit(main())
