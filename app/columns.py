"""Columns for findings: where on its line the offending text sits, for SARIF regions, workflow-command
annotations and editors. Rules report lines; the column is worked out afterwards from the text, and left
unknown (None) whenever it cannot be told for sure."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace

from align.findings import Finding


def with_columns(findings: Iterable[Finding], texts: Mapping[str, str]) -> list[Finding]:
    """Each finding with `column`/`end_column` (1-based, end exclusive) when its offending text can be
    found on its line: the text the rule says is stated, else what the suggestion replaces."""
    lines_of: dict[str, list[str]] = {}
    result = []
    for finding in findings:
        text = texts.get(finding.path)
        if text is None or finding.column is not None or finding.end_line != finding.line:
            result.append(finding)
            continue
        lines = lines_of.get(finding.path)
        if lines is None:
            lines = lines_of[finding.path] = text.splitlines()
        line = lines[finding.line - 1] if 0 < finding.line <= len(lines) else ""
        span = _span(line, finding)
        result.append(replace(finding, column=span[0] + 1, end_column=span[1] + 1) if span else finding)
    return result


def _span(line: str, finding: Finding) -> tuple[int, int] | None:
    if not line:
        return None
    if finding.suggestion is not None and "\n" not in finding.suggestion:
        changed = _changed_span(line, finding.suggestion)
        if changed is not None:
            return changed
    for stated in (finding.stated or "").split(", "):
        stated = stated.strip()
        if not stated:
            continue
        found = _token(line, stated)
        if found is not None:
            return found
    return None


def _changed_span(before: str, after: str) -> tuple[int, int] | None:
    """The part of `before` a one-line suggestion rewrites, widened to whole words ("H200" in `"H200"`)."""
    if before == after:
        return None
    start = 0
    shortest = min(len(before), len(after))
    while start < shortest and before[start] == after[start]:
        start += 1
    end = 0
    while end < shortest - start and before[-1 - end] == after[-1 - end]:
        end += 1
    stop = len(before) - end
    while start > 0 and _word(before[start - 1]):
        start -= 1
    while stop < len(before) and _word(before[stop]):
        stop += 1
    return (start, stop) if stop > start else None


def _word(char: str) -> bool:
    return char.isalnum() or char in "._"


def _token(line: str, needle: str) -> tuple[int, int] | None:
    """`needle` on the line, case-insensitive and not inside a longer word."""
    pattern = re.compile(r"(?<![\w.])" + re.escape(needle) + r"(?![\w])", re.IGNORECASE)
    match = pattern.search(line)
    return (match.start(), match.end()) if match else None
