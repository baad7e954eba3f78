"""GitHub misbehaving: server errors, rate limits, writes that land but answer 502, huge pull requests."""

from __future__ import annotations

import time

import pytest

from align.service.markers import FIXED_PREFIX

from .stack import Stack, start_stack, stop_stack

CONFIG = 'GPU_MODEL = "H200"\nGPU_MEMORY_GB = 141\n'


def statuses(stack: Stack, method: str, suffix: str) -> list[int]:
    return [c.status for c in stack.sim.calls if c.method == method and c.path.endswith(suffix)]


def test_reads_are_retried_after_server_errors(stack: Stack) -> None:
    stack.sim.inject("GET", r"/pulls/\d+/files$", status=502, times=2)
    stack.sim.inject("GET", r"/contents/", status=500)
    stack.sim.inject("POST", r"/access_tokens$", status=503)
    number, head = stack.open({"deploy/config.py": CONFIG})
    assert stack.last_run(head).conclusion == "failure"
    assert statuses(stack, "GET", "/files") == [502, 502, 200]
    assert len(stack.inline(number)) == 2


@pytest.mark.parametrize("status", [403, 429])
def test_rate_limited_writes_wait_and_are_sent_once(app_key: tuple[str, str], status: int) -> None:
    waits: list[float] = []

    now = [time.time()]

    def sleep(seconds: float) -> None:  # virtual time: the injected refusal is spent after one request
        waits.append(seconds)
        now[0] += seconds

    stack = start_stack(*app_key, gateway_options={"sleep": sleep, "clock": lambda: now[0]})
    try:
        _rate_limited(stack, status, waits)
    finally:
        stop_stack(stack)


def _rate_limited(stack: Stack, status: int, waits: list[float]) -> None:
    stack.sim.inject("POST", r"/pulls/\d+/reviews$", status=status, retry_after=1)
    stack.sim.inject("POST", r"/check-runs$", status=status, retry_after=1)
    number, head = stack.open({"deploy/config.py": CONFIG})
    assert len([w for w in waits if w > 0.5]) == 2  # retry-after honoured once per refused write
    assert statuses(stack, "POST", "/reviews") == [status, 200]
    assert len(stack.sim.reviews(stack.repo, number)) == 1 and len(stack.runs(head)) == 1
    assert stack.last_run(head).status == "completed"


def test_writes_that_land_but_answer_502_are_not_repeated(stack: Stack) -> None:
    for method, path in [("POST", r"/check-runs$"), ("POST", r"/pulls/\d+/reviews$"),
                         ("POST", r"/issues/\d+/comments$"), ("PATCH", r"/check-runs/\d+$")]:
        stack.sim.inject(method, path, status=502, after_write=True)
    number, head = stack.open({"deploy/config.py": CONFIG})
    [run] = stack.runs(head)
    assert (run.status, run.conclusion) == ("completed", "failure")
    assert len(run.annotations) == 2  # the annotations PATCH landed once, was not sent again
    assert len(stack.sim.reviews(stack.repo, number)) == 1
    assert len(stack.inline(number)) == 2
    assert len(stack.summaries(number)) == 1
    # The next push finds everything it posted and edits it, again without duplicates.
    stack.sim.inject("PATCH", r"/pulls/comments/\d+$", status=502, after_write=True)
    stack.sim.inject("PATCH", r"/issues/comments/\d+$", status=502, after_write=True)
    second = stack.push({"deploy/config.py": 'GPU_MODEL = "H200"\nGPU_MEMORY_GB = 96\n'})
    assert stack.last_run(second).conclusion == "failure"
    assert len(stack.inline(number)) == 2 and len(stack.summaries(number)) == 1
    assert sum(c.body.startswith(FIXED_PREFIX) for c in stack.inline(number)) == 1


def test_check_run_completes_when_the_review_fails(stack: Stack) -> None:
    # (an archive that fails is no longer one: the files are then read one by one, see test_archive_fallback)
    stack.sim.inject("GET", r"/pulls/\d+/files$", status=500, times=None)
    number, head = stack.open({"deploy/config.py": CONFIG})
    [run] = stack.runs(head)
    assert (run.status, run.conclusion) == ("completed", "failure")
    summary = run.output["summary"] or ""
    assert "could not complete" in summary and "500" in summary
    assert "ghs_" not in summary and "token" not in summary.lower()
    assert stack.inline(number) == [] and stack.summaries(number) == []


def test_exhausted_quota_waits_for_the_reset(app_key: tuple[str, str]) -> None:
    now = [time.time()]
    waits: list[float] = []
    holder: list[Stack] = []

    def sleep(seconds: float) -> None:  # virtual time: the quota is back when the wait is over
        waits.append(seconds)
        now[0] += seconds
        holder[0].sim.set_rate_limit(holder[0].installation, remaining=5000)

    stack = start_stack(*app_key, gateway_options={"sleep": sleep, "clock": lambda: now[0]},
                        max_rate_limit_wait=4000)
    holder.append(stack)
    try:
        stack.sim.set_rate_limit(stack.installation, remaining=1)
        _number, head = stack.open({"deploy/config.py": CONFIG})
        assert stack.last_run(head).conclusion == "failure"
        assert waits and max(waits) > 1  # waited until the reset, instead of being refused
        assert not any(c.status in (403, 429) for c in stack.sim.calls)
    finally:
        stop_stack(stack)


def test_three_thousand_file_pull_request_stays_within_limits(app_key: tuple[str, str]) -> None:
    stack = start_stack(*app_key, max_annotations=5000)
    try:
        files = {f"svc/m{i:04d}.py": f'GPU_MODEL = "H200"  # m{i}\n' for i in range(3000)}
        number, head = stack.open(files)
        run = stack.last_run(head)
        assert (run.status, run.conclusion) == ("completed", "failure")
        assert len(run.annotations) == 3000  # one per finding, sent 50 at a time
        assert len(run.output["summary"] or "") <= 65_535
        [_review] = stack.sim.reviews(stack.repo, number)
        assert len(stack.inline(number)) == 30
        [summary] = stack.summaries(number)
        assert len(summary.body) <= 65_535
        assert not any(c.status == 422 for c in stack.sim.calls)
    finally:
        stop_stack(stack)


def test_archive_too_large_falls_back_to_single_reads(app_key: tuple[str, str]) -> None:
    stack = start_stack(*app_key, max_tarball_bytes=64)
    try:
        number, head = stack.open({"deploy/config.py": CONFIG})
        assert stack.last_run(head).conclusion == "failure"
        assert len(stack.inline(number)) == 2
        assert any("/contents/deploy/config.py" in c.path for c in stack.sim.calls)
    finally:
        stop_stack(stack)
