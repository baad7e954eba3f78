"""The finding: the one value every rule produces and every reporter consumes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTICE = "notice"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def reaches(self, threshold: str) -> bool:
        """True when this severity is at least `threshold` (a `fail_on` value; "never" is never reached)."""
        if threshold == "never":
            return False
        return self.rank >= _RANK[Severity(threshold)]


_RANK = {Severity.NOTICE: 1, Severity.WARNING: 2, Severity.ERROR: 3}

_SPACE = re.compile(r"\s+")


def normalize_evidence(text: str) -> str:
    """Whitespace-insensitive form of the offending text, so re-indenting a line keeps its fingerprint."""
    return _SPACE.sub(" ", text).strip()


def make_fingerprint(rule: str, path: str, evidence: str, occurrence: int = 0) -> str:
    """Stable across pushes and rebases: never includes line numbers or commit SHAs.

    `occurrence` tells apart identical offending text repeated within one file (0 for the first).
    """
    key = f"{rule}\x1f{path}\x1f{normalize_evidence(evidence)}"
    if occurrence:
        key += f"\x1f{occurrence}"
    import hashlib  # here: a run with nothing to review never loads OpenSSL (~2 ms of start-up)

    return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: Severity
    path: str
    line: int
    end_line: int
    message: str
    suggestion: str | None = None
    deployment: str | None = None
    in_diff: bool = True
    # The normalized offending text the fingerprint is built from (the engine fills `fingerprint`).
    evidence: str = ""
    fingerprint: str = ""
    # Structured facts for the report's discrepancy table: what the change states vs. the deployment.
    component: str | None = None
    stated: str | None = None
    expected: str | None = None
    # Lines of explanation (arithmetic, file lists) that reporters may show below the message.
    details: tuple[str, ...] = field(default=())
    # What bound the offending text to the deployment (spec §1b), filled by the engine.
    bound_by: str | None = None
    # 1-based columns of the offending text on `line` / `end_line`, where known (align.columns fills them).
    column: int | None = None
    end_column: int | None = None

    def with_fingerprint(self, occurrence: int = 0) -> Finding:
        evidence = self.evidence or self.message
        return replace(self, fingerprint=make_fingerprint(self.rule, self.path, evidence, occurrence))

    def to_json(self) -> dict[str, object]:
        """The spec's JSON shape (section 4), nothing more."""
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "path": self.path,
            "line": self.line,
            "end_line": self.end_line,
            "message": self.message,
            "suggestion": self.suggestion,
            "deployment": self.deployment,
            "in_diff": self.in_diff,
            "fingerprint": self.fingerprint,
            "bound_by": self.bound_by,
            "column": self.column,
            "end_column": self.end_column,
        }

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, -self.severity.rank, self.rule)


@dataclass(frozen=True, slots=True)
class Waiver:
    """`/align ignore <fingerprint-or-rule> <reason>`: waives matching findings for one pull request."""

    target: str  # a fingerprint or a rule id
    author: str
    reason: str

    def matches(self, finding: Finding) -> bool:
        return self.target in (finding.fingerprint, finding.rule)
