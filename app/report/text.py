"""`--format text`: findings grouped by file for a terminal, coloured (plain ANSI) only when asked to.

No rich here: the CLI starts faster without it, and eight styles need no library.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TextIO

from align.findings import Finding, Severity
from align.report._common import (
    deployment_facts,
    deployment_headline,
    deployments_of,
    group_by_path,
    plural,
    severity_counts,
    short_sha,
    skipped_reason,
    source_lines,
)
from align.result import ReviewResult

_SGR = {"bold": "1", "dim": "2", "underline": "4", "red": "31", "green": "32", "yellow": "33", "magenta": "35",
        "cyan": "36"}
_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.NOTICE: "cyan"}
_CONCLUSION_STYLE = {"success": "bold green", "neutral": "yellow", "failure": "bold red", "skipped": "dim"}
_INDENT = "    "


class Line:
    """A line of (text, style) segments; `plain` without styles, `ansi` with SGR escape codes."""

    def __init__(self, text: str = "", style: str = "") -> None:
        self.segments: list[tuple[str, str]] = [(text, style)] if text else []

    def append(self, text: str, style: str = "") -> Line:
        self.segments.append((text, style))
        return self

    @property
    def plain(self) -> str:
        return "".join(text for text, _ in self.segments)

    @property
    def ansi(self) -> str:
        out = []
        for text, style in self.segments:
            codes = ";".join(_SGR[word] for word in style.split() if word in _SGR)
            out.append(f"\x1b[{codes}m{text}\x1b[0m" if codes and text else text)
        return "".join(out)


def wants_color(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Colour for a terminal only; never with NO_COLOR set (https://no-color.org); always with FORCE_COLOR
    set to anything but 0 (what CI logs that render colour use). NO_COLOR wins over FORCE_COLOR."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    return bool(getattr(stream, "isatty", lambda: False)()) and env.get("TERM") != "dumb"


def _header(result: ReviewResult) -> list[Line]:
    lines = [Line(f"Align {result.mode}: {short_sha(result.base)} → {short_sha(result.head)}", "bold")]
    for deployment in deployments_of(result):
        lines.append(Line(f"  {deployment_headline(deployment)} ({deployment_facts(deployment)})", "dim"))
    return lines


def _finding(finding: Finding, sources: Mapping[str, str] | None) -> list[Line]:
    where = f"{finding.path}:{finding.line}" + (f":{finding.column}" if finding.column else "")
    head = Line(where, "bold").append("  ").append(finding.severity.value, _STYLE[finding.severity])
    head.append("  ").append(finding.rule, "magenta").append(f"  {finding.message}")
    if not finding.in_diff:
        head.append("  (outside the diff)", "dim")
    lines = [head]
    offending = source_lines(sources, finding)
    width = len(str(offending[-1][0])) if offending else 0
    for number, text in offending or ():
        lines.append(Line(_INDENT).append(f"{number:>{width}} │ ", "dim").append(text))
    if finding.suggestion is not None:
        for _, text in offending or ():
            lines.append(Line(f"{_INDENT}- {text}", "red"))
        for text in finding.suggestion.splitlines() or [""]:
            lines.append(Line(f"{_INDENT}+ {text}", "green"))
    for detail in finding.details:
        lines.append(Line(f"{_INDENT}· {detail}", "dim"))
    return lines


def _summary(result: ReviewResult) -> Line:
    summary = Line(severity_counts(result.findings))
    files = len({f.path for f in result.findings})
    if files:
        summary.append(f" in {plural(files, 'file')}")
    for items, label in ((result.suppressed, "suppressed"), (result.waived, "waived"),
                         (result.baselined, "in the baseline"), (result.skipped, "skipped")):
        if items:
            summary.append(f" · {len(items):,} {label}")
    summary.append(" · conclusion: ").append(result.conclusion, _CONCLUSION_STYLE[result.conclusion])
    if result.conclusion != "skipped":
        summary.append(f" (fail_on: {result.fail_on})", "dim")
    return summary


def build(result: ReviewResult, sources: Mapping[str, str] | None = None) -> list[Line]:
    lines = _header(result)
    reason = skipped_reason(result)
    if reason is not None:
        lines.append(Line(f"Nothing reviewed: {reason}.", "bold"))
    for path, findings in group_by_path(result.findings).items():
        lines.append(Line())
        lines.append(Line(path, "bold underline"))
        for finding in findings:
            lines.extend(_finding(finding, sources))
    if result.suppressed:
        lines.append(Line())
        lines.append(Line("Suppressed inline (align: ignore)", "bold underline"))
        for finding, suppression in result.suppressed:
            lines.append(Line(f"  {finding.path}:{finding.line}  {finding.rule}  (comment on line "
                              f"{suppression.line}): {suppression.reason}", "dim"))
    if result.waived:
        lines.append(Line())
        lines.append(Line("Waived", "bold underline"))
        for finding, waiver in result.waived:
            lines.append(Line(f"  {finding.path}:{finding.line}  {finding.rule}  by {waiver.author}: {waiver.reason}",
                              "dim"))
    if result.skipped or result.notes:
        lines.append(Line())
        for skipped in result.skipped:
            lines.append(Line(f"skipped {skipped.path}: {skipped.reason}", "dim"))
        for note in result.notes:
            lines.append(Line(f"note: {note}", "dim"))
    lines.append(Line())
    lines.append(_summary(result))
    return lines


def render(result: ReviewResult, *, sources: Mapping[str, str] | None = None, color: bool = False) -> str:
    lines = build(result, sources)
    return "\n".join(line.ansi if color else line.plain for line in lines) + "\n"
