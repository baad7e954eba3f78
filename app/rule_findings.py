"""One rule's findings as the engine keeps them: bound to their deployment (spec §1b), with their
severity (overrides, prose), at most MAX_FINDINGS_PER_FILE per file, and bound again once a pending
repository profile is known."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import replace

from align.context import ReviewContext
from align.findings import Finding, Severity
from align.rule_api import Rule
from align.scope.profile import PendingProfile, RepositoryProfile

# A bound finding, and whether it is to be bound again once the repository profile is known (its block
# names only other GPUs: another target's, if the repository names many; `LineBinder.may_be_another_target`).
Candidate = tuple[Finding, bool]

MAX_FINDINGS_PER_FILE = 100  # a rule's findings in one file; past it, the rule stops reading that file
_MAX_CANDIDATES_PER_FILE = 2_000  # what it flagged there before binding (most unbound: a catalog's rows)
STOPPED_EVIDENCE = "align: rule stopped reading this file"


def rule_findings(
    ctx: ReviewContext, rule: Rule, override: str | None, *, rerun_per_file: bool
) -> list[Candidate]:
    """`rule`'s findings on `ctx`, at most MAX_FINDINGS_PER_FILE per file, then one notice that says the
    rule stopped reading it: a file that states the same wrong thing on every one of its lines (data, or
    one find-and-replace away from clean) costs no more than a hundred findings, and a report of tens of
    thousands of them would help nobody.

    A rule's `check` is a generator over all its files, so stopping it in one file stops it everywhere.
    For a file-local rule (`rerun_per_file`) the other files are then read again, one at a time, with
    their own limits: the extra work is one batch, and only when a file was that dense. A repository-wide
    rule is not stopped (what it reads is not `ctx.files` alone); what is past the limit is dropped."""
    kept: list[Candidate] = []
    bound_in: Counter[str] = Counter()
    flagged_in: Counter[str] = Counter()
    stopped_at: dict[str, Finding] = {}
    candidates = iter(rule.check(ctx))
    try:
        for finding in candidates:
            path = finding.path
            if path in stopped_at:
                continue
            checked = _checked(ctx, finding, override)
            flagged_in[path] += 1
            bound_in[path] += checked is not None
            if bound_in[path] > MAX_FINDINGS_PER_FILE or flagged_in[path] > _MAX_CANDIDATES_PER_FILE:
                stopped_at[path] = finding
                if rerun_per_file:
                    break
            elif checked is not None:
                kept.append(checked)
    finally:
        close = getattr(candidates, "close", None)
        if close is not None:
            close()  # the rule's generator stops here: nothing more of it runs
    if rerun_per_file and stopped_at:
        (dense,) = stopped_at
        kept = [c for c in kept if c[0].path == dense]
        for source_file in ctx.files:
            if source_file.path != dense:
                one_file = replace(ctx, files=(source_file,))
                kept.extend(rule_findings(one_file, rule, override, rerun_per_file=True))
    kept.extend((_stopped_notice(rule, at, bound_in[path]), False) for path, at in stopped_at.items())
    return kept


def _stopped_notice(rule: Rule, at: Finding, bound: int) -> Finding:
    if bound > MAX_FINDINGS_PER_FILE:
        why = (f"after {MAX_FINDINGS_PER_FILE} findings: the rest of it was not checked by this rule. A file that "
               f"states the same thing this often is data, or one fix applied throughout away from clean.")
    else:  # mentions that were not claims (a catalog's rows, data): the deployment's row may lie further on
        why = (f"after {_MAX_CANDIDATES_PER_FILE:,} mentions of which {bound} were claims about the deployment: "
               f"the rest of it (a catalog or data, by the look of it) was not checked by this rule.")
    return Finding(
        rule=rule.id, severity=Severity.NOTICE, path=at.path, line=at.line, end_line=at.line,
        message=f"`{rule.id}` stopped reading this file here, {why}",
        deployment=at.deployment, in_diff=at.in_diff, evidence=STOPPED_EVIDENCE,
        bound_by=(f"the engine: at most {MAX_FINDINGS_PER_FILE} findings and {_MAX_CANDIDATES_PER_FILE:,} "
                  "mentions of a rule per file"),
    )


def _checked(ctx: ReviewContext, finding: Finding, override: str | None) -> Candidate | None:
    """The finding bound to its deployment with its severity, or None when it does not count."""
    manifest = ctx.manifest
    if manifest.is_ignored(finding.path) and finding.path != manifest.path:
        return None
    candidate = _bound(ctx, finding)
    if candidate is None:
        return None
    bound, again = candidate
    unbound = bound.bound_by is not None and bound.bound_by.startswith("unbound")
    if override is not None and not unbound:
        return replace(bound, severity=Severity(override)), again
    if bound.severity is Severity.ERROR and _in_prose(ctx, bound):
        # Spec §1b: a claim in prose or comments is reported but does not fail the check by default.
        return replace(bound, severity=Severity.WARNING), again
    return bound, again


def _in_prose(ctx: ReviewContext, finding: Finding) -> bool:
    source_file = ctx.files_by_path.get(finding.path)
    deployment = ctx.deployment_for(finding.path) if source_file is not None else None
    if source_file is None or deployment is None:
        return False
    return ctx.scope.is_prose(source_file.path, source_file.text, deployment, finding.line, finding.end_line)


def _bound(ctx: ReviewContext, finding: Finding) -> Candidate | None:
    """The finding with what bound it (spec §1b), or None when its text is not about its deployment. In an
    audit, unbound findings stay, as notices that say why they would not count. While the repository
    profile is pending, also whether the finding is to be bound again once it is known."""
    if finding.path == ctx.manifest.path:
        return replace(finding, bound_by=f"the manifest: {finding.path}"), False
    if finding.bound_by is not None:  # a repository-wide rule that read the file bound it itself
        if not finding.bound_by.startswith("unbound"):
            return finding, False
        return (replace(finding, severity=Severity.NOTICE), False) if ctx.audit else None
    scope = ctx.file_scope(finding.path)
    reason = scope.reason
    if scope.bound:
        source_file = ctx.files_by_path.get(finding.path)
        deployment = ctx.deployment_for(finding.path)
        if source_file is None or deployment is None:
            return replace(finding, bound_by=reason), False
        line = ctx.line_binding(source_file, deployment, finding.line)
        if line.bound:
            again = isinstance(ctx.profile, PendingProfile) and ctx.scope.may_be_another_target(
                source_file.path, source_file.text, deployment, finding.line)
            return replace(finding, bound_by=reason + (f"; {line.reason}" if line.reason else "")), again
        reason = line.reason
    if ctx.audit:
        return replace(finding, severity=Severity.NOTICE, bound_by=f"unbound: {reason}"), False
    return None


def resolved(ctx: ReviewContext, candidates: Iterable[Candidate]) -> list[Finding]:
    """The candidates' findings, less those bound again with the profile and found in a block of another
    target (in an audit: kept as notices that say so)."""
    profile = ctx.profile
    multi_target = isinstance(profile, RepositoryProfile) and profile.multi_target
    findings: list[Finding] = []
    for finding, again in candidates:
        source_file = ctx.files_by_path.get(finding.path)
        deployment = ctx.deployment_for(finding.path) if again and multi_target else None
        if source_file is None or deployment is None:
            findings.append(finding)
            continue
        line = ctx.line_binding(source_file, deployment, finding.line)
        if line.bound:
            findings.append(finding)
        elif ctx.audit:
            findings.append(replace(finding, severity=Severity.NOTICE, bound_by=f"unbound: {line.reason}"))
    return findings
