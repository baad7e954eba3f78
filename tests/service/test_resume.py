"""Reviews that stop half-way (a worker killed), are superseded, or find their cached state gone, and the
number of GitHub calls a review takes.

A job is "killed" by running it with a renderer that raises a BaseException after the inline review was
posted and before the check run is completed: the worker's error handling (for Exception) does not run,
exactly as when its process dies there. The job is then run again, as the queue would retry it.
"""

from __future__ import annotations

import socket
from collections import Counter
from typing import Any

import pytest

from align.service.jobs import Job
from align.service.markers import FIXED_PREFIX, SummaryState
from align.service.webhook import route
from align.service.worker import WorkerDeps, handle_job

from .stack import Stack

CONFIG = 'GPU_MODEL = "H200"\nGPU_MEMORY_GB = 141\n'


class Killed(BaseException):
    """Not an Exception: nothing in the worker catches it, like SIGKILL."""


def _closed_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/"


def detach(stack: Stack) -> None:
    """From now on the simulator records deliveries instead of sending them: the test runs the jobs."""
    stack.sim.configure_webhook(_closed_url(), "unused")


def job_of_last_delivery(stack: Stack) -> Job:
    delivery = stack.sim.last_delivery
    assert delivery is not None
    [job] = route(delivery.event, delivery.payload, delivery.id, 1)
    return job


def deps(stack: Stack, *, kill: bool = False, latest_head: Any = None) -> WorkerDeps:
    from align.report import render

    def killing_render(*args: Any, **kwargs: Any) -> str:
        raise Killed

    return WorkerDeps(settings=stack.gateway.settings, gateway=stack.gateway,
                      render=killing_render if kill else render, latest_head=latest_head)


def assert_nothing_twice(stack: Stack, number: int) -> None:
    comments = Counter((c.path, c.line, c.body.split("\n\n", 1)[-1] if c.body.startswith(FIXED_PREFIX) else c.body)
                       for c in stack.inline(number))
    assert max(comments.values()) == 1, comments
    assert max(Counter(r.commit_id for r in stack.sim.reviews(stack.repo, number)).values()) == 1
    assert len(stack.summaries(number)) == 1


def api_calls(stack: Stack) -> list[tuple[str, str]]:
    """The REST calls GitHub counts: the archive download from codeload's host is not one."""
    return [(c.method, c.path) for c in stack.sim.calls if not c.path.startswith("/_codeload/")]


def test_a_killed_review_is_resumed_on_its_own_check_run(stack: Stack) -> None:
    number, _ = stack.open({"deploy/config.py": CONFIG})
    detach(stack)
    head = stack.sim.commit(stack.repo, "feature", {"deploy/extra.py": 'GPU_MODEL = "H200"  # extra\n'})
    job = job_of_last_delivery(stack)
    with pytest.raises(Killed):
        handle_job(job, deps(stack, kill=True))
    [run] = stack.runs(head)
    assert run.status == "in_progress"  # left behind by the dead worker, its review already posted
    assert len(stack.sim.reviews(stack.repo, number)) == 2

    handle_job(job, deps(stack))  # the queue's retry
    [run] = stack.runs(head)
    assert (run.status, run.conclusion) == ("completed", "failure")
    assert len(run.annotations) == 3
    assert_nothing_twice(stack, number)
    assert stack.state(number).head == head


def test_an_abandoned_run_of_another_delivery_is_taken_over(stack: Stack) -> None:
    """The dead job's retries ran out; a later delivery for the same commit completes its run."""
    number, head = stack.open({"deploy/config.py": CONFIG})
    detach(stack)
    stack.sim.add_comment(stack.repo, number, "dev", "/align review")
    command = job_of_last_delivery(stack)
    with pytest.raises(Killed):
        handle_job(command, deps(stack, kill=True))
    assert [r.status for r in stack.runs(head)] == ["completed", "in_progress"]
    stack.sim.rerequest_check_run(stack.runs(head)[0].id)
    handle_job(job_of_last_delivery(stack), deps(stack))
    assert [(r.status, r.conclusion) for r in stack.runs(head)] == [("completed", "failure")] * 2
    assert_nothing_twice(stack, number)


def test_a_killed_review_of_a_superseded_head_completes_as_superseded(stack: Stack) -> None:
    number, _ = stack.open({"deploy/config.py": CONFIG})
    detach(stack)
    old = stack.sim.commit(stack.repo, "feature", {"deploy/extra.py": 'GPU_MODEL = "H200"  # extra\n'})
    old_job = job_of_last_delivery(stack)
    with pytest.raises(Killed):
        handle_job(old_job, deps(stack, kill=True))
    new = stack.sim.commit(stack.repo, "feature", {"deploy/more.py": 'GPU_MODEL = "H200"  # more\n'})
    new_job = job_of_last_delivery(stack)

    # The newer push is reviewed first (the dead job's lease had not expired yet), then the retry runs.
    handle_job(new_job, deps(stack, latest_head=lambda key: new))
    handle_job(old_job, deps(stack, latest_head=lambda key: new))
    [old_run] = stack.runs(old)
    assert (old_run.status, old_run.conclusion) == ("completed", "neutral")
    assert old_run.output["title"] == f"Superseded by {new[:7]}"
    [new_run] = stack.runs(new)
    assert (new_run.status, new_run.conclusion) == ("completed", "failure")
    # The dead job's review was posted but never recorded: the newer run found it instead of posting again.
    assert_nothing_twice(stack, number)
    assert len(stack.inline(number)) == 4


def test_a_review_killed_after_its_state_was_written_is_not_trusted_later(stack: Stack) -> None:
    """Marked ready for review: the draft's summary (state for this very head) exists when the review is
    posted, so the state is marked unknown first; the next push must not trust it and post again."""
    number, head = stack.open({"deploy/config.py": CONFIG}, draft=True)
    assert stack.inline(number) == [] and stack.state(number).head == head
    detach(stack)
    stack.sim.mark_ready(stack.repo, number)
    with pytest.raises(Killed):
        handle_job(job_of_last_delivery(stack), deps(stack, kill=True))
    assert len(stack.inline(number)) == 2
    assert stack.state(number).posted is None
    stack.sim.commit(stack.repo, "feature", {"deploy/extra.py": 'GPU_MODEL = "H200"  # extra\n'})
    handle_job(job_of_last_delivery(stack), deps(stack))  # the killed job's retries ran out
    assert_nothing_twice(stack, number)
    assert len(stack.inline(number)) == 3


def test_a_lost_summary_state_falls_back_to_listing_comments(stack: Stack) -> None:
    number, _ = stack.open({"deploy/config.py": CONFIG})
    [summary] = stack.summaries(number)
    stack.gateway.repo(stack.installation, stack.repo).delete_issue_comment(summary.id)  # a user deleted it
    stack.sim.reset_calls()
    stack.push({"deploy/extra.py": 'GPU_MODEL = "H200"  # extra\n'})
    assert ("GET", f"/repos/{stack.repo}/pulls/{number}/comments") in api_calls(stack)
    assert_nothing_twice(stack, number)
    assert len(stack.inline(number)) == 3


def test_a_twenty_file_review_takes_eight_calls(stack: Stack) -> None:
    """The issue's target, in steady state (App slug and installation token cached by an earlier review)."""
    stack.open({"warm/up.py": "x = 1\n"}, branch="warm-up")
    stack.sim.reset_calls()
    files = {f"svc/s{i:02d}.py": f'GPU_MODEL = "H200"  # service {i}\n' for i in range(20)}
    number, head = stack.open(files)
    repo = f"/repos/{stack.repo}"
    assert api_calls(stack) == [
        ("GET", f"{repo}/commits/{head}/check-runs"),  # an Align run an earlier try left behind?
        ("POST", f"{repo}/check-runs"),  # in progress at once
        ("GET", f"{repo}/issues/{number}/comments"),  # the summary comment and its state
        ("GET", f"{repo}/pulls/{number}/files"),  # the change, with patches
        ("GET", f"{repo}/tarball/{head}"),  # every file at the head, the unchanged align.yaml too
        ("POST", f"{repo}/pulls/{number}/reviews"),  # 20 inline comments
        ("PATCH", f"{repo}/check-runs/{stack.last_run(head).id}"),  # completed, 20 annotations
        ("POST", f"{repo}/issues/{number}/comments"),  # the summary
    ]
    assert len(stack.inline(number)) == 20

    # A push that adds a finding: the state in the summary says what is posted, no listing needed.
    stack.sim.reset_calls()
    second = stack.push({"svc/new.py": 'GPU_MODEL = "H200"  # new\n'})
    summary = stack.summaries(number)[0]
    assert api_calls(stack) == [
        ("GET", f"{repo}/commits/{second}/check-runs"),
        ("POST", f"{repo}/check-runs"),
        ("GET", f"{repo}/issues/{number}/comments"),
        ("GET", f"{repo}/pulls/{number}/files"),
        ("GET", f"{repo}/tarball/{second}"),
        ("POST", f"{repo}/pulls/{number}/reviews"),
        ("PATCH", f"{repo}/check-runs/{stack.last_run(second).id}"),
        ("PATCH", f"{repo}/issues/comments/{summary.id}"),
    ]
    assert_nothing_twice(stack, number)

    # A push that fixes one: no new review, but the comments are listed because one of them is edited.
    stack.sim.reset_calls()
    third = stack.push({"svc/s00.py": 'GPU_MODEL = "GH200"\n'})
    fixed = next(c for c in stack.inline(number) if c.path == "svc/s00.py")
    assert api_calls(stack) == [
        ("GET", f"{repo}/commits/{third}/check-runs"),
        ("POST", f"{repo}/check-runs"),
        ("GET", f"{repo}/issues/{number}/comments"),
        ("GET", f"{repo}/pulls/{number}/files"),
        ("GET", f"{repo}/tarball/{third}"),
        ("GET", f"{repo}/pulls/{number}/comments"),
        ("PATCH", f"{repo}/pulls/comments/{fixed.id}"),
        ("PATCH", f"{repo}/check-runs/{stack.last_run(third).id}"),
        ("PATCH", f"{repo}/issues/comments/{summary.id}"),
    ]
    assert sum(c.body.startswith(FIXED_PREFIX) for c in stack.inline(number)) == 1
    assert_nothing_twice(stack, number)


def test_when_the_summary_state_is_trusted() -> None:
    from align.service.publisher import CheckRunHandle
    from align.service.worker import _known_posted

    head, before, older = "h" * 40, "b" * 40, "o" * 40
    fresh, reused, earlier = CheckRunHandle(1), CheckRunHandle(1, reused=True), CheckRunHandle(1, earlier=True)
    push = Job("review", "d", "pull_request.synchronize", 1, "o/r", 7, head, extra={"before": before})
    opened = Job("review", "d", "pull_request.opened", 1, "o/r", 7, head)
    posted = {"a" * 16: "open"}

    def state(of: str | None, reviewed: str | None = None, known: Any = posted) -> SummaryState:
        return SummaryState(of, reviewed).with_posted(known)

    assert _known_posted(opened, head, SummaryState(), fresh, False, True) == {}  # nothing could be there yet
    assert _known_posted(opened, head, SummaryState(), earlier, False, True) is None  # another run was
    assert _known_posted(push, head, SummaryState(), fresh, False, True) is None  # summary deleted, or never
    assert _known_posted(push, head, state(before), fresh, True, True) == posted  # written by the run before
    assert _known_posted(push, head, state(older), fresh, True, True) is None  # a run in between did not write
    assert _known_posted(push, head, state(before), earlier, True, True) is None  # a run on this head did not
    assert _known_posted(push, head, state(before), reused, True, True) is None  # this job died mid-way
    assert _known_posted(push, head, state(before, known=None), fresh, True, True) is None
    assert _known_posted(push, head, state(head, head), earlier, True, False) == posted  # a re-run
    assert _known_posted(push, head, state(head, older), earlier, True, True) is None  # would post: be sure
    assert _known_posted(push, head, state(head, older), earlier, True, False) == posted  # a draft
