"""`handle_job`: the one place a queued job becomes a review on GitHub.

Order matters for users: the `Align` check run goes in_progress at once and always completes (also
when the review fails), then the inline review and the sticky summary are brought up to date, unless
the pull request moved on to a newer head meanwhile (an older run never overwrites a newer one).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.findings import Waiver
from app.review import ReviewResult
from app.rule_api import LoadedRules, load_rules
from app.service import publisher as pub
from app.service.commands import handle_command
from app.service.github_client import GitHubGateway, RepoClient
from app.service.github_source import GitHubSource
from app.service.jobs import Job
from app.service.logging_setup import log_context, redact
from app.service.markers import SummaryState, fingerprint_in
from app.service.metrics import Metrics
from app.service.settings import Settings
from app.source import FileChange

log = logging.getLogger("align.worker")


def _default_review(*args: Any, **kwargs: Any) -> Any:
    from app.review import review_change

    return review_change(*args, **kwargs)


def _default_render(*args: Any, **kwargs: Any) -> str:
    from app.report import render

    return render(*args, **kwargs)


@dataclass
class WorkerDeps:
    """Everything a job needs, passed in (the Redis worker builds the same thing)."""

    settings: Settings
    gateway: GitHubGateway
    metrics: Metrics | None = None
    review: Callable[..., Any] = _default_review
    render: Callable[..., str] = _default_render
    rules: LoadedRules | None = field(default=None)

    def loaded_rules(self) -> LoadedRules:
        if self.rules is None:
            self.rules = load_rules()
        return self.rules


def build_worker_deps(settings: Settings, metrics: Metrics | None = None) -> WorkerDeps:
    """The worker's dependencies from settings; the request budget is shared through Redis in that mode."""
    from app.service.budget import build_budget

    budget = build_budget(settings.queue, settings.redis_url, max_wait=settings.max_rate_limit_wait)
    gateway = GitHubGateway(settings, observer=metrics, budget=budget)
    return WorkerDeps(settings=settings, gateway=gateway, metrics=metrics)


def handle_job(job: Job, deps: WorkerDeps) -> None:
    """Never raises for a failed review (the check run says what went wrong); raises only when GitHub
    itself could not be reached to say so, so a queue with retries may try again."""
    with log_context(delivery=job.delivery_id, repository=job.repository, pull=job.pull_number, event=job.event):
        started = time.monotonic()
        outcome = "error"
        try:
            outcome = handle_command(job, deps, run_review) if job.kind == "command" else run_review(job, deps, ())
        finally:
            if deps.metrics is not None:
                deps.metrics.jobs.labels(job.kind, outcome).inc()
                if job.kind == "review" or outcome in ("review", "ignore"):
                    deps.metrics.review_duration.observe(time.monotonic() - started)
            log.info("job finished: %s", outcome, extra={"fields": {"outcome": outcome, "kind": job.kind}})


def _find_pull(client: RepoClient, job: Job, head: str | None) -> dict[str, Any] | None:
    if job.pull_number is not None:
        return client.get_pull(job.pull_number)
    if head is None:
        return None
    pulls = client.pulls_for_commit(head)
    return pulls[0] if pulls else None


def _error_reason(error: BaseException) -> str:
    """What went wrong, for the check run: the error type and message, secrets scrubbed, bounded."""
    return redact(f"`{type(error).__name__}`: {str(error)[:500]}")


def run_review(job: Job, deps: WorkerDeps, extra_waivers: Sequence[Waiver]) -> str:
    client = deps.gateway.repo(job.installation_id, job.repository)
    external_id = f"{job.delivery_id}:{job.pull_number or ''}"
    run_id: int | None = None
    head = job.head_sha
    try:
        if head:
            run_id = pub.start_check_run(client, head, external_id)
        pull = _find_pull(client, job, head)
        if pull is None:
            if run_id is not None:
                pub.complete_check_run(client, run_id, "neutral", "No open pull request for this commit",
                                       "Align reviews pull requests; this commit is not the head of an open one.")
            return "no-pull"
        head = head or str(pull["head"]["sha"])
        if run_id is None:
            run_id = pub.start_check_run(client, head, external_id)
        with log_context(pull=pull["number"], head=head[:7]):
            return _review_pull(job, deps, client, pull, head, run_id, extra_waivers)
    except Exception as error:
        log.exception("review failed")
        if run_id is not None:
            try:
                pub.complete_check_run(client, run_id, "failure", "Align could not complete this review",
                                       pub.failure_summary(_error_reason(error)))
            except Exception:
                log.exception("could not complete the check run")
                raise
        elif head is None:
            raise  # nothing was created on GitHub yet: let the queue decide whether to try again
        return "failed"


def _review_pull(
    job: Job,
    deps: WorkerDeps,
    client: RepoClient,
    pull: Mapping[str, Any],
    head: str,
    run_id: int,
    extra_waivers: Sequence[Waiver],
) -> str:
    settings = deps.settings
    number = int(pull["number"])
    base = str(pull["base"]["sha"])
    current_head = str(pull["head"]["sha"])
    bot = deps.gateway.bot_login()

    summaries = pub.find_summaries(client.list_issue_comments(number), bot)
    state = SummaryState.decode(str(summaries[0].get("body") or "")) if summaries else SummaryState()
    for waiver in extra_waivers:
        state = state.with_waiver(waiver)

    source = GitHubSource(
        client, number, head, pull_head=current_head, max_files=settings.max_pull_files,
        max_archive_bytes=settings.max_tarball_bytes, max_extracted_bytes=settings.max_extracted_bytes,
    )
    changes = source.changed_files(base, head)
    result = deps.review(source, base, head, waivers=state.waivers, changes=changes, rules=deps.loaded_rules())
    if deps.metrics is not None:
        deps.metrics.observe_findings(result.findings)
    texts = source.texts(head, [c.path for c in changes])

    draft = bool(pull.get("draft"))
    stale = head != current_head or pull.get("state") == "closed"
    if not stale:
        # The pull request may have moved while the review ran: look once more before writing over anything.
        stale = str(client.get_pull(number)["head"]["sha"]) != head
    extra: list[str] = []
    reviewed = False
    if not stale:
        try:
            reviewed = _publish_review(deps, client, number, head, result, changes,
                                       draft or state.reviewed_head == head, bot, extra)
        except Exception as error:  # the check run must still carry the review's own conclusion
            log.exception("inline review could not be published")
            extra.append(f"_Inline comments could not be posted this time ({_error_reason(error)}); "
                         "the findings are all listed here._")
    if draft:
        extra.append("_This pull request is a draft: inline comments are posted when it is marked ready._")
    if stale:
        extra.append(f"_The pull request has moved on from `{head[:7]}`; its current head is reviewed separately._")

    def report(room: int) -> str:
        return deps.render(result, "markdown", max_chars=room, extra_sections=extra, sources=texts)

    limit = min(settings.max_annotations, len(result.findings))
    note = f"\n\n_Annotations cover the first {limit} of {len(result.findings)} findings._" \
        if limit < len(result.findings) else ""
    batches = pub.annotation_batches(result.findings, settings.annotation_batch, limit)
    pub.complete_check_run(client, run_id, result.conclusion, pub.check_title(result),
                           report(pub.SUMMARY_LIMIT - len(note)) + note, batches)

    if stale:
        return "stale"
    new_state = SummaryState(head, head if reviewed else state.reviewed_head, state.waivers)
    if summaries or pub.should_create_summary(result, new_state):
        try:  # the check run is complete: a failure here must not turn it into "could not complete"
            room = pub.SUMMARY_LIMIT - len(pub.summary_body("", new_state))
            pub.write_summary(client, number, summaries, pub.summary_body(report(room), new_state))
        except Exception:
            log.exception("summary comment could not be written")
            return "review-partial"
    return "review"


def _publish_review(
    deps: WorkerDeps,
    client: RepoClient,
    number: int,
    head: str,
    result: ReviewResult,
    changes: Sequence[FileChange],
    no_new_review: bool,
    bot: str,
    extra: list[str],
) -> bool:
    """Bring inline comments up to date; True when a review was posted for this head. Adds the report's
    "Fixed since last run" section to `extra`. `no_new_review`: a draft, or this head has its review."""
    ours = [c for c in client.list_review_comments(number) if pub.is_ours(c, bot)]
    current = {f.fingerprint: f for f in result.findings}
    waived = {finding.fingerprint: waiver for finding, waiver in result.waived}
    fixed: list[tuple[Mapping[str, Any], str]] = []
    by_id = {int(c["id"]): c for c in ours}
    # With align.yaml missing or invalid nothing was judged, so no earlier finding counts as fixed.
    updates = pub.plan_comment_updates(ours, current, waived, head) if result.effective is not None else []
    for update in updates:
        client.edit_review_comment(update.comment_id, update.body)
        if update.fixed:
            fixed.append((by_id[update.comment_id], pub.rule_of(update.body.split("\n\n", 1)[-1])))
    section = pub.fixed_section(fixed, head)
    if section:
        extra.append(section)

    if no_new_review:
        return False
    posted = {fp for c in ours if (fp := fingerprint_in(c.get("body")))}
    plan = pub.plan_review(result.findings, changes, posted, deps.settings.inline_comment_limit)
    if not plan.comments:
        return False
    marker = pub.review_marker(head)
    body = {"commit_id": head, "event": "COMMENT", "body": pub.review_body(head, plan), "comments": plan.comments}
    client.create_review(number, body, marker)
    return True
