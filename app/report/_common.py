"""Small formatting helpers shared by the reporters (numbers, money, deployments, source lines)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from align.findings import Finding, Severity
from align.result import ReviewResult

if TYPE_CHECKING:
    from align.manifest import Deployment

HOURS_PER_MONTH = 730
SEVERITY_ORDER = (Severity.ERROR, Severity.WARNING, Severity.NOTICE)


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Reporters sort themselves so the output never depends on the order rules ran in."""
    return sorted(findings, key=lambda f: f.sort_key)


def group_by_path(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    groups: dict[str, list[Finding]] = {}
    for finding in sorted_findings(findings):
        groups.setdefault(finding.path, []).append(finding)
    return groups


def deployments_of(result: ReviewResult) -> tuple[Deployment, ...]:
    return result.effective.manifest.deployments if result.effective else ()


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def fmt_number(value: float) -> str:
    """96.0 -> "96", 1.49 -> "1.49": the way a person writes it."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def fmt_money(value: float) -> str:
    return f"${value:,.2f}"


def severity_counts(findings: Iterable[Finding], *, skip_zero: bool = False) -> str:
    """"2 errors, 1 warning, 0 notices" ("2 errors, 1 warning" with `skip_zero`)."""
    counts = Counter(f.severity for f in findings)
    return ", ".join(plural(counts[s], s.value) for s in SEVERITY_ORDER if counts[s] or not skip_zero)


def short_sha(sha: str) -> str:
    """The first 7 hex digits of a commit; a pseudo-revision ("(index)", "(working tree)") as it is."""
    if not sha:
        return "(none)"
    return sha[:7] if all(c in "0123456789abcdef" for c in sha) else sha


def skipped_reason(result: ReviewResult) -> str | None:
    """One line saying why a run was skipped, or None when it was not."""
    if result.conclusion != "skipped":
        return None
    if result.skipped_reason:
        return result.skipped_reason
    return result.notes[0].splitlines()[0] if result.notes else "skipped"


def deployment_headline(deployment: Deployment) -> str:
    """"production: 3 × GH200"."""
    return f"{deployment.name}: {deployment.count} × {deployment.gpu.name}"


def deployment_facts(deployment: Deployment) -> str:
    """Memory, price, monthly cost and architecture on one line."""
    parts = [
        f"{fmt_number(deployment.gpu_memory_gb)} GB per GPU, {fmt_number(deployment.total_memory_gb)} GB total",
        f"{fmt_money(deployment.price_per_gpu_hour)}/GPU-hour, "
        f"{fmt_money(deployment.monthly_cost)}/month at {HOURS_PER_MONTH} h",
        deployment.arch,
    ]
    where = " ".join(p for p in (deployment.provider, deployment.instance_type) if p)
    if where:
        parts.append(where)
    return " · ".join(parts)


def source_lines(sources: Mapping[str, str] | None, finding: Finding) -> list[tuple[int, str]] | None:
    """The offending lines as (number, text), or None when the file text was not given."""
    if sources is None or finding.path not in sources:
        return None
    lines = sources[finding.path].splitlines()
    first = max(finding.line, 1)
    last = max(finding.end_line, first)
    return [(n, lines[n - 1]) for n in range(first, last + 1) if n <= len(lines)] or None


def line_span(finding: Finding) -> str:
    """"line 3" or "lines 10–13"."""
    if finding.end_line > finding.line:
        return f"lines {finding.line}–{finding.end_line}"
    return f"line {finding.line}"


def join_limited(items: Sequence[str], limit: int) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
