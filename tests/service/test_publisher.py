"""What gets posted: diff anchors, inline-comment caps, annotation batches, report limits, markers."""

from __future__ import annotations

from align.findings import Finding, Severity, Waiver
from align.review import ReviewResult
from align.service.diffmap import Anchor, anchor_for, hunk_ranges
from align.service.markers import (
    FIXED_PREFIX,
    SUMMARY_MARKER,
    StateSeal,
    SummaryState,
    fingerprint_in,
    fingerprint_marker,
)
from align.service.publisher import (
    annotation_batches,
    check_title,
    comment_body,
    find_summaries,
    plan_comment_updates,
    plan_review,
    should_create_summary,
    summary_body,
)
from align.source import FileChange

# Two hunks: head lines 1-4 (line 2 added) and 20-24 (lines 21, 22 added).
PATCH = (
    "@@ -1,3 +1,4 @@\n a\n+b\n c\n d\n"
    "@@ -18,4 +20,5 @@\n p\n+q\n+r\n s\n t"
)

SEAL = StateSeal.for_pull(b"k" * 32, "octo/repo", 7)


def finding(line: int, end: int | None = None, *, path: str = "f.py", fp: str | None = None,
            severity: Severity = Severity.ERROR, suggestion: str | None = "fixed") -> Finding:
    return Finding("gpu-model-mismatch", severity, path, line, end or line, f"msg {line}", suggestion,
                   fingerprint=fp or f"{line:016x}")


def test_hunks_and_anchors() -> None:
    assert hunk_ranges(PATCH) == [(1, 4), (20, 24)]
    assert anchor_for(finding(2), PATCH) == Anchor(2, None, True)
    assert anchor_for(finding(3), PATCH) == Anchor(3, None, True)  # context lines are in the diff too
    assert anchor_for(finding(10), PATCH) is None
    assert anchor_for(finding(21, 22), PATCH) == Anchor(22, 21, True)  # multi-line inside one hunk
    assert anchor_for(finding(3, 21), PATCH) == Anchor(3, None, False)  # spans hunks: no suggestion
    assert anchor_for(finding(2), None) is None
    assert hunk_ranges("@@ -5,2 +4,0 @@\n-x\n-y") == []  # a pure deletion has no head lines


def test_plan_review_caps_comments_and_skips_posted_fingerprints() -> None:
    changes = [FileChange(f"f{i}.py", "modified", frozenset({2}), patch=PATCH) for i in range(40)]
    findings = [finding(2, path=f"f{i}.py", fp=f"{i:016x}") for i in range(40)]
    findings.append(finding(10, path="f0.py", fp="outside00000000a"))
    plan = plan_review(findings, changes, already_posted={f"{0:016x}"}, limit=30)
    assert len(plan.comments) == 30
    assert len(plan.not_inline) == 40 - 1 - 30 + 1  # over the cap, plus the one outside the diff
    assert all(c["side"] == "RIGHT" and c["line"] == 2 for c in plan.comments)
    assert not any(fingerprint_marker(f"{0:016x}") in c["body"] for c in plan.comments)


def test_errors_are_commented_before_notices() -> None:
    changes = [FileChange("f.py", "modified", frozenset(), patch=PATCH)]
    notice = finding(1, severity=Severity.NOTICE, fp="n" * 16)
    error = finding(3, fp="e" * 16)
    plan = plan_review([notice, error], changes, set(), limit=1)
    assert plan.inline == [error] and plan.not_inline == [notice]


def test_comment_body_has_suggestion_and_marker() -> None:
    body = comment_body(finding(21, 22, suggestion="x = 1\ny = 2"), Anchor(22, 21, True))
    assert "```suggestion\nx = 1\ny = 2\n```" in body
    assert fingerprint_in(body) == f"{21:016x}"
    no_fit = comment_body(finding(3, 21), Anchor(3, None, False))
    assert "suggestion" not in no_fit.replace("/align", "")
    fenced = comment_body(finding(2, suggestion="```python\nx\n```"), Anchor(2, None, True))
    assert "````suggestion\n```python\nx\n```\n````" in fenced  # a longer fence keeps the block whole


def test_multi_line_comment_fields() -> None:
    changes = [FileChange("f.py", "modified", frozenset({21, 22}), patch=PATCH)]
    [comment] = plan_review([finding(21, 22)], changes, set(), limit=30).comments
    assert (comment["start_line"], comment["line"], comment["start_side"]) == (21, 22, "RIGHT")


def test_annotations_in_batches_of_50() -> None:
    findings = [finding(i + 1, severity=[Severity.ERROR, Severity.WARNING, Severity.NOTICE][i % 3]) for i in range(120)]
    batches = annotation_batches(findings, 50)
    assert [len(b) for b in batches] == [50, 50, 20]
    assert {a["annotation_level"] for a in batches[0]} == {"failure", "warning", "notice"}
    assert [len(b) for b in annotation_batches(findings, 50, limit=60)] == [50, 10]


def test_summary_fits_github_limit_and_keeps_state() -> None:
    state = SummaryState("h" * 40, None, (Waiver("cost-mismatch", "alice", "doc says <!-- --> on purpose"),))
    body = summary_body("x" * 100_000, state, SEAL)
    assert len(body) <= 65_535
    assert SUMMARY_MARKER in body
    assert SummaryState.decode(body, SEAL) == state


def test_state_survives_damage() -> None:
    assert SummaryState.decode("<!-- align:state {broken -->", SEAL) == SummaryState()
    assert SummaryState.decode(None, SEAL) == SummaryState()


def test_comment_updates_mark_fixed_waived_and_reappeared() -> None:
    bot = {"login": "align[bot]", "type": "Bot"}
    ours = [
        {"id": 1, "user": bot, "body": "a" + fingerprint_marker("f1")},
        {"id": 2, "user": bot, "body": "b" + fingerprint_marker("f2")},
        {"id": 3, "user": bot, "body": f"{FIXED_PREFIX} abc1234**\n\nc" + fingerprint_marker("f3")},
        {"id": 4, "user": bot, "body": f"{FIXED_PREFIX} abc1234**\n\nd" + fingerprint_marker("f4")},
        {"id": 5, "user": bot, "body": "e" + fingerprint_marker("f5")},
    ]
    current = {"f1": finding(1), "f4": finding(4)}
    waived = {"f5": Waiver("f5", "bob", "known")}
    updates = {u.comment_id: u for u in plan_comment_updates(ours, current, waived, "1234567" + "0" * 33)}
    assert set(updates) == {2, 4, 5}  # 1 unchanged, 3 already marked fixed
    assert updates[2].body.startswith(f"{FIXED_PREFIX} 1234567**") and updates[2].fixed
    assert updates[4].body == "d" + fingerprint_marker("f4")  # came back: the fixed mark goes
    assert "Waived by @bob" in updates[5].body and not updates[5].fixed


def test_only_the_apps_own_summary_counts() -> None:
    comments = [
        {"id": 1, "user": {"login": "mallory", "type": "User"}, "body": SUMMARY_MARKER},
        {"id": 3, "user": {"login": "align[bot]", "type": "Bot"}, "body": SUMMARY_MARKER, "created_at": "2"},
        {"id": 2, "user": {"login": "align[bot]", "type": "Bot"}, "body": SUMMARY_MARKER, "created_at": "1"},
        {"id": 4, "user": {"login": "other[bot]", "type": "Bot"}, "body": SUMMARY_MARKER},
    ]
    assert [c["id"] for c in find_summaries(comments, "align[bot]")] == [2, 3]


def test_titles_and_when_a_summary_is_created() -> None:
    clean = ReviewResult("b", "h", "success")
    assert check_title(clean).startswith("Aligned")
    assert check_title(ReviewResult("b", "h", "skipped")).startswith("Skipped")
    failing = ReviewResult("b", "h", "failure", findings=(finding(1), finding(2, path="g.py")))
    assert check_title(failing) == "2 errors in 2 files"
    assert not should_create_summary(clean, SummaryState())
    assert should_create_summary(failing, SummaryState())
    assert should_create_summary(clean, SummaryState(waivers=(Waiver("x", "a", "r"),)))


def test_posted_comments_state_round_trip_and_cap() -> None:
    from align.service.markers import MAX_POSTED

    posted = {"a" * 16: "open", "b" * 16: "fixed", "c" * 16: "waived"}
    state = SummaryState("h" * 40, "h" * 40).with_posted(posted)  # type: ignore[arg-type]
    decoded = SummaryState.decode(summary_body("report", state, SEAL), SEAL)
    assert decoded == state and decoded.posted_map() == posted
    assert decoded.with_waiver(Waiver("x", "a", "r")).posted == state.posted  # commands keep it
    too_many = {f"{i:016x}": "open" for i in range(MAX_POSTED + 1)}
    assert state.with_posted(too_many).posted is None  # type: ignore[arg-type]
    assert SummaryState.decode(summary_body("r", SummaryState("h" * 40), SEAL), SEAL).posted is None  # unknown


def test_only_a_changed_comment_status_needs_the_comments_listed() -> None:
    from align.service.publisher import needs_edits

    current = {"a" * 16: finding(1, fp="a" * 16)}
    waived = {"w" * 16: Waiver("w" * 16, "bob", "ok")}
    assert not needs_edits({"a" * 16: "open", "f" * 16: "fixed", "w" * 16: "waived"}, current, waived)
    assert needs_edits({"f" * 16: "open"}, current, waived)  # disappeared: mark fixed
    assert needs_edits({"a" * 16: "fixed"}, current, waived)  # came back
    assert needs_edits({"w" * 16: "open"}, current, waived)  # waived since


def _run(run_id: int, external: str, status: str = "in_progress", app: int = 1, annotations: int = 0) -> dict:
    return {"id": run_id, "external_id": external, "status": status, "app": {"id": app},
            "output": {"annotations_count": annotations}}


def test_which_check_run_a_job_reports_on() -> None:
    from align.service.publisher import choose_run

    mine = _run(5, "d1:7", status="completed", annotations=3)
    choice = choose_run([_run(6, "d2:7"), mine], "d1:7", 7, app_id=1)
    assert choice.reusable is mine and [r["id"] for r in choice.abandoned] == [6]  # its own run, whatever state
    choice = choose_run([_run(9, "d3:7", app=2), _run(8, "d2:8"), _run(6, "d2:7")], "d1:7", 7, app_id=1)
    assert choice.reusable is not None and choice.reusable["id"] == 6  # a dead job's run of this pull request
    assert choice.abandoned == [] and choice.earlier
    choice = choose_run([_run(6, "d2:7", annotations=50)], "d1:7", 7, app_id=1)
    assert choice.reusable is None and [r["id"] for r in choice.abandoned] == [6]  # its annotations are not ours
    choice = choose_run([_run(6, "d2:", status="in_progress")], "d1:", None, app_id=1)
    assert choice.reusable is None and choice.abandoned == []  # no pull request: no lock says it is dead
    assert not choose_run([_run(9, "d1:7", app=2)], "d1:7", 7, app_id=1).earlier  # another app's "Align"


class _Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[int, int]] = []  # (annotations in the PATCH, annotations_before)

    def update_check_run(self, run_id: int, body: dict, annotations_before: int = 0) -> dict:
        self.sent.append((len(body["output"].get("annotations", [])), annotations_before))
        return {}


def test_a_resumed_run_gets_only_the_annotations_it_lacks() -> None:
    from align.service.publisher import complete_check_run

    batches = annotation_batches([finding(i, fp=f"{i:016x}") for i in range(1, 121)], 50)
    client = _Recorder()
    complete_check_run(client, 1, "failure", "t", "s", batches, already=50)  # type: ignore[arg-type]
    assert client.sent == [(50, 50), (20, 100)]
    client = _Recorder()
    complete_check_run(client, 1, "failure", "t", "s", batches, already=120)  # type: ignore[arg-type]
    assert client.sent == [(0, 120)]  # only the completing PATCH


def test_state_is_refused_unless_signed_for_this_pull_request() -> None:
    state = SummaryState("h" * 40, None, (Waiver("gpu-model-mismatch", "dev", "vendor doc"),))
    body = summary_body("report", state, SEAL)
    assert SummaryState.decode(body, SEAL) == state
    other_pull = StateSeal.for_pull(SEAL.key, "octo/repo", 8)
    other_key = StateSeal.for_pull(b"x" * 32, "octo/repo", 7)
    assert SummaryState.decode(body, other_pull) == SummaryState()  # copied from another pull request
    assert SummaryState.decode(body, other_key) == SummaryState()  # signed by someone else
    tampered = body.replace("vendor doc", "vendor dog")
    assert "vendor dog" in tampered and SummaryState.decode(tampered, SEAL) == SummaryState()
    legacy = f'report\n\n{SUMMARY_MARKER}\n<!-- align:state {{"v": 1, "waivers": []}} -->'
    assert SummaryState.decode(legacy, SEAL) == SummaryState()  # unsigned, as written before states were signed


def test_state_is_refused_unless_it_is_the_one_marker_at_the_end() -> None:
    state = SummaryState("h" * 40, None, (Waiver("gpu-model-mismatch", "dev", "vendor doc"),))
    tail = f"{SUMMARY_MARKER}\n{state.encode(SEAL)}"
    assert SummaryState.decode(f"report\n\n{tail}\n", SEAL) == state
    assert SummaryState.decode(f"report\n\n{tail}\n\nmore text", SEAL) == SummaryState()
    assert SummaryState.decode(f"{tail}\n\n{tail}", SEAL) == SummaryState()  # two states: neither is trusted
    # summary_body itself never lets the report carry one: it is written as text, the real one stays the only.
    body = summary_body(f"a file named {tail}", SummaryState("h" * 40), SEAL)
    assert body.count("<!--") == 2 and SummaryState.decode(body, SEAL) == SummaryState("h" * 40)


def test_only_the_apps_own_comments_are_ours() -> None:
    from align.service.markers import authored_by

    bot = {"login": "align[bot]", "type": "Bot"}
    assert authored_by({"user": bot, "performed_via_github_app": {"slug": "align"}}, "align[bot]")
    assert authored_by({"user": bot, "performed_via_github_app": None}, "align[bot]")
    assert not authored_by({"user": bot, "performed_via_github_app": {"slug": "mimic"}}, "align[bot]")
    assert not authored_by({"user": {"login": "align[bot]", "type": "User"}}, "align[bot]")
    assert not authored_by({"user": {"login": "align", "type": "User"}}, "align[bot]")


def test_fingerprint_is_read_from_the_end_of_a_comment() -> None:
    body = f"suggestion quoting {fingerprint_marker('f' * 16)}\n\n{fingerprint_marker('a' * 16)}"
    assert fingerprint_in(body) == "a" * 16
