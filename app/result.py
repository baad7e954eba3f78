"""What a review returns: `ReviewResult`, the value every reporter, the CLI, the service and the demo
consume. Kept apart from the orchestration (align.review) so that reading or reporting a result imports no
engine, pydantic or YAML parser: `align check` on an empty change starts in a few tens of milliseconds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from align.findings import Finding, Waiver

if TYPE_CHECKING:
    from align.manifest import EffectiveManifest
    from align.source import FileChange
    from align.suppressions import Suppression

Conclusion = Literal["success", "neutral", "failure", "skipped"]
NO_MANIFEST_REASON = "no align.yaml at the repository root or in .github/ on either side of the change"


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str


@dataclass(frozen=True)
class ReviewResult:
    base: str
    head: str
    conclusion: Conclusion
    findings: tuple[Finding, ...] = ()
    waived: tuple[tuple[Finding, Waiver], ...] = ()
    effective: EffectiveManifest | None = None
    changes: tuple[FileChange, ...] = ()
    skipped: tuple[SkippedFile, ...] = ()
    notes: tuple[str, ...] = ()  # plugin errors, "align.yaml added by this pull request", ...
    files_reviewed: int = 0
    mode: str = "check"
    fail_on: str = "error"
    # Findings an inline `align: ignore[rule] reason` comment suppressed (where align.yaml allows it).
    suppressed: tuple[tuple[Finding, Suppression], ...] = ()
    # Findings left out because a baseline file lists them (`align check --baseline`).
    baselined: tuple[Finding, ...] = ()
    skipped_reason: str | None = None  # one line: why the conclusion is `skipped`
    # One line when the review's deadline passed: "stopped after 812 of 3,000 files: ...". The findings
    # are those of the files reviewed before it; a conclusion of success becomes neutral.
    stopped: str | None = None

    @property
    def failing(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity.reaches(self.fail_on))


def conclusion_for(findings: Sequence[Finding], fail_on: str) -> Conclusion:
    if any(f.severity.reaches(fail_on) for f in findings):
        return "failure"
    return "neutral" if findings else "success"
