"""`--format github`: GitHub Actions workflow commands, one line per finding
(`::error file=app.py,line=3,endLine=3,col=8,endColumn=12,title=...::message`), which the runner turns
into annotations on the pull request's Files changed tab, with no code scanning needed.

Escaping follows the runner's rules (actions/toolkit `command.ts`): in the message `%`, CR and LF become
`%25`, `%0D`, `%0A`; in a property value `:` and `,` also become `%3A` and `%2C`. So a finding always
stays one command, whatever its text holds. Lines that are not commands (the summary, suppressed and
waived findings) never start with `::`.
"""

from __future__ import annotations

from align.findings import Finding, Severity
from align.report._common import severity_counts, skipped_reason, sorted_findings
from align.result import ReviewResult

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTICE: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(kind: str, message: str, **properties: object) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items() if value is not None)
    return f"::{kind}{' ' + props if props else ''}::{escape_data(message)}"


def finding_command(finding: Finding) -> str:
    line = max(finding.line, 1)
    message = finding.message
    if finding.suggestion is not None:
        message += "\nSuggested:\n" + finding.suggestion
    if finding.details:
        message += "\n" + "\n".join(finding.details)
    return command(
        _COMMAND[finding.severity],
        message,
        file=finding.path,
        line=line,
        endLine=max(finding.end_line, line),
        col=finding.column,
        endColumn=finding.end_column,
        title=f"Align: {finding.rule}",
    )


def render(result: ReviewResult) -> str:
    lines = [finding_command(f) for f in sorted_findings(result.findings)]
    reason = skipped_reason(result)
    if reason is not None:
        lines.append(command("notice", f"Align skipped: {reason}", title="Align"))
    for finding, suppression in result.suppressed:
        lines.append(f"suppressed {finding.path}:{finding.line} {finding.rule} "
                     f"(align: ignore on line {suppression.line}): {suppression.reason}")
    for finding, waiver in result.waived:
        lines.append(f"waived {finding.path}:{finding.line} {finding.rule} by {waiver.author}: {waiver.reason}")
    summary = f"Align {result.mode}: {severity_counts(result.findings)}"
    extra = [f"{len(items):,} {label}" for items, label in
             ((result.suppressed, "suppressed"), (result.waived, "waived"), (result.baselined, "in the baseline"))
             if items]
    if extra:
        summary += f" ({', '.join(extra)})"
    lines.append(f"{summary}; conclusion: {result.conclusion}")
    return "\n".join(lines) + "\n"
