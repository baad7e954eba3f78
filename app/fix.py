"""`align fix`: the engine's verified suggestions applied to files (a suggestion is offered only when
applying it leaves its lines clean, so these edits never trade one finding for another).

A suggestion replaces whole lines `line`..`end_line`; findings on the same lines carry one merged
suggestion. Edits are applied bottom-up per file, overlapping ones skipped, line endings kept.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from align.findings import Finding


@dataclass(frozen=True)
class FileFix:
    path: str
    before: str
    after: str
    fixed: int  # findings fixed

    def diff(self) -> str:
        return "".join(difflib.unified_diff(
            self.before.splitlines(keepends=True), self.after.splitlines(keepends=True),
            fromfile=f"a/{self.path}", tofile=f"b/{self.path}",
        ))


def plan_fixes(findings: Iterable[Finding], texts: Mapping[str, str]) -> list[FileFix]:
    edits: dict[str, dict[tuple[int, int], tuple[str, int]]] = {}
    for finding in findings:
        if finding.suggestion is None or finding.path not in texts:
            continue
        per_file = edits.setdefault(finding.path, {})
        key = (finding.line, finding.end_line)
        text, count = per_file.get(key, (finding.suggestion, 0))
        per_file[key] = (text, count + 1)
    fixes = []
    for path, per_file in sorted(edits.items()):
        before = texts[path]
        lines = before.splitlines(keepends=True)
        fixed = 0
        floor = len(lines) + 1  # edits go bottom-up; one that reaches into an applied one is skipped
        for (start, end), (replacement, count) in sorted(per_file.items(), reverse=True):
            if end >= floor or start < 1 or end > len(lines):
                continue
            ending = _ending(lines[end - 1])
            new = [row + "\n" for row in replacement.split("\n")]
            new[-1] = new[-1][:-1] + ending
            lines[start - 1 : end] = new
            floor = start
            fixed += count
        after = "".join(lines)
        if after != before:
            fixes.append(FileFix(path, before, after, fixed))
    return fixes


def _ending(line: str) -> str:
    for ending in ("\r\n", "\n", "\r"):
        if line.endswith(ending):
            return ending
    return ""
