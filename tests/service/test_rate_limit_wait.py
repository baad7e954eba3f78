"""Nothing acknowledged is lost to GitHub's limits (issue 8, item 12), in the running service (embedded
mode) against the simulator enforcing the secondary limits on a short time scale: a burst of pull requests
larger than the write budget ends with every head's check run completed, those that had to wait shown as
queued with the time they wait for; one pull request pushed again and again does not starve the others."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from align.rule_api import load_rules
from align.service import budget

from .stack import Stack, start_stack, stop_stack
from .test_review_deadline import Signals, _StuckRule

# GitHub's secondary limits on a short time scale: a "minute" of 2 s, an "hour" of 6 s with 8 content-creating
# requests in it. A review with a finding creates three things (check run, inline review, summary comment).
MINUTE, HOUR, PER_HOUR = 2.0, 6.0, 8
LIMITS = (
    budget.Limit("points", MINUTE, 900, "points"),
    budget.Limit("content", MINUTE, 80, "content"),
    budget.Limit("content-hour", HOUR, PER_HOUR, "content"),
)
BURST = 8
MISMATCH = 'GPU_MODEL = "H200"\nGPU_MEMORY_GB = 141\n'  # the deployment is GH200


@pytest.fixture
def limited(app_key: tuple[str, str]) -> Iterator[Stack]:
    # A worker waits at most 0.5 s for a slot; a longer wait puts the review back in the queue.
    gateway_budget = budget.LocalRequestBudget(LIMITS, max_wait=0.5)
    s = start_stack(*app_key, gateway_options={"budget": gateway_budget}, max_rate_limit_wait=0.5, workers=4)
    s.sim.enable_secondary_limits(content_per_hour=PER_HOUR, minute_seconds=MINUTE, hour_seconds=HOUR)
    yield s
    stop_stack(s)


def _open_without_waiting(stack: Stack, count: int, prefix: str, text: str = "Runs on GH200.\n") -> dict[int, str]:
    heads = {}
    for i in range(count):
        branch = f"{prefix}-{i}"
        path = f"config/{branch}.py" if text == MISMATCH else f"docs/{branch}.md"
        sha = stack.sim.commit(stack.repo, branch, {path: text}, "change")
        heads[stack.sim.open_pull(stack.repo, branch, title=f"Change {i}", user="dev")] = sha
    return heads


def test_a_burst_beyond_the_write_budget_ends_with_every_check_run_completed(limited: Stack) -> None:
    heads = _open_without_waiting(limited, BURST, "burst", MISMATCH)
    limited.settle(timeout=120)

    for number, sha in heads.items():
        runs = limited.runs(sha)
        assert len(runs) == 1, f"{sha[:7]}: {len(runs)} runs"
        assert (runs[0].status, runs[0].conclusion) == ("completed", "failure")
        assert len(limited.summaries(number)) == 1 and limited.inline(number), "the review is published whole"
    assert limited.queue.deferred_total > 0, "the burst must have exceeded the budget"


def _spend(stack: Stack, count: int) -> None:
    """Use `count` of the hour's content-creating requests, as other reviews of the installation would."""
    for _ in range(count):
        stack.gateway.budget.acquire(stack.installation, budget.RequestCost(5, True))


def test_a_review_whose_inline_comments_must_wait_shows_its_run_queued_until_then_and_completes(
    limited: Stack,
) -> None:
    _spend(limited, PER_HOUR - 1)  # room for the check run, not for the inline review after it
    [(number, sha)] = _open_without_waiting(limited, 1, "late", MISMATCH).items()
    limited.settle(timeout=60)
    [run] = limited.runs(sha)
    statuses = [status for status, _ in run.history]
    assert statuses[:2] == ["in_progress", "queued"], run.history
    title = run.history[1][1] or ""
    assert title.startswith("Queued until ") and title.endswith(" UTC: waiting for GitHub's rate limits")
    assert statuses[2] == "in_progress" and statuses[-1] == "completed"
    assert run.conclusion == "failure"
    assert limited.inline(number) and len(limited.summaries(number)) == 1
    assert limited.queue.deferred_total >= 1


def test_a_review_that_cannot_even_create_its_check_run_waits_and_creates_it_later(limited: Stack) -> None:
    _spend(limited, PER_HOUR)  # nothing can be created for a while
    [sha] = _open_without_waiting(limited, 1, "late").values()
    limited.settle(timeout=60)
    [run] = limited.runs(sha)
    assert (run.status, run.conclusion) == ("completed", "success")
    assert limited.queue.deferred_total >= 1


def test_a_pull_request_pushed_a_hundred_times_does_not_starve_the_others(app_key: tuple[str, str],
                                                                          tmp_path: Path) -> None:
    hold = Signals(tmp_path)  # the one worker is held on a review until the pushes are in
    s = start_stack(*app_key, workers=1)
    try:
        builtin = load_rules()
        s.deps.rules = replace(builtin, rules=(*builtin.rules, _StuckRule(hold, on="hold.md")))
        s.sim.commit(s.repo, "hold", {"hold.md": "hold\n"}, "change")
        s.sim.open_pull(s.repo, "hold", title="Hold", user="other")
        assert hold.wait_entered()
        s.sim.commit(s.repo, "busy", {"docs/busy.md": "v0\n"}, "change")
        s.sim.open_pull(s.repo, "busy", title="Busy", user="pusher")
        pushes = [s.sim.commit(s.repo, "busy", {"docs/busy.md": f"v{i}\n"}, "push") for i in range(1, 101)]
        others = _open_without_waiting(s, 3, "other")
        hold.let_go()
        s.settle(timeout=60)
        for sha in others.values():
            [run] = s.runs(sha)
            assert run.status == "completed"
        reviewed_busy = [sha for sha in pushes if s.runs(sha)]
        assert reviewed_busy == [pushes[-1]], "only the newest head of the pushed pull request is reviewed"
        assert s.queue.dropped >= 99
    finally:
        hold.let_go()
        stop_stack(s)
