"""End to end: the simulator delivers signed webhooks to the real service, which reviews through the API.

Assertions are on what the simulator holds afterwards: check runs, reviews, comments, reactions.
"""

from __future__ import annotations

from align.service.github_client import TOKEN_PERMISSIONS
from align.service.markers import FIXED_PREFIX

from .stack import BOT, Stack, start_stack, stop_stack

CONFIG = 'GPU_MODEL = "H200"\nGPU_MEMORY_GB = 141\n'


def fingerprints(stack: Stack, number: int) -> list[str]:
    return [c.body.rsplit("align:fp=", 1)[1].split(" ")[0] for c in stack.inline(number)]


def test_pull_request_lifecycle(stack: Stack) -> None:
    repo = stack.repo
    number, first = stack.open({"deploy/config.py": CONFIG})
    run = stack.last_run(first)
    assert (run.status, run.conclusion) == ("completed", "failure")
    assert len(run.output["summary"] or "") <= 65_535
    assert {a["title"].split(" ")[0] for a in run.annotations} == {"gpu-model-mismatch", "gpu-memory-mismatch"}
    assert [a["identifier"] for a in run.actions] == ["rerun"]
    [review] = stack.sim.reviews(repo, number)
    assert review.commit_id == first and review.user.login == BOT
    comments = stack.inline(number)
    assert sorted(c.line for c in comments) == [1, 2]
    assert all("```suggestion\n" in c.body for c in comments)
    assert len(stack.summaries(number)) == 1

    # Push a fix for the memory line: its comment is marked fixed, nothing is posted again.
    second = stack.push({"deploy/config.py": 'GPU_MODEL = "H200"\nGPU_MEMORY_GB = 96\n'})
    assert stack.last_run(second).conclusion == "failure"
    assert len(stack.sim.reviews(repo, number)) == 1
    by_line = {c.line: c for c in stack.inline(number)}
    assert len(by_line) == 2
    assert by_line[2].body.startswith(f"{FIXED_PREFIX} {second[:7]}")
    assert not by_line[1].body.startswith(FIXED_PREFIX)
    [summary] = stack.summaries(number)
    assert "Fixed since last run" in summary.body
    assert stack.state(number, summary.body).head == second

    # Push again, fixing everything: success, both comments marked, still one summary.
    third = stack.push({"deploy/config.py": 'GPU_MODEL = "GH200"\nGPU_MEMORY_GB = 96\n'})
    assert stack.last_run(third).conclusion == "success"
    assert all(c.body.startswith(FIXED_PREFIX) for c in stack.inline(number))
    assert len(stack.summaries(number)) == 1
    assert len(stack.sim.reviews(repo, number)) == 1

    # Force-push that brings the old model back: the same comment is revived, none is duplicated.
    forced = stack.sim.force_push(repo, "feature", {"deploy/config.py": 'GPU_MODEL = "H200"\nGPU_MEMORY_GB = 96\n'})
    stack.settle()
    assert stack.last_run(forced).conclusion == "failure"
    assert len(stack.inline(number)) == 2 and len(set(fingerprints(stack, number))) == 2
    revived = [c for c in stack.inline(number) if not c.body.startswith(FIXED_PREFIX)]
    assert len(revived) == 1 and "gpu-model-mismatch" in revived[0].body
    assert len(stack.summaries(number)) == 1

    # Re-run by the check's button, by its action, and by command: a new completed run each, nothing else.
    before = stack.summaries(number)[0].updated_at
    stack.sim.rerequest_check_run(stack.last_run(forced).id)
    stack.settle()
    stack.sim.request_action(stack.last_run(forced).id, "rerun")
    stack.settle()
    comment = stack.sim.add_comment(repo, number, "dev", "/align review")
    stack.settle()
    runs = stack.runs(forced)
    assert len(runs) == 4 and all(r.status == "completed" and r.conclusion == "failure" for r in runs)
    assert [r.content for r in stack.sim.reactions(comment)] == ["eyes"]
    assert len(stack.inline(number)) == 2 and len(stack.sim.reviews(repo, number)) == 1
    assert stack.summaries(number)[0].updated_at == before  # an unchanged body is not edited again
    assert stack.replies(number) == []


def test_ignore_needs_permission_and_reason_and_bots_are_ignored(stack: Stack) -> None:
    repo = stack.repo
    number, head = stack.open({"deploy/config.py": 'GPU_MODEL = "H200"\n'})
    assert stack.last_run(head).conclusion == "failure"
    stack.sim.set_permission(repo, "reader", "read")

    refused = stack.sim.add_comment(repo, number, "reader", "/align ignore gpu-model-mismatch vendor doc")
    stack.settle()
    [reply] = stack.replies(number)
    assert "@reader" in reply.body and "permission" in reply.body and "`read`" in reply.body
    assert stack.sim.reactions(refused) == []

    stack.sim.add_comment(repo, number, "dev", "/align ignore gpu-model-mismatch")
    stack.settle()
    assert "reason" in stack.replies(number)[-1].body
    assert stack.state(number).waivers == ()

    stack.sim.add_comment(repo, number, "ci-bot", "/align review", user_type="Bot")
    stack.settle()
    assert len(stack.runs(head)) == 1 and len(stack.replies(number)) == 2

    accepted = stack.sim.add_comment(repo, number, "dev", "/align ignore gpu-model-mismatch the vendor doc quotes H200")
    stack.settle()
    assert [r.content for r in stack.sim.reactions(accepted)] == ["+1"]
    run = stack.last_run(head)
    assert run.conclusion == "success" and len(stack.runs(head)) == 2
    [summary] = stack.summaries(number)
    state = stack.state(number, summary.body)
    assert [(w.target, w.author) for w in state.waivers] == [("gpu-model-mismatch", "dev")]
    assert "the vendor doc quotes H200" in summary.body  # waivers are shown in the report
    [inline] = stack.inline(number)
    assert "Waived by @dev" in inline.body

    # The waiver holds for later pushes too.
    later = stack.push({"deploy/config.py": 'GPU_MODEL = "H200"  # still\n'})
    assert stack.last_run(later).conclusion == "success"


def test_explain_help_and_unknown(stack: Stack) -> None:
    number, _ = stack.open({"deploy/config.py": 'GPU_MODEL = "H200"\n'})
    stack.sim.add_comment(stack.repo, number, "reader", "/align explain gpu-model-mismatch")
    stack.sim.add_comment(stack.repo, number, "reader", "/align help")
    stack.sim.add_comment(stack.repo, number, "reader", "/align explain no-such-rule")
    stack.settle()
    explain, help_reply, unknown = stack.replies(number)
    assert "`gpu-model-mismatch`" in explain.body and "error by default" in explain.body
    assert "/align ignore" in help_reply.body
    assert "not a rule I know" in unknown.body


def test_draft_gets_no_inline_comments_until_ready(stack: Stack) -> None:
    number, head = stack.open({"deploy/config.py": CONFIG}, draft=True)
    assert stack.last_run(head).conclusion == "failure"
    assert stack.inline(number) == [] and len(stack.summaries(number)) == 1
    stack.sim.mark_ready(stack.repo, number)
    stack.settle()
    assert len(stack.inline(number)) == 2 and len(stack.sim.reviews(stack.repo, number)) == 1


def test_pull_request_cannot_switch_off_its_own_rule(stack: Stack) -> None:
    from tests.helpers import GH200_MANIFEST

    _number, head = stack.open({
        "align.yaml": GH200_MANIFEST + "rules:\n  gpu-model-mismatch: off\n",
        "deploy/config.py": 'GPU_MODEL = "H200"\n',
    })
    run = stack.last_run(head)
    assert run.conclusion == "failure"
    assert any(a["title"].startswith("gpu-model-mismatch") for a in run.annotations)


def test_no_manifest_is_skipped_quietly(app_key: tuple[str, str]) -> None:
    stack = start_stack(*app_key, base_files={"README.md": "# nothing\n"})
    try:
        number, head = stack.open({"deploy/config.py": 'GPU_MODEL = "H200"\n'})
        run = stack.last_run(head)
        assert (run.status, run.conclusion) == ("completed", "skipped")
        assert "align.yaml" in (run.output["summary"] or "")
        assert stack.sim.issue_comments(stack.repo, number) == [] and stack.inline(number) == []
    finally:
        stop_stack(stack)


def test_older_head_never_overwrites_the_newer(stack: Stack) -> None:
    number, first = stack.open({"deploy/config.py": CONFIG})
    second = stack.push({"deploy/config.py": 'GPU_MODEL = "GH200"\nGPU_MEMORY_GB = 96\n'})
    summary = stack.summaries(number)[0]
    stack.sim.rerequest_check_run(stack.last_run(first).id)  # "Re-run" on the old commit's check
    stack.settle()
    old_runs = stack.runs(first)
    assert len(old_runs) == 2 and old_runs[-1].conclusion == "failure"  # reviewed at that commit
    after = stack.summaries(number)
    assert len(after) == 1 and after[0].body == summary.body and stack.state(number, after[0].body).head == second
    assert len(stack.sim.reviews(stack.repo, number)) == 1


def test_redelivery_is_not_reviewed_twice(stack: Stack) -> None:
    number, head = stack.open({"deploy/config.py": CONFIG})
    delivery = stack.sim.last_delivery
    assert delivery is not None and delivery.event == "pull_request"
    assert stack.sim.redeliver(delivery.id) == 200
    stack.settle()
    assert len(stack.runs(head)) == 1 and len(stack.sim.reviews(stack.repo, number)) == 1


def test_token_is_scoped_and_reads_stay_within_budget(stack: Stack) -> None:
    files = {f"svc/s{i:02d}.py": f'GPU_MODEL = "H200"  # service {i}\n' for i in range(20)}
    stack.sim.reset_calls()
    stack.gateway.calls.clear()
    number, head = stack.open(files)
    assert stack.last_run(head).conclusion == "failure"
    [token] = stack.sim.tokens(stack.installation)
    assert token.repositories == frozenset({stack.repo}) and token.permissions == TOKEN_PERMISSIONS
    reads = [c for c in stack.gateway.calls
             if c.path.endswith("/files") or "/contents/" in c.path or "/tarball/" in c.path]
    assert len(reads) <= 8, reads
    # The whole review, publishing included, plus the once-per-process GET /app and token request.
    assert len(stack.gateway.calls) <= 13, stack.gateway.calls
    assert len(stack.inline(number)) == 20


def test_other_triggers_and_metrics(stack: Stack) -> None:
    import httpx

    repo = stack.repo
    number, head = stack.open({"deploy/config.py": CONFIG})
    stack.sim.rerequest_check_suite(stack.last_run(head).suite_id)  # "Re-run all checks"
    stack.settle()
    assert len(stack.runs(head)) == 2
    stack.sim.edit_pull(repo, number, title="New title")  # not a trigger
    stack.settle()
    assert len(stack.runs(head)) == 2
    stack.sim.create_branch(repo, "release")
    stack.sim.edit_pull(repo, number, base="release")  # a new base is
    stack.settle()
    stack.sim.close_pull(repo, number)
    stack.sim.reopen_pull(repo, number)
    stack.settle()
    assert len(stack.runs(head)) == 4 and all(r.status == "completed" for r in stack.runs(head))
    assert len(stack.sim.reviews(repo, number)) == 1 and len(stack.summaries(number)) == 1

    metrics = httpx.get(f"{stack.server.url}/metrics").text
    assert 'align_findings_total{rule="gpu-model-mismatch",severity="error"}' in metrics
    assert 'align_github_calls_total{method="POST",status="2xx"}' in metrics
    assert "align_review_duration_seconds_count 4.0" in metrics
    assert 'align_github_rate_limit_remaining{installation="' in metrics


def test_tokens_are_renewed(app_key: tuple[str, str]) -> None:
    import time

    now = [time.time()]
    stack = start_stack(*app_key, gateway_options={"clock": lambda: now[0]})
    try:
        _number, _head = stack.open({"deploy/config.py": CONFIG})
        assert len(stack.sim.tokens()) == 1
        stack.sim.expire_tokens()  # revoked early: GitHub answers 401 and a new token is asked for
        second = stack.push({"deploy/config.py": 'GPU_MODEL = "GH200"\nGPU_MEMORY_GB = 141\n'})
        assert stack.last_run(second).conclusion == "failure" and len(stack.sim.tokens()) == 2
        now[0] += 56 * 60  # within five minutes of the hour: renewed before it expires
        third = stack.push({"deploy/config.py": 'GPU_MODEL = "GH200"\nGPU_MEMORY_GB = 96\n'})
        assert stack.last_run(third).conclusion == "success" and len(stack.sim.tokens()) == 3
    finally:
        stop_stack(stack)


def test_invalid_manifest_does_not_mark_findings_fixed(stack: Stack) -> None:
    number, _ = stack.open({"deploy/config.py": CONFIG})
    broken = stack.push({"align.yaml": "version: 1\ndeployments: [\n"})
    run = stack.last_run(broken)
    assert run.conclusion == "failure"
    assert any(a["title"].startswith("manifest-invalid") for a in run.annotations)
    assert not any(c.body.startswith(FIXED_PREFIX) for c in stack.inline(number))
