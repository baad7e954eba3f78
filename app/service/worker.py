"""`handle_job`: the one place a queued job becomes a review on GitHub.

Order matters for users: the `Align` check run goes in_progress at once and always completes (also
when the review fails), then the inline review and the sticky summary are brought up to date, unless
the pull request moved on to a newer head meanwhile (an older run never overwrites a newer one).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from align.deadline import Deadline
from align.findings import Finding, Waiver
from align.report.untrusted import code, text
from align.review import ReviewResult
from align.rule_api import LoadedRules, load_rules
from align.service import publisher as pub
from align.service.commands import handle_command
from align.service.github_client import GitHubGateway, RateLimitWait, RepoClient
from align.service.github_source import GitHubSource
from align.service.jobs import Job, ReviewDeferred
from align.service.logging_setup import log_context, redact
from align.service.markers import CommentStatus, StateSeal, SummaryState, fingerprint_in, report_part
from align.service.metrics import Metrics
from align.service.review_deadline import DeadlineOverrun, review_deadline, run_within, spent_by_earlier_try
from align.service.review_process import review_in_process
from align.service.settings import Settings
from align.source import FileChange

log = logging.getLogger("align.worker")


def _default_review(*args: Any, **kwargs: Any) -> Any:
    from align.review import review_change

    return review_change(*args, **kwargs)


def _default_render(*args: Any, **kwargs: Any) -> str:
    from align.report import render

    return render(*args, **kwargs)


@dataclass
class WorkerDeps:
    """Everything a job needs, passed in (the Redis worker builds the same thing).

    `latest_head(pull_key)`: the newest head the queue has accepted a pull_request event for, or None;
    it tells a review whether its pull request moved on without asking GitHub (the memory queue and Redis
    both know). Without it the worker asks GitHub for the pull request."""

    settings: Settings
    gateway: GitHubGateway
    metrics: Metrics | None = None
    review: Callable[..., Any] = _default_review
    render: Callable[..., str] = _default_render
    rules: LoadedRules | None = field(default=None)
    latest_head: Callable[[str], str | None] | None = None

    def loaded_rules(self) -> LoadedRules:
        if self.rules is None:
            self.rules = load_rules()
        return self.rules


def build_worker_deps(settings: Settings, metrics: Metrics | None = None) -> WorkerDeps:
    """The worker's dependencies from settings; in the distributed mode the request budget is shared
    through Redis (under this deployment's key prefix) and the newest heads are read from Redis."""
    from align.service.budget import build_budget

    prefix = "align"
    latest_head: Callable[[str], str | None] | None = None
    if settings.queue == "redis":
        from align.service.redis_queue import RedisQueueConfig

        config = RedisQueueConfig.from_settings(settings)
        prefix, latest_head = config.prefix, _redis_latest_head(config)
    budget = build_budget(settings.queue, settings.redis_url, max_wait=settings.max_rate_limit_wait, prefix=prefix)
    gateway = GitHubGateway(settings, observer=metrics, budget=budget)
    return WorkerDeps(settings=settings, gateway=gateway, metrics=metrics, latest_head=latest_head)


def _redis_latest_head(config: Any) -> Callable[[str], str | None]:
    import redis

    from align.service.redis_queue import PullGate, connect

    gate = PullGate(connect(config, socket_timeout=5.0), config)

    def latest_head(pull_key: str) -> str | None:
        try:
            return gate.latest_head(pull_key)
        except redis.RedisError as error:  # not knowing is not a reason to fail a review
            log.warning("newest head unknown (redis: %s)", type(error).__name__)
            return None

    return latest_head


def handle_job(job: Job, deps: WorkerDeps) -> None:
    """Never raises for a failed review (the check run says what went wrong); raises only when GitHub
    itself could not be reached to say so, so a queue with retries may try again, and ReviewDeferred when
    GitHub's limits make the review wait: the queue keeps the job and runs it again at the time it names."""
    with log_context(delivery=job.delivery_id, repository=job.repository, pull=job.pull_number, event=job.event):
        started = time.monotonic()
        outcome = "error"
        try:
            outcome = handle_command(job, deps, run_review) if job.kind == "command" else run_review(job, deps, ())
        except ReviewDeferred:
            outcome = "deferred"
            raise
        except RateLimitWait as wait:  # a command's own write (a reaction, a reply) waits as a review does
            outcome = "deferred"
            raise ReviewDeferred(wait.until) from None
        finally:
            if deps.metrics is not None:
                deps.metrics.jobs.labels(job.kind, outcome).inc()
                if job.kind == "review" or outcome in ("review", "ignore"):
                    deps.metrics.review_duration.observe(time.monotonic() - started)
            log.info("job finished: %s", outcome, extra={"fields": {"outcome": outcome, "kind": job.kind}})


def _pull_from_payload(job: Job) -> dict[str, Any] | None:
    """The pull request as the webhook described it (route() keeps head, base and draft): a pull_request
    event is the freshest word on its pull request, and a newer one supersedes this job (see `_newer_head`),
    so no GET is needed."""
    base = job.extra.get("base_sha")
    if not job.event.startswith("pull_request.") or job.pull_number is None or not job.head_sha or not base:
        return None
    return {"number": job.pull_number, "state": "open", "draft": job.extra.get("draft") == "true",
            "head": {"sha": job.head_sha}, "base": {"sha": base}}


def _find_pull(client: RepoClient, job: Job, head: str | None) -> dict[str, Any] | None:
    if job.pull_number is not None:
        return client.get_pull(job.pull_number)
    if head is None:
        return None
    pulls = client.pulls_for_commit(head)
    return pulls[0] if pulls else None


def _newer_head(deps: WorkerDeps, job: Job, head: str) -> str | None:
    """A newer head the queue accepted for this pull request, if any (None also when nobody knows)."""
    if deps.latest_head is None:
        return None
    latest = deps.latest_head(replace(job, head_sha=head).pull_key)
    return latest if latest and latest != head else None


def _moved_on(deps: WorkerDeps, client: RepoClient, job: Job, number: int, head: str) -> bool:
    """Has the pull request moved past `head` while this review ran? Asked of the queue when it knows,
    else of GitHub."""
    if deps.latest_head is not None:
        return _newer_head(deps, job, head) is not None
    return str(client.get_pull(number)["head"]["sha"]) != head


def _error_reason(error: BaseException) -> str:
    """What went wrong, for the check run (Markdown): the error type and message, secrets scrubbed,
    bounded, and escaped (a message may quote a file name or GitHub's answer)."""
    return f"{code(type(error).__name__)}: {text(redact(str(error)), 500, mid_line=True)}"


def run_review(job: Job, deps: WorkerDeps, extra_waivers: Sequence[Waiver]) -> str:
    # From the moment the job (its first try) was picked up.
    deadline = review_deadline(job.extra, deps.settings.review_deadline)
    client = deps.gateway.repo(job.installation_id, job.repository)
    external = pub.external_id(job.delivery_id, job.pull_number)
    run: pub.CheckRunHandle | None = None
    head = job.head_sha
    app_id = deps.settings.app_id
    try:
        newer = _newer_head(deps, job, head) if head and job.event.startswith("pull_request.") else None
        if head and newer:
            return _supersede(client, job, head, newer, external, app_id)
        if head:
            run = pub.start_check_run(client, head, external, job.pull_number, app_id)
        pull = _pull_from_payload(job) or _find_pull(client, job, head)
        if pull is None:
            if run is not None:
                pub.complete_check_run(client, run.id, "neutral", "No open pull request for this commit",
                                       "Align reviews pull requests; this commit is not the head of an open one.")
            return "no-pull"
        head = head or str(pull["head"]["sha"])
        if run is None:
            run = pub.start_check_run(client, head, external, job.pull_number, app_id)
        if spent_by_earlier_try(job.extra, deps.settings.review_deadline):
            return _complete_spent(client, run.id, deps.settings.review_deadline)
        with log_context(pull=pull["number"], head=head[:7]):
            return _review_pull(job, deps, client, pull, head, run, extra_waivers, deadline)
    except RateLimitWait as wait:
        log.info("GitHub's limits are spent: the review waits until %.0f", wait.until)
        if head is not None:
            _show_queued(client, run, head, external, wait.until)
        raise ReviewDeferred(wait.until) from None
    except ReviewDeferred:
        raise  # the check run is complete; what is left waits for GitHub's limits
    except Exception as error:
        log.exception("review failed")
        if run is not None:
            try:
                pub.complete_check_run(client, run.id, "failure", "Align could not complete this review",
                                       pub.failure_summary(_error_reason(error)))
            except Exception:
                log.exception("could not complete the check run")
                raise
        elif head is None:
            raise  # nothing was created on GitHub yet: let the queue decide whether to try again
        return "failed"


def _show_queued(client: RepoClient, run: pub.CheckRunHandle | None, head: str, external: str, until: float) -> None:
    """Best effort: the check run says until when the review waits (GitHub's limits may refuse even that;
    the job waits and runs all the same)."""
    try:
        pub.queue_check_run(client, run.id if run is not None else None, head, external, until)
    except Exception as error:
        log.info("the check run could not show the wait (%s)", type(error).__name__)


def _complete_spent(client: RepoClient, run_id: int, seconds: float) -> str:
    """An earlier try of this job began reviewing more than the deadline ago and never finished (its worker
    died or hung): the review is not run again on this worker, its check run is completed saying so."""
    why = f"stopped: the review's {seconds:g} s deadline passed on an earlier try, whose worker stopped answering"
    pub.complete_check_run(client, run_id, "neutral", f"Incomplete: {why}",
                           f"## Align could not complete this review\n\n⏱️ {why[0].upper()}{why[1:]}. This "
                           "review is not retried automatically (the same input could hold the next worker too). "
                           "Press **Re-run** on this check or comment `/align review` to try again.")
    log.warning("not retried: an earlier try spent the review's deadline")
    return "deadline"


def _supersede(client: RepoClient, job: Job, head: str, newer: str, external: str, app_id: int | None) -> str:
    """A push made this review pointless. An earlier try of it may have left its run in progress (its worker
    died): complete that run as superseded rather than leave it spinning, and review nothing."""
    choice = pub.choose_run(client.list_check_runs(head, pub.CHECK_NAME), external, job.pull_number, app_id)
    for run in [*choice.abandoned, *([choice.reusable] if choice.reusable is not None else [])]:
        if run.get("status") != "completed":
            pub.complete_superseded(client, int(run["id"]), newer, job.pull_number)
    log.info("superseded by %s", newer[:7])
    return "superseded"


def _known_posted(
    job: Job, head: str, state: SummaryState, run: pub.CheckRunHandle, has_summary: bool, may_post: bool
) -> dict[str, CommentStatus] | None:
    """The inline comments Align has on the pull request, from the summary's state, when that state can be
    trusted to be complete; None sends the run to list them. Every review is followed by a state write, so
    the state misses one only when a run stopped in between: such a run left its check run unfinished (this
    job then reuses it), or it ran on a commit other than the state's, so the state is trusted only when it
    was written for this head, or for the head this push replaced (`before`) and no other run touched this
    one."""
    if run.reused:
        return None
    if not has_summary:
        # A pull request just opened, with no Align run on its head yet, has nothing of Align's on it.
        return {} if job.event == "pull_request.opened" and not run.earlier else None
    posted = state.posted_map()
    if posted is None:
        return None
    if state.head == head:
        return posted if state.reviewed_head == head or not may_post else None
    if run.earlier:
        return None
    return posted if state.head is not None and state.head == job.extra.get("before") else None


def _review_pull(
    job: Job,
    deps: WorkerDeps,
    client: RepoClient,
    pull: Mapping[str, Any],
    head: str,
    run: pub.CheckRunHandle,
    extra_waivers: Sequence[Waiver],
    deadline: Deadline,
) -> str:
    settings = deps.settings
    number = int(pull["number"])
    base = str(pull["base"]["sha"])
    current_head = str(pull["head"]["sha"])
    bot = deps.gateway.bot_login()

    seal = StateSeal.for_pull(settings.state_key, job.repository, number)
    summaries = pub.find_summaries(client.list_issue_comments(number), bot)
    state = SummaryState.decode(str(summaries[0].get("body") or ""), seal) if summaries else SummaryState()
    for waiver in extra_waivers:
        state = state.with_waiver(waiver)

    source = GitHubSource(
        client, number, head, pull_head=current_head, max_files=settings.max_pull_files,
        max_archive_bytes=settings.max_tarball_bytes, max_extracted_bytes=settings.max_extracted_bytes,
    )
    changes = source.changed_files(base, head)
    rules = deps.loaded_rules()
    try:
        if settings.review_isolation == "process" and deps.review is _default_review:
            result = review_in_process(source, base, head, waivers=state.waivers, changes=changes, rules=rules,
                                       deadline=deadline)
        else:
            result = run_within(deadline, lambda: deps.review(source, base, head, waivers=state.waivers,
                                                              changes=changes, rules=rules, deadline=deadline))
    except DeadlineOverrun as overrun:
        log.warning("review abandoned: %s", overrun.summary)
        result = ReviewResult(base, head, "neutral", changes=tuple(changes), stopped=str(overrun))
    if result.stopped:
        log.warning("review stopped at its deadline: %s", result.stopped)
    if deps.metrics is not None:
        deps.metrics.observe_findings(result.findings)
    texts = source.texts(head, [c.path for c in changes])

    draft = bool(pull.get("draft"))
    # A run for an older head never overwrites a newer one: look once more before writing over anything.
    stale = head != current_head or pull.get("state") == "closed" or _moved_on(deps, client, job, number, head)
    no_new_review = draft or state.reviewed_head == head
    known = _known_posted(job, head, state, run, bool(summaries), not no_new_review)
    extra: list[str] = []
    reviewed = False
    posted: dict[str, CommentStatus] | None = None
    if not stale:

        def before_review() -> None:
            """This head's state is already written: a run stopping between the review and the next state
            write would leave a state that looks complete. Mark it unknown first."""
            if summaries and state.head == head and state.posted is not None:
                report = report_part(str(summaries[0].get("body") or ""))
                client.edit_issue_comment(int(summaries[0]["id"]),
                                          pub.summary_body(report, state.with_posted(None), seal))

        try:
            reviewed, posted = _publish_review(deps, client, number, head, result, changes, no_new_review, bot,
                                               extra, known, before_review)
        except RateLimitWait:
            raise  # the whole review waits for GitHub's limits rather than losing its inline comments
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
    pub.complete_check_run(client, run.id, result.conclusion, pub.check_title(result),
                           report(pub.SUMMARY_LIMIT - len(note)) + note, batches, already=run.annotations)

    if stale:
        return "stale"
    # A review that stopped at its deadline is not this head's review: a re-run may post the rest.
    reviewed_head = head if reviewed and not result.stopped else state.reviewed_head
    new_state = SummaryState(head, reviewed_head, state.waivers).with_posted(posted)
    if summaries or pub.should_create_summary(result, new_state):
        try:  # the check run is complete: a failure here must not turn it into "could not complete"
            room = pub.SUMMARY_LIMIT - len(pub.summary_body("", new_state, seal))
            pub.write_summary(client, number, summaries, pub.summary_body(report(room), new_state, seal))
        except RateLimitWait as wait:
            # The check run is complete and stays so; the job runs again later and writes the summary then
            # (it reuses the run and posts nothing it posted before).
            log.info("the summary comment waits for GitHub's limits")
            raise ReviewDeferred(wait.until) from None
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
    known: Mapping[str, CommentStatus] | None,
    before_review: Callable[[], None],
) -> tuple[bool, dict[str, CommentStatus]]:
    """Bring inline comments up to date; returns (a review was posted for this head, every inline comment
    of Align's with its status). Adds the report's "Fixed since last run" section to `extra`.
    `no_new_review`: a draft, or this head has its review. `known`: the comments from the summary's state
    (None: unknown, list them)."""
    current = {f.fingerprint: f for f in result.findings}
    waived = {finding.fingerprint: waiver for finding, waiver in result.waived}
    # With align.yaml missing or invalid, or a review stopped at its deadline, no earlier finding is fixed.
    judged = result.effective is not None and not result.stopped
    if known is not None and not (judged and pub.needs_edits(known, current, waived)):
        posted = dict(known)
    else:
        posted = _update_comments(client, number, head, current, waived, judged, bot, extra)

    if no_new_review:
        return False, posted
    plan = pub.plan_review(result.findings, changes, set(posted), deps.settings.inline_comment_limit)
    if not plan.comments:
        return False, posted
    before_review()
    marker = pub.review_marker(head)
    body = {"commit_id": head, "event": "COMMENT", "body": pub.review_body(head, plan), "comments": plan.comments}
    client.create_review(number, body, marker)
    posted.update({finding.fingerprint: "open" for finding in plan.inline})
    return True, posted


def _update_comments(
    client: RepoClient,
    number: int,
    head: str,
    current: Mapping[str, Finding],
    waived: Mapping[str, Waiver],
    judged: bool,
    bot: str,
    extra: list[str],
) -> dict[str, CommentStatus]:
    """List Align's inline comments and mark those whose finding disappeared as fixed (or waived), or
    unmark one whose finding came back. Returns every one with its status after the edits."""
    ours = [c for c in client.list_review_comments(number) if pub.is_ours(c, bot)]
    statuses = {fp: pub.comment_status(str(c.get("body") or "")) for c in ours if (fp := fingerprint_in(c.get("body")))}
    by_id = {int(c["id"]): c for c in ours}
    fixed: list[tuple[Mapping[str, Any], str]] = []
    for update in pub.plan_comment_updates(ours, current, waived, head) if judged else []:
        client.edit_review_comment(update.comment_id, update.body)
        statuses[update.fingerprint] = pub.comment_status(update.body)
        if update.fixed:
            fixed.append((by_id[update.comment_id], pub.rule_of(update.body.split("\n\n", 1)[-1])))
    section = pub.fixed_section(fixed, head)
    if section:
        extra.append(section)
    return statuses
