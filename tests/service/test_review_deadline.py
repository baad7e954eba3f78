"""The review deadline in the running service (embedded mode) against the GitHub simulator: a review that
passes it completes its check run with what it found and says where it stopped; a review stuck in one file
is abandoned and the worker goes on to the next pull request; the web tier answers meanwhile; a retried job
whose first try spent the deadline is not reviewed again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from align.context import ReviewContext
from align.findings import Finding, Severity
from align.rule_api import BaseRule, LoadedRules, load_rules
from align.service.review_deadline import EARLIER_TRY_KEY, review_deadline
from align.service.worker import handle_job

from .stack import Stack, start_stack, stop_stack
from .test_resume import detach, job_of_last_delivery

FILES = 101  # four batches of the engine's 32 files


class _SlowRule(BaseRule):
    """One error per file; each batch of files takes `pause` seconds (a heavy rule on a large change)."""

    id = "slow-rule"
    default_severity = Severity.ERROR
    file_local = True
    pause: ClassVar[float] = 1.5

    def check(self, ctx: ReviewContext) -> Iterator[Finding]:
        time.sleep(self.pause)
        for source_file in ctx.files:
            if source_file.path.startswith("svc/"):
                yield self.finding(source_file, 1, "slow finding", evidence=source_file.path)


class _SlowQuiet(_SlowRule):
    id = "slow-quiet"

    def check(self, ctx: ReviewContext) -> Iterator[Finding]:
        time.sleep(self.pause)
        return iter(())


class Signals:
    """Files through which a test and a rule signal each other, in this process or a review process."""

    def __init__(self, folder: Path) -> None:
        self.entered = str(folder / "entered")
        self.release = str(folder / "release")

    def is_entered(self) -> bool:
        return Path(self.entered).exists()

    def wait_entered(self, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while not self.is_entered() and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.is_entered()

    def let_go(self) -> None:
        Path(self.release).touch()


class _StuckRule(BaseRule):
    """Does not return on a file named stuck.md until released, like a rule in catastrophic backtracking."""

    id = "stuck-rule"
    default_severity = Severity.ERROR
    file_local = True

    def __init__(self, signals: Signals, on: str = "stuck.md") -> None:
        self.signals = signals
        self.on = on

    def check(self, ctx: ReviewContext) -> Iterator[Finding]:
        if any(f.path == self.on for f in ctx.files):
            Path(self.signals.entered).touch()
            end = time.monotonic() + 120
            while not Path(self.signals.release).exists() and time.monotonic() < end:
                time.sleep(0.02)
        return iter(())


def _with(rule: BaseRule) -> LoadedRules:
    builtin = load_rules()
    return LoadedRules((*builtin.rules, rule), builtin.errors)


@pytest.fixture
def signals(tmp_path: Path) -> Iterator[Signals]:
    held = Signals(tmp_path)
    yield held
    held.let_go()


@pytest.fixture(params=["process", "thread"])
def stack(app_key: tuple[str, str], request: pytest.FixtureRequest, signals: Signals) -> Iterator[Stack]:
    s = start_stack(*app_key, review_deadline=3.0, workers=1, review_isolation=request.param)
    yield s
    signals.let_go()
    stop_stack(s)


def test_a_review_past_its_deadline_completes_with_the_findings_so_far_and_says_where_it_stopped(
    stack: Stack,
) -> None:
    stack.deps.rules = _with(_SlowRule())
    number, sha = stack.open({f"svc/file{i:03}.yaml": f"replicas: {i}\n" for i in range(FILES)})
    run = stack.last_run(sha)
    assert run.status == "completed"
    assert run.conclusion == "failure"  # the errors found before the deadline decide it
    summary = str(run.output["summary"])
    assert f"of {FILES} files: the review's 3 s deadline passed" in summary
    assert "stopped after 32 of" in summary or "stopped after 64 of" in summary  # never all 101
    title = str(run.output["title"])
    assert title.startswith("Incomplete:") and "so far" in title
    found = sum(1 for a in run.annotations if "slow finding" in a["message"])
    assert 0 < found < FILES
    assert stack.state(number).reviewed_head != sha  # not this head's whole review: a re-run may post more


def test_a_review_with_nothing_found_before_its_deadline_is_neutral_not_success(stack: Stack) -> None:
    stack.deps.rules = _with(_SlowQuiet())
    _, sha = stack.open({f"svc/file{i:03}.yaml": f"replicas: {i}\n" for i in range(FILES)})
    run = stack.last_run(sha)
    assert (run.status, run.conclusion) == ("completed", "neutral")
    assert "deadline passed" in str(run.output["summary"])


def test_a_review_stuck_in_one_file_is_abandoned_at_its_deadline_and_the_worker_takes_the_next_pull(
    stack: Stack, signals: Signals,
) -> None:
    stack.deps.rules = _with(_StuckRule(signals))
    stuck_number, stuck_sha = stack.open({"stuck.md": "anything\n"}, branch="stuck")
    assert signals.is_entered()
    run = stack.last_run(stuck_sha)
    assert (run.status, run.conclusion) == ("completed", "neutral")
    assert "did not reach a point where it could stop" in str(run.output["summary"])
    assert "deadline passed" in str(run.output["summary"])
    # The one worker is free: the next pull request is reviewed while the abandoned review is still stuck.
    _, other = stack.open({"docs/ok.md": "GH200 everywhere\n"}, branch="other")
    assert not Path(signals.release).exists()
    assert stack.last_run(other).status == "completed"
    assert stuck_number != 0


@pytest.mark.parametrize("isolation", ["process", "thread"])
def test_healthz_answers_while_a_review_holds_the_worker(app_key: tuple[str, str], signals: Signals,
                                                         isolation: str) -> None:
    s = start_stack(*app_key, review_deadline=60.0, workers=1, review_isolation=isolation)
    try:
        s.deps.rules = _with(_StuckRule(signals))
        sha = s.sim.commit(s.repo, "stuck", {"stuck.md": "anything\n"}, "change")
        s.sim.open_pull(s.repo, "stuck", title="Stuck", user="dev")
        assert signals.wait_entered(), "the review never reached the stuck rule"
        answers = [httpx.get(f"{s.server.url}/healthz", timeout=5) for _ in range(5)]
        assert [a.status_code for a in answers] == [200] * 5
        assert s.queue.busy() and s.last_run(sha).status == "in_progress"
    finally:
        signals.let_go()
        s.settle()
        stop_stack(s)


def test_a_retried_job_whose_first_try_spent_the_deadline_completes_its_run_without_reviewing_again(
    stack: Stack,
) -> None:
    number, sha = stack.open({"docs/ok.md": "GH200 everywhere\n"})
    detach(stack)
    stack.sim.commit(stack.repo, "feature", {"docs/more.md": "more\n"}, "push")
    job = job_of_last_delivery(stack)
    reviews: list[object] = []
    deps = replace(stack.deps, review=lambda *a, **k: reviews.append(a))
    earlier = replace(job, extra={**job.extra, EARLIER_TRY_KEY: repr(time.time() - 3600)})
    handle_job(earlier, deps)
    assert reviews == []
    run = stack.last_run(str(job.head_sha))
    assert (run.status, run.conclusion) == ("completed", "neutral")
    assert "deadline passed on an earlier try" in str(run.output["summary"])
    assert number and sha


def test_a_retry_gets_what_is_left_of_the_deadline_since_its_first_try_began() -> None:
    retried = review_deadline({EARLIER_TRY_KEY: "900.0"}, 120.0, now=lambda: 1000.0)
    assert 19.0 < retried.remaining() <= 20.0
    assert 119.0 < review_deadline({}, 120.0).remaining() <= 120.0
    assert 119.0 < review_deadline({EARLIER_TRY_KEY: "garbage"}, 120.0).remaining() <= 120.0
