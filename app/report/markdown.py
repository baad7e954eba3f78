"""`--format markdown`: the alignment report carried by the check run summary and the sticky PR comment.

It reads like `reference/alignment-report-example.md`: status, executive summary, discrepancy table,
memory pool adjustments, findings by file, files to update, waivers, actions. GitHub cuts nothing for
us: the report must fit `max_chars` itself, so it is built as sections of rows that can be dropped
from the end, bulk lists first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from align import __version__
from align.findings import Finding, Severity
from align.report._common import (
    deployment_facts,
    deployments_of,
    group_by_path,
    join_limited,
    line_span,
    plural,
    severity_counts,
    short_sha,
    sorted_findings,
    source_lines,
)
from align.report.untrusted import block, code, mention, message, no_comments, text
from align.result import NO_MANIFEST_REASON, ReviewResult

if TYPE_CHECKING:
    from align.manifest import Deployment

GITHUB_SUMMARY_LIMIT = 65_535
DEFAULT_TITLE = "Align: deployment alignment report"
OVERCOMMIT = "gpu-memory-overcommit"
STALE = "stale-reference"
MANIFEST_CHANGED = "manifest-changed"
# The spec's rule order (section 3): the discrepancy table reads GPU, memory, capacity, cost, arch...
RULE_ORDER = ("gpu-model-mismatch", "unknown-gpu-model", "gpu-memory-mismatch", "gpu-memory-overcommit",
              "capacity-mismatch", "cost-mismatch", "arch-mismatch", "retired-secret", "arithmetic-error",
              "manifest-changed", "stale-reference", "manifest-invalid")

SEVERITY_ICON = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.NOTICE: "ℹ️"}
STATUS_ICON = {"success": "✅", "neutral": "⚠️", "failure": "❌", "skipped": "⏭️"}

# Cutting order when the report is too long: bulk lists go first, the status never.
_BULK, _NORMAL, _ESSENTIAL, _KEEP = 0, 1, 2, 3
_SEPARATOR = "\n\n"
_SNIPPET = 80  # characters of before/after shown per change


@dataclass
class _Section:
    head: str
    rows: list[str] = field(default_factory=list)
    priority: int = _NORMAL
    finding_rows: bool = False  # each row is one finding: counted in the "N more findings" note

    def text(self) -> str:
        return self.head + "".join("\n" + row for row in self.rows)


# -- small text helpers -------------------------------------------------------------------------------


# Everything from the repository (paths, align.yaml values, the code a finding quotes, messages, waiver
# reasons) goes through align.report.untrusted: `code` for values shown as code, `text` for values shown
# as words, `message` for a rule's message (its own code spans kept).


def _code(value: str, limit: int = _SNIPPET) -> str:
    return code(value, limit)


def _cell(value: str) -> str:
    """A table cell's words: one line, `|` escaped (`text` does both)."""
    return text(value, mid_line=True)


def _headline(deployment: Deployment) -> str:
    return f"{text(deployment.name, mid_line=True)}: {deployment.count} × {text(deployment.gpu.name, mid_line=True)}"


def _trim_common(before: str, after: str) -> tuple[str, str]:
    """Drop the words both sides share, so `"H200"` → `"GH200"` shows instead of two whole lines."""
    before, after = before.strip(), after.strip()
    shortest = min(len(before), len(after))
    start = 0
    while start < shortest and before[start] == after[start]:
        start += 1
    while start > 0 and not before[start - 1].isspace():
        start -= 1
    end = 0
    while end < shortest - start and before[-1 - end] == after[-1 - end]:
        end += 1
    while end > 0 and not before[len(before) - end].isspace():
        end -= 1
    return before[start : len(before) - end].strip(), after[start : len(after) - end].strip()


def _change(finding: Finding, sources: Mapping[str, str] | None) -> str:
    """`before` → `after` for a suggestion, as compact as the text allows."""
    assert finding.suggestion is not None
    after = finding.suggestion.splitlines() or [""]
    offending = source_lines(sources, finding)
    if offending is None:
        return "suggested: " + " ⏎ ".join(_code(line) for line in after[:3]) + (" …" if len(after) > 3 else "")
    before = [line for _, line in offending]
    if len(before) != len(after):
        before, after = [" ⏎ ".join(s.strip() for s in before)], [" ⏎ ".join(s.strip() for s in after)]
    pairs = [_trim_common(b, a) for b, a in zip(before, after, strict=True) if b != a]
    shown = [f"{_code(b)} → {_code(a)}" for b, a in pairs[:3]]
    return "; ".join(shown) + (" …" if len(pairs) > 3 else "") if shown else "no textual change"


# -- discrepancy table --------------------------------------------------------------------------------

_NUMBER = re.compile(r"^\s*[~≈]?\s*\$?\s*(\d[\d,]*(?:\.\d+)?)")


def _leading_number(value: str) -> float | None:
    """The figure a stated value starts with: "423GB (3×141)" -> 423, "$2.49/hour" -> 2.49, "H200" -> None."""
    if "=" in value:  # "3 × 141 = 423GB": the result counts
        value = value.rsplit("=", 1)[1]
    match = _NUMBER.match(value)
    return float(match.group(1).replace(",", "")) if match else None


ARITHMETIC = "Arithmetic"  # the component arithmetic-error findings carry


def impact(component: str, stated: str, expected: str) -> str | None:
    """What the deployment means compared with what the change says: "32% less memory", "40% cheaper"."""
    claimed, actual = _leading_number(stated), _leading_number(expected)
    if claimed is None or actual is None or claimed == 0:
        return None
    change = (actual - claimed) / claimed
    percent = round(abs(change) * 100)
    if percent == 0:
        return "same figure, written differently"
    kind = f"{component} {stated}".lower()
    less = change < 0
    if any(word in kind for word in ("cost", "price", "$", "hour", "month")):
        word = "cheaper" if less else "more expensive"
    elif any(word in kind for word in ("mem", "gb", "gib", "capacity")):
        word = "less memory" if less else "more memory"
    elif "count" in kind or "gpus" in kind:
        word = "fewer GPUs" if less else "more GPUs"
    else:
        word = "lower" if less else "higher"
    return f"{percent}% {word}"


@dataclass(frozen=True)
class _Discrepancy:
    component: str
    stated: str
    expected: str
    deployment: str | None
    places: int


def _rule_rank(rule: str) -> int:
    return RULE_ORDER.index(rule) if rule in RULE_ORDER else len(RULE_ORDER)


def _discrepancies(findings: Sequence[Finding], several_deployments: bool) -> list[_Discrepancy]:
    """One row per distinct claim. "423 GB" and "423 GB (3 × 141)" are the same claim: rows are keyed by the
    claimed figure where there is one, and keep the most explicit wording."""
    rows: dict[tuple[str, str, str, str | None], _Discrepancy] = {}
    for finding in sorted(findings, key=lambda f: _rule_rank(f.rule)):  # stable: path order within a rule
        if not finding.component or not (finding.stated or finding.expected):
            continue
        stated, expected = finding.stated or "—", finding.expected or "—"
        figure = _leading_number(stated)
        key = (finding.component, stated if figure is None else f"{figure:g}", expected,
               finding.deployment if several_deployments else None)
        seen = rows.get(key)
        wording = stated if seen is None or len(stated) > len(seen.stated) else seen.stated
        rows[key] = _Discrepancy(finding.component, wording, expected, key[3], (seen.places if seen else 0) + 1)
    return list(rows.values())


def _discrepancy_row(row: _Discrepancy) -> str:
    if row.component == ARITHMETIC:  # not a comparison with the deployment: the text contradicts itself
        effect = "false calculation"
        deployment = f"(correct result: {_cell(row.expected)})"
    else:
        effect = impact(row.component, row.stated, row.expected) or (
            "references need updating" if row.places > 1 else "reference needs updating"
        )
        deployment = _cell(row.expected) + (f" ({_cell(row.deployment)})" if row.deployment else "")
    if row.places > 1:
        effect += f" ({row.places:,} places)"
    return f"| **{_cell(row.component)}** | {_cell(row.stated)} | {deployment} | {_cell(effect)} |"


# -- sections -----------------------------------------------------------------------------------------


def _status(result: ReviewResult) -> str:
    deployments = deployments_of(result)
    if result.conclusion == "success":
        reason = ("aligned with " + "; ".join(_headline(d) for d in deployments)) if deployments \
            else "no findings"
    elif result.conclusion == "neutral":
        reason = (f"{plural(len(result.findings), 'finding')} below `fail_on: {result.fail_on}`; "
                  "nothing blocks the merge")
    elif result.conclusion == "failure":
        reason = f"{plural(len(result.failing), 'finding')} at or above `fail_on: {result.fail_on}`"
        if result.effective is None:
            reason += "; `align.yaml` is invalid"
    elif result.skipped_reason and result.skipped_reason != NO_MANIFEST_REASON:
        reason = result.skipped_reason
    else:
        reason = "no `align.yaml`, so there is nothing to compare against"
    if result.stopped:  # where a review that hit its deadline stopped: the findings above it are partial
        reason += f"\n\n⏱️ **Incomplete**: {text(result.stopped, mid_line=True)}; the files after that point were " \
            "not reviewed. Press **Re-run** or comment `/align review` to try again."
    return f"**Status**: {STATUS_ICON[result.conclusion]} **{result.conclusion}** — {reason}"


def _deployment_bullet(deployment: Deployment) -> str:
    return (f"**{text(deployment.name, mid_line=True)}**: {deployment.count} × "
            f"{text(deployment.gpu.name, mid_line=True)} · {text(deployment_facts(deployment), mid_line=True)}")


def _summary(result: ReviewResult, discrepancies: Sequence[_Discrepancy]) -> _Section:
    rows: list[str] = []
    deployments = deployments_of(result)
    origin = " (from the `align.yaml` this change adds)" if result.effective and result.effective.origin == "added" \
        else ""
    if not deployments:
        rows.append("- **Deployment**: unknown — `align.yaml` could not be read (see the findings below)")
    elif len(deployments) == 1:
        rows.append(f"- **Deployment**{origin}: {_deployment_bullet(deployments[0])}")
    else:
        rows.append(f"- **Deployments**{origin}:")
        rows.extend(f"  - {_deployment_bullet(d)}" for d in deployments)
    claims: list[str] = []
    for row in discrepancies:
        claim = f"{text(row.component, mid_line=True)} {_code(row.stated, 40)} (deployment: {_code(row.expected, 40)})"
        if claim not in claims:
            claims.append(claim)
    if claims:
        rows.append(f"- **What the change claims instead**: {join_limited(claims, 6)}")
    for finding in result.findings:
        if finding.rule == MANIFEST_CHANGED:
            rows.append(f"- **Deployment change in this pull request**: {message(finding.message)}")
    findings = result.findings
    counts = f"- **Findings**: {severity_counts(findings)}"
    if findings:
        outside = sum(1 for f in findings if not f.in_diff)
        counts += f" in {plural(len({f.path for f in findings}), 'file')}"
        if outside:
            counts += f" ({outside:,} outside the changed lines)"
    if result.waived:
        counts += f" · {len(result.waived):,} waived"
    if result.suppressed:
        counts += f" · {len(result.suppressed):,} suppressed inline"
    if result.baselined:
        counts += f" · {len(result.baselined):,} in the baseline"
    counts += f" · {plural(result.files_reviewed, 'file')} reviewed"
    rows.append(counts)
    return _Section("### 📋 Executive summary\n", rows, _ESSENTIAL)


def _discrepancy_section(discrepancies: Sequence[_Discrepancy]) -> _Section | None:
    if not discrepancies:
        return None
    head = ("### 🚨 Critical discrepancies\n\n"
            "| Component | In the change | Deployment | Impact |\n|---|---|---|---|")
    return _Section(head, [_discrepancy_row(row) for row in discrepancies], _NORMAL)


def _memory_section(findings: Sequence[Finding]) -> _Section | None:
    rows: list[str] = []
    seen: set[tuple[str, ...]] = set()
    for finding in findings:
        if finding.rule != OVERCOMMIT or not finding.details or finding.details in seen:
            continue
        seen.add(finding.details)
        where = f"{code(finding.path)} {line_span(finding)}"
        if finding.deployment:
            where += f", deployment {text(finding.deployment, mid_line=True)}"
        rows.append(f"\n{where}:\n\n{block(chr(10).join(finding.details))}")
    if not rows:
        return None
    return _Section("### 🧮 Memory pool adjustments", rows, _NORMAL)


def _finding_row(finding: Finding, sources: Mapping[str, str] | None) -> str:
    row = (f"- {SEVERITY_ICON[finding.severity]} **{code(finding.rule)}** · {line_span(finding)}: "
           f"{message(finding.message)}")
    if finding.suggestion is not None:
        row += f" · {_change(finding, sources)}"
    if not finding.in_diff:
        row += " · _outside the changed lines_"
    if finding.fingerprint:
        row += f" <sub>{code(finding.fingerprint)}</sub>"
    if finding.rule != OVERCOMMIT:  # its arithmetic is shown under memory pool adjustments
        row += "".join(f"\n  - {message(detail)}" for detail in finding.details[:10])
    return row


def _findings_section(result: ReviewResult, sources: Mapping[str, str] | None) -> _Section | None:
    rows: list[str] = []
    for path, findings in group_by_path(result.findings).items():
        for position, finding in enumerate(findings):
            row = _finding_row(finding, sources)
            # The file heading travels with its first finding, so cutting rows never leaves it orphaned.
            rows.append(f"\n#### {code(path)}\n\n{row}" if position == 0 else row)
    if not rows:
        return None
    return _Section("### 🔍 Findings", rows, _BULK, finding_rows=True)


def _files_to_update(result: ReviewResult) -> dict[str, list[Finding]]:
    wanted = [f for f in result.findings if result.mode == "scan" or f.rule == STALE or not f.in_diff]
    return group_by_path(wanted)


def _files_section(result: ReviewResult) -> _Section | None:
    files = _files_to_update(result)
    if not files:
        return None
    rows = []
    for path, findings in files.items():
        lines = sorted({f.line for f in findings})
        rules = sorted({f.rule for f in findings})
        label = "line" if len(lines) == 1 else "lines"
        named = ", ".join(text(rule, mid_line=True) for rule in rules)
        rows.append(f"- {code(path)} — {label} {join_limited([str(n) for n in lines], 10)} ({named})")
    head = ("### 📝 Files that need updating\n\n"
            "These files still state values that do not match the deployment:\n")
    return _Section(head, rows, _BULK)


def _waived_section(result: ReviewResult) -> _Section | None:
    if not result.waived:
        return None
    rows = [
        f"| {SEVERITY_ICON[finding.severity]} {code(finding.rule, table=True)} at "
        f"{code(f'{finding.path}:{finding.line}', table=True)} "
        f"| {mention(waiver.author)} | {message(waiver.reason, table=True)} |"
        for finding, waiver in result.waived
    ]
    return _Section("### 🙈 Waived\n\n| Finding | Waived by | Reason |\n|---|---|---|", rows, _NORMAL)


def _suppressed_section(result: ReviewResult) -> _Section | None:
    if not result.suppressed:
        return None
    rows = [
        f"| {SEVERITY_ICON[finding.severity]} `{finding.rule}` at `{finding.path}:{finding.line}` "
        f"| line {suppression.line} | {_cell(suppression.reason)} |"
        for finding, suppression in result.suppressed
    ]
    head = "### 🔕 Suppressed inline (`align: ignore`)\n\n| Finding | Comment | Reason |\n|---|---|---|"
    return _Section(head, rows, _NORMAL)


def _actions(result: ReviewResult) -> list[str]:
    actions: list[str] = []
    failing = result.failing
    if failing:
        fixable = sum(1 for f in failing if f.suggestion is not None)
        action = f"**Fix the {plural(len(failing), 'finding')} that fail this check** (`fail_on: {result.fail_on}`)"
        if fixable:
            action += f"; {fixable:,} come with a suggested change"
        actions.append(action + ".")
    rest = [f for f in result.findings
            if not f.severity.reaches(result.fail_on) and f.in_diff and f.rule not in (MANIFEST_CHANGED, STALE)]
    if rest:
        actions.append(f"Review the {plural(len(rest), 'other finding')} on the changed lines "
                       f"({severity_counts(rest, skip_zero=True)}).")
    to_update = _files_to_update(result)
    if to_update and result.mode != "scan":
        actions.append(f"**Update {plural(len(to_update), 'file')} outside this change** still stating the old "
                       "values (listed below the findings; `align scan` lists every one).")
    elif to_update:
        actions.append(f"**Update the {plural(len(to_update), 'file')}** listed above.")
    if any(f.rule == MANIFEST_CHANGED for f in result.findings):
        actions.append("**Confirm the deployment change** in `align.yaml` is intended: it is what every other "
                       "file is now checked against.")
    if result.skipped:
        actions.append(f"Check the {plural(len(result.skipped), 'skipped file')} by hand.")
    return [f"{n}. {action}" for n, action in enumerate(actions, 1)]


def _actions_section(result: ReviewResult) -> _Section:
    rows = _actions(result) or ["No action needed: the change is aligned with the deployment."]
    return _Section("### 🎯 Recommended actions\n", rows, _ESSENTIAL)


def _skipped_section(result: ReviewResult, heading: str = "### ⏭️ Skipped files and notes") -> _Section | None:
    rows = [f"- {code(s.path)}: {message(s.reason)}" for s in result.skipped]
    if rows:
        rows[0] = "\n" + rows[0]  # the blank line a list needs after the heading
    rows += [f"\n{no_comments(note)}" for note in result.notes]  # the engine's own Markdown
    if not rows:
        return None
    return _Section(heading, rows, _NORMAL)


def _footer(result: ReviewResult) -> str:
    span = f"`{short_sha(result.base)}`…`{short_sha(result.head)}`" if result.base else f"`{short_sha(result.head)}`"
    return (f"---\n<sub>Align {__version__} · {result.mode} of {span} · "
            f"{plural(result.files_reviewed, 'file')} reviewed · comment `/align explain <rule>` or "
            "`/align ignore <fingerprint> <reason>` on the pull request</sub>")


# -- fitting ------------------------------------------------------------------------------------------


def _cut_note(hidden_findings: int, max_chars: int) -> str:
    where = "run `align check` locally or see annotations"
    if hidden_findings:
        return f"> …{plural(hidden_findings, 'more finding')} not shown (limit {max_chars:,} characters); {where}"
    return f"> …parts of this report are not shown (limit {max_chars:,} characters); {where}"


def _fit(sections: list[_Section], footer: str, max_chars: int) -> str:
    """Join the sections; when too long, drop rows from the end, lowest priority first, and say so."""
    total = sum(len(s.text()) for s in sections) + len(_SEPARATOR) * len(sections) + len(footer)
    if total <= max_chars:
        return _SEPARATOR.join([*(s.text() for s in sections), footer])
    finding_rows = sum(len(s.rows) for s in sections if s.finding_rows)
    budget = max_chars - len(_cut_note(finding_rows, max_chars)) - len(_SEPARATOR)
    alive = list(sections)
    hidden = 0
    for priority in (_BULK, _NORMAL, _ESSENTIAL):
        for section in reversed([s for s in alive if s.priority == priority]):
            had_rows = bool(section.rows)
            while total > budget and section.rows:
                total -= len(section.rows.pop()) + 1
                hidden += section.finding_rows
            if total > budget or (had_rows and not section.rows):  # a heading alone says nothing
                total -= len(section.head) + len(_SEPARATOR)
                alive.remove(section)
            if total <= budget:
                break
        if total <= budget:
            break
    report = _SEPARATOR.join([*(s.text() for s in alive), _cut_note(hidden, max_chars), footer])
    return report if len(report) <= max_chars else report[: max_chars - 1] + "…"


# -- entry point --------------------------------------------------------------------------------------


def _skipped_report(result: ReviewResult, title: str, extra: Sequence[str]) -> list[_Section]:
    sections = [_Section(f"## {title}\n\n{_status(result)}", priority=_KEEP)]
    sections += [_Section(no_comments(section), priority=_NORMAL) for section in extra]
    notes = _skipped_section(result, "### How to enable Align")
    if notes:
        notes.priority = _ESSENTIAL
        sections.append(notes)
    return sections


def render(
    result: ReviewResult,
    *,
    sources: Mapping[str, str] | None = None,
    max_chars: int = GITHUB_SUMMARY_LIMIT,
    extra_sections: Sequence[str] = (),
    title: str = DEFAULT_TITLE,
) -> str:
    """The report, at most `max_chars` long. `extra_sections` are ready Markdown blocks (the service adds
    "Fixed since last run"); `sources` (path -> head text) lets suggestions show what they replace."""
    if result.conclusion == "skipped":
        return _fit(_skipped_report(result, title, extra_sections), _footer(result), max_chars)
    findings = sorted_findings(result.findings)
    discrepancies = _discrepancies(findings, len(deployments_of(result)) > 1)
    candidates: list[_Section | None] = [
        _Section(f"## {title}\n\n{_status(result)}", priority=_KEEP),
        _summary(result, discrepancies),
        *(_Section(no_comments(section), priority=_NORMAL) for section in extra_sections),
        _discrepancy_section(discrepancies),
        _memory_section(findings),
        _findings_section(result, sources),
        _files_section(result),
        _waived_section(result),
        _suppressed_section(result),
        _actions_section(result),
        _skipped_section(result),
    ]
    return _fit([s for s in candidates if s is not None], _footer(result), max_chars)
