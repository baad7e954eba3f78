"""Inline suppressions: `align: ignore[rule-id] reason` in a comment, on the finding's line or alone on the
line above it. Honoured only when the align.yaml whose settings count (the base commit's, in a change)
says `suppressions: allow`, so a pull request cannot switch off its own checks. A suppression needs a
reason, like `/align ignore`; every one that applied is listed in the report with it.

Any comment syntax the formats know: `# ...`, `// ...`, `/* ... */`, `<!-- ... -->`, `-- ...` (SQL, Lua,
Haskell), `; ...` (INI).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from align.findings import Finding

_MARKERS = r"(?:#|//|/\*|<!--|--|;)"
_SUPPRESSION = re.compile(
    _MARKERS + r"\s*align:\s*ignore\[(?P<rules>[^\]]*)\](?P<reason>.*)$", re.IGNORECASE
)
_CLOSERS = ("-->", "*/")


@dataclass(frozen=True, slots=True)
class Suppression:
    """One `align: ignore[...]` comment."""

    path: str
    line: int  # where the comment is
    rules: tuple[str, ...]
    reason: str

    def covers(self, rule: str) -> bool:
        return rule in self.rules

    def to_json(self) -> dict[str, object]:
        return {"path": self.path, "line": self.line, "rules": list(self.rules), "reason": self.reason}


@dataclass(frozen=True)
class SuppressionOutcome:
    kept: tuple[Finding, ...]
    suppressed: tuple[tuple[Finding, Suppression], ...]
    notes: tuple[str, ...]


def parse_line(path: str, number: int, text: str) -> tuple[Suppression | None, bool]:
    """(the suppression on this line or None, whether the comment is alone on its line)."""
    if "align" not in text.lower():
        return None, False
    match = _SUPPRESSION.search(text)
    if match is None:
        return None, False
    rules = tuple(r.strip().lower() for r in match.group("rules").split(",") if r.strip())
    reason = match.group("reason").strip()
    for closer in _CLOSERS:
        reason = reason.removesuffix(closer).strip()
    alone = not text[: match.start()].strip()
    return Suppression(path, number, rules, reason), alone


def suppression_for(path: str, lines: list[str], finding: Finding) -> Suppression | None:
    """The comment that covers `finding`: on one of its lines, or alone on the line just above."""
    first, last = max(finding.line, 1), max(finding.end_line, finding.line, 1)
    for number in range(first, min(last, len(lines)) + 1):
        found, _ = parse_line(path, number, lines[number - 1])
        if found is not None and found.covers(finding.rule):
            return found
    if 1 < first <= len(lines) + 1:
        found, alone = parse_line(path, first - 1, lines[first - 2])
        if found is not None and alone and found.covers(finding.rule):
            return found
    return None


def apply_suppressions(
    findings: Iterable[Finding], texts: Mapping[str, str], *, allowed: bool, manifest_path: str = "align.yaml"
) -> SuppressionOutcome:
    """Split findings into kept and suppressed. Not `allowed`: nothing is suppressed, and a note says how
    many comments were not honoured and why. A comment without a reason suppresses nothing either."""
    kept: list[Finding] = []
    suppressed: list[tuple[Finding, Suppression]] = []
    refused = 0
    without_reason = 0
    lines_of: dict[str, list[str]] = {}
    for finding in findings:
        text = texts.get(finding.path)
        if text is None or finding.rule == "manifest-invalid":
            kept.append(finding)
            continue
        lines = lines_of.get(finding.path)
        if lines is None:
            lines = lines_of[finding.path] = text.splitlines()
        found = suppression_for(finding.path, lines, finding)
        if found is None:
            kept.append(finding)
        elif not allowed:
            refused += 1
            kept.append(finding)
        elif not found.reason:
            without_reason += 1
            kept.append(finding)
        else:
            suppressed.append((finding, found))
    notes = []
    if refused:
        notes.append(
            f"{refused} finding(s) carry an `align: ignore[...]` comment that was not honoured: inline "
            f"suppressions are off unless `{manifest_path}` on the base commit says `suppressions: allow`."
        )
    if without_reason:
        notes.append(
            f"{without_reason} `align: ignore[...]` comment(s) suppress nothing because they give no reason: "
            "write `align: ignore[rule-id] why this is fine`."
        )
    return SuppressionOutcome(tuple(kept), tuple(suppressed), tuple(notes))
