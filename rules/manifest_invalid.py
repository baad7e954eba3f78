"""manifest-invalid: align.yaml does not parse or validate. Produced from ManifestError by the orchestrator."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from align.context import ReviewContext
from align.findings import Finding, Severity
from align.manifest import ManifestError
from align.rule_api import BaseRule


class ManifestInvalid(BaseRule):
    """Reports an `align.yaml` that does not parse or validate: unknown keys, wrong types, an unknown GPU,
    memory pools above the GPU's memory. Each problem is one finding that names the file, line and field.

    Why it matters: without a valid manifest there is nothing to compare the change against, so the check
    fails rather than passing silently.

    Example: "align.yaml line 5, deployments[0].gpu: unknown GPU 'H2000' (did you mean H200?)".

    Fix: none offered: the message says what the field must be.

    The rule has nothing to check in a review context (there is no valid manifest to build one from): the
    orchestrator turns the loader's ManifestError into findings with `findings_for_error`.
    """

    id = "manifest-invalid"
    default_severity = Severity.ERROR
    summary = "align.yaml does not parse or validate; names the line and field."
    fix_safe = False

    def check(self, ctx: ReviewContext) -> Iterator[Finding]:
        return iter(())


def findings_for_error(error: ManifestError) -> list[Finding]:
    """One finding per issue in the error, fingerprinted (they never pass through the engine)."""
    rule = ManifestInvalid()
    findings = []
    seen: Counter[tuple[str, str]] = Counter()
    for issue in error.issues:
        line = max(issue.line, 1)
        where = f"{issue.path} line {line}" + (f", {issue.field}" if issue.field else "")
        message = f"{where}: {issue.message}"
        evidence = f"{issue.field}: {issue.message}" if issue.field else issue.message
        finding = rule.finding(issue.path, line, message, evidence=evidence, in_diff=False)
        findings.append(finding.with_fingerprint(seen[(issue.path, evidence)]))
        seen[(issue.path, evidence)] += 1
    return findings
