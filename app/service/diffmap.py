"""Where a review comment may sit: head-side lines inside the diff hunks of GitHub's `patch`.

GitHub rejects a WHOLE review when one comment is outside the diff, or when a multi-line comment spans
two hunks, so every anchor is computed here before anything is posted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from align.findings import Finding
from align.source import diff_lines_from_patch

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.MULTILINE)


@dataclass(frozen=True)
class Anchor:
    line: int  # the comment's `line` (the last line of a range), RIGHT side
    start_line: int | None  # set for a multi-line comment, always < line
    suggestion_fits: bool  # the anchored range is exactly the finding's lines


def hunk_ranges(patch: str | None) -> list[tuple[int, int]]:
    """Head-side (first, last) line of each hunk; pure deletions have none."""
    ranges: list[tuple[int, int]] = []
    for match in _HUNK.finditer(patch or ""):
        start = int(match.group(1))
        count = int(match.group(2)) if match.group(2) is not None else 1
        if count > 0:
            ranges.append((start, start + count - 1))
    return ranges


def anchor_for(finding: Finding, patch: str | None) -> Anchor | None:
    """The anchor for a finding, or None when its first line is not part of the diff."""
    lines = diff_lines_from_patch(patch)
    first, last = finding.line, max(finding.end_line, finding.line)
    if first not in lines:
        return None
    if first == last:
        return Anchor(first, None, True)
    if any(start <= first and last <= end for start, end in hunk_ranges(patch)) and last in lines:
        return Anchor(last, first, True)
    # The range leaves the hunk: comment on the first line only, and a suggestion would replace too little.
    return Anchor(first, None, False)
