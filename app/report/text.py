"""`--format text`: findings grouped by file for a terminal, coloured with rich only when asked to."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from typing import TextIO

from rich.console import Console
from rich.text import Text

from app.findings import Finding, Severity
from app.report._common import (
    deployment_facts,
    deployment_headline,
    deployments_of,
    group_by_path,
    plural,
    severity_counts,
    short_sha,
    source_lines,
)
from app.review import ReviewResult

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.NOTICE: "cyan"}
_CONCLUSION_STYLE = {"success": "bold green", "neutral": "yellow", "failure": "bold red", "skipped": "dim"}
_INDENT = "    "


def wants_color(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Colour for a terminal only, and never when NO_COLOR is set (https://no-color.org)."""
    env = os.environ if environ is None else environ
    return bool(getattr(stream, "isatty", lambda: False)()) and not env.get("NO_COLOR")


def _header(result: ReviewResult) -> list[Text]:
    lines = [Text(f"Align {result.mode}: {short_sha(result.base)} → {short_sha(result.head)}", style="bold")]
    for deployment in deployments_of(result):
        lines.append(Text(f"  {deployment_headline(deployment)} ({deployment_facts(deployment)})", style="dim"))
    return lines


def _finding(finding: Finding, sources: Mapping[str, str] | None) -> list[Text]:
    head = Text()
    head.append(f"{finding.path}:{finding.line}", style="bold")
    head.append("  ")
    head.append(finding.severity.value, style=_STYLE[finding.severity])
    head.append("  ")
    head.append(finding.rule, style="magenta")
    head.append(f"  {finding.message}")
    if not finding.in_diff:
        head.append("  (outside the diff)", style="dim")
    lines = [head]
    offending = source_lines(sources, finding)
    width = len(str(offending[-1][0])) if offending else 0
    for number, text in offending or ():
        row = Text(_INDENT)
        row.append(f"{number:>{width}} │ ", style="dim")
        row.append(text)
        lines.append(row)
    if finding.suggestion is not None:
        for _, text in offending or ():
            lines.append(Text(f"{_INDENT}- {text}", style="red"))
        for text in finding.suggestion.splitlines() or [""]:
            lines.append(Text(f"{_INDENT}+ {text}", style="green"))
    for detail in finding.details:
        lines.append(Text(f"{_INDENT}· {detail}", style="dim"))
    return lines


def _summary(result: ReviewResult) -> Text:
    summary = Text()
    summary.append(severity_counts(result.findings))
    files = len({f.path for f in result.findings})
    if files:
        summary.append(f" in {plural(files, 'file')}")
    if result.waived:
        summary.append(f" · {len(result.waived):,} waived")
    if result.skipped:
        summary.append(f" · {len(result.skipped):,} skipped")
    summary.append(" · conclusion: ")
    summary.append(result.conclusion, style=_CONCLUSION_STYLE[result.conclusion])
    if result.conclusion != "skipped":
        summary.append(f" (fail_on: {result.fail_on})", style="dim")
    return summary


def build(result: ReviewResult, sources: Mapping[str, str] | None = None) -> list[Text]:
    lines = _header(result)
    for path, findings in group_by_path(result.findings).items():
        lines.append(Text())
        lines.append(Text(path, style="bold underline"))
        for finding in findings:
            lines.extend(_finding(finding, sources))
    if result.waived:
        lines.append(Text())
        lines.append(Text("Waived", style="bold underline"))
        for finding, waiver in result.waived:
            lines.append(Text(f"  {finding.path}:{finding.line}  {finding.rule}  by {waiver.author}: {waiver.reason}",
                              style="dim"))
    if result.skipped or result.notes:
        lines.append(Text())
        for skipped in result.skipped:
            lines.append(Text(f"skipped {skipped.path}: {skipped.reason}", style="dim"))
        for note in result.notes:
            lines.append(Text(f"note: {note}", style="dim"))
    lines.append(Text())
    lines.append(_summary(result))
    return lines


def render(result: ReviewResult, *, sources: Mapping[str, str] | None = None, color: bool = False) -> str:
    lines = build(result, sources)
    if not color:
        return "\n".join(line.plain for line in lines) + "\n"
    buffer = io.StringIO()
    # soft_wrap: long source lines stay whole; the terminal wraps them, not rich.
    console = Console(file=buffer, force_terminal=True, color_system="standard", soft_wrap=True,
                      highlight=False, emoji=False, width=200)
    for line in lines:
        console.print(line)
    return buffer.getvalue()
