"""What a review looks like on GitHub: the check run, the inline review, and the sticky summary comment.

Pure planning functions (easy to test) plus thin `publish_*` functions that apply a plan through a
`RepoClient`. GitHub's limits are enforced here: 65,535 characters of summary, 50 annotations per
request, comments only on lines inside the diff, a capped number of inline comments per review.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from align.findings import Finding, Severity, Waiver
from align.report.untrusted import code, fence_for, mention, message, no_comments, plain, text
from align.review import ReviewResult
from align.service.diffmap import Anchor, anchor_for
from align.service.github_client import RepoClient
from align.service.markers import (
    FIXED_PREFIX,
    SUMMARY_MARKER,
    CommentStatus,
    StateSeal,
    SummaryState,
    authored_by,
    fingerprint_in,
    fingerprint_marker,
    is_summary,
    review_marker,
)
from align.source import FileChange

log = logging.getLogger("align.publisher")

CHECK_NAME = "Align"
SUMMARY_LIMIT = 65_535  # check run output.summary, and an issue comment body
TITLE_LIMIT = 255
RERUN_ACTION = {"label": "Re-run", "description": "Review this commit again", "identifier": "rerun"}
WAIVED_PREFIX = "🔕 **Waived by"
LEVELS = {Severity.ERROR: "failure", Severity.WARNING: "warning", Severity.NOTICE: "notice"}
ICONS = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.NOTICE: "ℹ️"}


def clip(text: str, limit: int, note: str = "\n\n… (cut to fit GitHub's limit)") -> str:
    if len(text) <= limit:
        return text
    return text[: max(limit - len(note), 0)] + note


def sha7(sha: str) -> str:
    return sha[:7]


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- check run -----------------------------------------------------------------------------------------


def check_title(result: ReviewResult) -> str:
    if result.stopped:
        found = f"{len(result.findings)} finding{'s' if len(result.findings) != 1 else ''} so far; " \
            if result.findings else ""
        return clip(f"Incomplete: {found}{result.stopped}", TITLE_LIMIT, "…")
    if result.conclusion == "skipped":
        return "Skipped: no align.yaml in this repository"
    if not result.findings:
        waived = f" ({len(result.waived)} waived)" if result.waived else ""
        return f"Aligned with the declared deployment{waived}"
    counts = {s: sum(1 for f in result.findings if f.severity is s) for s in Severity}
    parts = [f"{n} {s.value}{'s' if n != 1 else ''}" for s, n in counts.items() if n]
    files = len({f.path for f in result.findings})
    return clip(f"{', '.join(parts)} in {files} file{'s' if files != 1 else ''}", TITLE_LIMIT, "…")


def annotation(finding: Finding) -> dict[str, Any]:
    """GitHub shows annotations as plain text: the message as the rule wrote it, without control
    characters, bidirectional overrides or `<!--` (align.report.untrusted.plain)."""
    body = finding.message
    if finding.details:
        body += "\n" + "\n".join(finding.details)
    return {
        "path": finding.path,
        "start_line": max(finding.line, 1),
        "end_line": max(finding.end_line, finding.line, 1),
        "annotation_level": LEVELS[finding.severity],
        "title": plain(f"{finding.rule} ({finding.severity.value})", TITLE_LIMIT),
        "message": plain(body, 60_000),
    }


def annotation_batches(
    findings: Sequence[Finding], size: int = 50, limit: int | None = None
) -> list[list[dict[str, Any]]]:
    """GitHub accepts at most 50 annotations per request; further PATCHes append."""
    items = [annotation(f) for f in findings[: limit if limit is not None else len(findings)]]
    return [items[i : i + size] for i in range(0, len(items), size)]


def external_id(delivery_id: str, pull_number: int | None) -> str:
    """Names the job a check run belongs to: a retried job finds its run again by it."""
    return f"{delivery_id}:{pull_number or ''}"


def _pull_of(external: str | None) -> str:
    return (external or "").rpartition(":")[2]


@dataclass(frozen=True)
class CheckRunHandle:
    """The `Align` run a review reports on: a new one, or one an earlier try of it left behind."""

    id: int
    annotations: int = 0  # already on the run (an earlier try of the same job sent them): not sent again
    reused: bool = False  # an earlier try got this far, so it may have written more: trust nothing cached
    earlier: bool = False  # this app had Align runs on this commit before this job


@dataclass(frozen=True)
class RunChoice:
    reusable: Mapping[str, Any] | None  # the run to report on instead of creating one
    abandoned: list[Mapping[str, Any]]  # runs of dead jobs for the same pull request, to complete
    earlier: bool  # any run of this app on the commit


def choose_run(
    runs: Sequence[Mapping[str, Any]], external: str, pull_number: int | None, app_id: int | None
) -> RunChoice:
    """Which existing `Align` run (newest first, as listed) this job reports on.

    The run of this very job (same external id: a retry after a worker died) whatever its state; else an
    unfinished run for the same pull request without annotations: its job died (the caller holds the pull
    request's one-at-a-time lock, so no live job owns it). Other unfinished runs of the pull request are
    abandoned: completed, so that none stays in progress for ever."""
    ours = [r for r in runs if app_id is None or (r.get("app") or {}).get("id") in (None, app_id)]
    reusable = next((r for r in ours if r.get("external_id") == external), None)
    same_pull = pull_number is not None and _pull_of(external) == str(pull_number)
    orphans = [r for r in ours if r is not reusable and r.get("status") != "completed" and same_pull
               and _pull_of(r.get("external_id")) == str(pull_number)]
    if reusable is None:
        reusable = next((r for r in orphans if not _annotation_count(r)), None)
    return RunChoice(reusable, [r for r in orphans if r is not reusable], bool(ours))


def _annotation_count(run: Mapping[str, Any]) -> int:
    return int((run.get("output") or {}).get("annotations_count") or 0)


def start_check_run(
    client: RepoClient, head_sha: str, external: str, pull_number: int | None = None, app_id: int | None = None
) -> CheckRunHandle:
    """Report on the run an earlier try of this review left behind, or create one, in progress."""
    choice = choose_run(client.list_check_runs(head_sha, CHECK_NAME), external, pull_number, app_id)
    for run in choice.abandoned:
        complete_check_run(client, int(run["id"]), "neutral", "Replaced by a later run",
                           "The job that started this run stopped before finishing; a later run reviews this "
                           "commit.")
    if choice.reusable is not None:
        if choice.reusable.get("status") == "queued":  # it waited for GitHub's limits: under way again now
            client.update_check_run(int(choice.reusable["id"]), {"status": "in_progress", "output": REVIEWING})
        return CheckRunHandle(int(choice.reusable["id"]), _annotation_count(choice.reusable), True, True)
    run = client.create_check_run(
        {
            "name": CHECK_NAME,
            "head_sha": head_sha,
            "status": "in_progress",
            "started_at": now_iso(),
            "external_id": external,
            "output": REVIEWING,
        }
    )
    return CheckRunHandle(int(run["id"]), earlier=choice.earlier)


REVIEWING = {"title": "Reviewing…", "summary": "Align is comparing this change with `align.yaml`."}


def waiting_output(until: float) -> dict[str, str]:
    """A queued run's output: until when the review waits for GitHub's request limits."""
    when = datetime.fromtimestamp(until, UTC).strftime("%H:%M:%S UTC")
    return {
        "title": f"Queued until {when}: waiting for GitHub's rate limits",
        "summary": (f"Align has used the requests GitHub allows this installation for now. This review waits in "
                    f"the queue until **{when}** ({datetime.fromtimestamp(until, UTC):%Y-%m-%d}) and then runs; "
                    "nothing needs to be done."),
    }


def queue_check_run(
    client: RepoClient, run_id: int | None, head_sha: str, external: str, until: float
) -> None:
    """Show the review as queued until `until`: the run it has (a PATCH, which creates no content), or a new
    queued run. Raises when GitHub's limits refuse even that (the job still waits and runs later)."""
    if run_id is not None:
        client.update_check_run(run_id, {"status": "queued", "output": waiting_output(until)})
        return
    client.create_check_run({"name": CHECK_NAME, "head_sha": head_sha, "status": "queued", "external_id": external,
                             "output": waiting_output(until)})


def complete_superseded(client: RepoClient, run_id: int, newer_sha: str, pull_number: int | None) -> None:
    where = f"pull request #{pull_number}" if pull_number else "its pull request"
    complete_check_run(client, run_id, "neutral", f"Superseded by {sha7(newer_sha)}",
                       f"This commit is no longer the head of {where}: Align reviews `{sha7(newer_sha)}` "
                       "instead.")


def complete_check_run(
    client: RepoClient,
    run_id: int,
    conclusion: str,
    title: str,
    summary: str,
    batches: Sequence[Sequence[dict[str, Any]]] = (),
    already: int = 0,
) -> None:
    """All but the last annotation batch first (each PATCH appends), then the completing PATCH with the
    last batch: one request for a review with at most 50 findings. `already`: annotations an earlier try
    of the same review put on the run; they are not sent again."""
    if already:
        size = max(len(batch) for batch in batches) if batches else 1
        rest = [item for batch in batches for item in batch][already:]
        batches = [rest[i : i + size] for i in range(0, len(rest), size)]
    output: dict[str, Any] = {"title": plain(title, TITLE_LIMIT),
                              "summary": clip(no_comments(summary), SUMMARY_LIMIT)}
    sent = already
    for batch in batches[:-1]:
        client.update_check_run(run_id, {"output": {**output, "annotations": list(batch)}}, annotations_before=sent)
        sent += len(batch)
    if batches:
        output = {**output, "annotations": list(batches[-1])}
    client.update_check_run(
        run_id,
        {
            "status": "completed",
            "conclusion": conclusion,
            "completed_at": now_iso(),
            "output": output,
            "actions": [RERUN_ACTION],
        },
        annotations_before=sent,
    )


def failure_summary(reason: str) -> str:
    """`reason` is Markdown already made safe (see worker._error_reason)."""
    return (
        "## Align could not complete this review\n\n"
        f"{reason}\n\n"
        "Nothing in the pull request was judged. Press **Re-run** on this check or comment `/align review` to "
        "try again; if it keeps failing, the service logs carry the delivery id of this run."
    )


# -- inline review -------------------------------------------------------------------------------------


def comment_body(finding: Finding, anchor: Anchor) -> str:
    """An inline comment. The suggestion is the one part not escaped (applying it must write exactly its
    text): it sits in a fence longer than any backtick run in it, and the fingerprint marker is read from
    the end of the comment (`fingerprint_in`), after it."""
    parts = [f"{ICONS[finding.severity]} **{text(finding.rule)}** ({finding.severity.value}): "
             f"{message(finding.message)}"]
    if finding.details:
        parts.append("\n".join(message(detail) for detail in finding.details))
    if finding.suggestion is not None and anchor.suggestion_fits:
        fence = fence_for(finding.suggestion)
        parts.append(f"{fence}suggestion\n{finding.suggestion}\n{fence}")
    parts.append(
        f"<sub>Not applicable here? {code(f'/align ignore {finding.fingerprint} <reason>')} · "
        f"{code(f'/align explain {finding.rule}')}</sub>"
    )
    parts.append(fingerprint_marker(finding.fingerprint))
    return "\n\n".join(parts)


@dataclass
class ReviewPlan:
    comments: list[dict[str, Any]] = field(default_factory=list)
    inline: list[Finding] = field(default_factory=list)
    not_inline: list[Finding] = field(default_factory=list)  # outside the diff, or over the limit


def plan_review(
    findings: Iterable[Finding], changes: Iterable[FileChange], already_posted: set[str], limit: int
) -> ReviewPlan:
    """Comments for findings on diff lines, most severe first, never one already posted, at most `limit`."""
    patches = {c.path: c.patch for c in changes if c.patch}
    plan = ReviewPlan()
    ordered = sorted(findings, key=lambda f: (-f.severity.rank, f.path, f.line, f.rule))
    for finding in ordered:
        if finding.fingerprint in already_posted:
            continue
        anchor = anchor_for(finding, patches.get(finding.path)) if finding.path in patches else None
        if anchor is None or len(plan.comments) >= limit:
            plan.not_inline.append(finding)
            continue
        comment: dict[str, Any] = {
            "path": finding.path,
            "line": anchor.line,
            "side": "RIGHT",
            "body": comment_body(finding, anchor),
        }
        if anchor.start_line is not None:
            comment["start_line"] = anchor.start_line
            comment["start_side"] = "RIGHT"
        plan.comments.append(comment)
        plan.inline.append(finding)
    return plan


def review_body(head_sha: str, plan: ReviewPlan) -> str:
    count = len(plan.comments)
    text = (
        f"Align found {count} issue{'s' if count != 1 else ''} on lines of this change at `{sha7(head_sha)}`. "
        "The full report is on the **Align** check and in the summary comment."
    )
    if plan.not_inline:
        text += f" {len(plan.not_inline)} more are not commented inline (outside the diff or over the limit)."
    return f"{text}\n\n{review_marker(head_sha)}"


def is_ours(item: Mapping[str, Any], bot_login: str) -> bool:
    return authored_by(item, bot_login)


def _strip_status(body: str) -> str:
    if body.startswith((FIXED_PREFIX, WAIVED_PREFIX)):
        return body.split("\n\n", 1)[1] if "\n\n" in body else ""
    return body


def comment_status(body: str) -> CommentStatus:
    if body.startswith(FIXED_PREFIX):
        return "fixed"
    return "waived" if body.startswith(WAIVED_PREFIX) else "open"


def wanted_status(fingerprint: str, current: Mapping[str, Finding], waived: Mapping[str, Waiver]) -> CommentStatus:
    """What a comment should say now (the same decision as `plan_comment_updates`, on the recorded state)."""
    if fingerprint in current:
        return "open"
    return "waived" if fingerprint in waived else "fixed"


def needs_edits(
    known: Mapping[str, CommentStatus], current: Mapping[str, Finding], waived: Mapping[str, Waiver]
) -> bool:
    """True when some comment Align posted must change (fixed, waived, or back): only then are the
    review comments listed, to edit them."""
    return any(wanted_status(fp, current, waived) != status for fp, status in known.items())


@dataclass(frozen=True)
class CommentUpdate:
    comment_id: int
    body: str
    fingerprint: str
    fixed: bool


def plan_comment_updates(
    ours: Iterable[Mapping[str, Any]],
    current: Mapping[str, Finding],
    waived: Mapping[str, Waiver],
    head_sha: str,
) -> list[CommentUpdate]:
    """Mark comments whose finding disappeared as fixed (or waived); unmark one whose finding came back."""
    updates: list[CommentUpdate] = []
    for comment in ours:
        body = comment.get("body") or ""
        fingerprint = fingerprint_in(body)
        if fingerprint is None:
            continue
        bare = _strip_status(body)
        if fingerprint in current:
            wanted = bare
        elif fingerprint in waived:
            waiver = waived[fingerprint]
            wanted = f"{WAIVED_PREFIX} {mention(waiver.author)}**: {message(waiver.reason)}\n\n{bare}"
        elif body.startswith(FIXED_PREFIX):
            continue  # already marked, keep the commit it was fixed in
        else:
            wanted = f"{FIXED_PREFIX} {sha7(head_sha)}**\n\n{bare}"
        if wanted != body:
            updates.append(CommentUpdate(int(comment["id"]), wanted, fingerprint, wanted.startswith(FIXED_PREFIX)))
    return updates


def fixed_section(fixed: Sequence[tuple[Mapping[str, Any], str]], head_sha: str) -> str | None:
    """The report's "Fixed since last run" block, from the review comments just marked fixed."""
    if not fixed:
        return None
    rows = []
    for comment, rule in fixed[:50]:
        rows.append(f"- {code(str(comment.get('path', '?')))}: **{rule}** no longer applies")  # rule: our own text
    more = f"\n- … and {len(fixed) - 50} more" if len(fixed) > 50 else ""
    return f"### ✅ Fixed since last run (at `{sha7(head_sha)}`)\n\n" + "\n".join(rows) + more


def rule_of(body: str) -> str:
    start = body.find("**")
    end = body.find("**", start + 2)
    return body[start + 2 : end] if 0 <= start < end else "finding"


# -- summary comment -----------------------------------------------------------------------------------


def summary_body(report: str, state: SummaryState, seal: StateSeal) -> str:
    """The report, then the marker and the signed state, last. `no_comments` guarantees the report holds
    no `<!--`, so the state is the comment's only marker whatever the report quotes."""
    tail = f"\n\n{SUMMARY_MARKER}\n{state.encode(seal)}"
    return clip(no_comments(report), SUMMARY_LIMIT - len(tail)) + tail


def find_summaries(comments: Iterable[Mapping[str, Any]], bot_login: str) -> list[Mapping[str, Any]]:
    """The app's own summary comments, oldest first (there should be one; extras are removed)."""
    found = [c for c in comments if is_ours(c, bot_login) and is_summary(c.get("body"))]
    return sorted(found, key=lambda c: (str(c.get("created_at", "")), int(c.get("id", 0))))


def should_create_summary(result: ReviewResult | None, state: SummaryState) -> bool:
    """No comment for a clean or unconfigured pull request (a "no findings" comment on every PR is noise)."""
    if state.waivers:
        return True
    if result is None or result.conclusion == "skipped":
        return False
    return bool(result.findings or result.waived)


def write_summary(
    client: RepoClient, number: int, existing: Sequence[Mapping[str, Any]], body: str
) -> Mapping[str, Any] | None:
    """Edit the one summary comment (skipping an edit that changes nothing), or create it."""
    if not existing:
        return client.create_issue_comment(number, body, SUMMARY_MARKER)
    keep, extras = existing[0], existing[1:]
    for extra in extras:  # a duplicate left by an earlier failure: only ever the app's own comments
        client.delete_issue_comment(int(extra["id"]))
    if keep.get("body") != body:
        return client.edit_issue_comment(int(keep["id"]), body)
    return keep
