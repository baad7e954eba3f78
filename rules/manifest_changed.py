"""manifest-changed: the pull request changes a deployment in align.yaml; show the delta."""

from __future__ import annotations

from collections.abc import Iterator

from align.context import ReviewContext
from align.findings import Finding, Severity
from align.manifest import Deployment
from align.rule_api import BaseRule

HOURS_PER_MONTH = 730


def _num(value: float) -> str:
    """96.0 → "96", 2.5 → "2.5": the way a person writes it."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0").rstrip(".")


def _money(value: float, decimals: int = 2) -> str:
    return f"${value:,.{decimals}f}"


def _percent(old: float, new: float) -> str:
    if not old:
        return ""
    change = round((new - old) / old * 100)
    sign = "+" if change > 0 else "−" if change < 0 else "±"
    return f" ({sign}{abs(change)} %)"


def describe_delta(old: Deployment, new: Deployment) -> list[str]:
    """The parts of a deployment that changed, as a reviewer would write them (empty when nothing did)."""
    parts: list[str] = []
    if old.count != new.count:
        parts.append(f"{old.count} → {new.count} GPUs")
    if old.gpu_memory_gb != new.gpu_memory_gb:
        parts.append(
            f"{_num(old.gpu_memory_gb)} → {_num(new.gpu_memory_gb)} GB per GPU"
            f"{_percent(old.gpu_memory_gb, new.gpu_memory_gb)}"
        )
    if old.total_memory_gb != new.total_memory_gb:
        parts.append(
            f"{old.count} × {_num(old.gpu_memory_gb)} = {_num(old.total_memory_gb)} → "
            f"{new.count} × {_num(new.gpu_memory_gb)} = {_num(new.total_memory_gb)} GB total"
        )
    if old.price_per_gpu_hour != new.price_per_gpu_hour:
        parts.append(
            f"{_money(old.price_per_gpu_hour)} → {_money(new.price_per_gpu_hour)}/h"
            f"{_percent(old.price_per_gpu_hour, new.price_per_gpu_hour)}"
        )
    if old.monthly_cost != new.monthly_cost:
        parts.append(f"{_money(old.monthly_cost, 0)} → {_money(new.monthly_cost, 0)} per month")
    if old.arch != new.arch:
        parts.append(f"{old.arch} → {new.arch}")
    for label, before, after in (
        ("provider", old.provider, new.provider),
        ("instance type", old.instance_type, new.instance_type),
        ("paths", _listed(old.paths), _listed(new.paths)),
        ("memory pools (GB)", _pools(old), _pools(new)),
        ("retired secrets", _listed(old.retired_secrets), _listed(new.retired_secrets)),
    ):
        if before != after:
            parts.append(f"{label} {before or '(none)'} → {after or '(none)'}")
    gpu_changed = old.gpu.name != new.gpu.name
    if gpu_changed:
        return [f"{old.gpu.name} → {new.gpu.name}", *parts]
    return parts


def _listed(items: tuple[str, ...]) -> str:
    return f"[{', '.join(items)}]"


def _pools(deployment: Deployment) -> str:
    return _listed(tuple(f"{name} {_num(size)}" for name, size in deployment.memory_pools_gb))


def _headline(deployment: Deployment) -> str:
    return (
        f"{deployment.count} × {deployment.gpu.name} ({_num(deployment.gpu_memory_gb)} GB, {deployment.arch}), "
        f"{_money(deployment.price_per_gpu_hour)}/h, {_money(deployment.monthly_cost, 0)} per month"
    )


class ManifestChanged(BaseRule):
    """Reports a pull request that changes a deployment in align.yaml, with the delta a reviewer needs: GPU,
    memory per GPU and in total, hourly price and monthly cost (730 h), architecture, with percentages.
    Added and removed deployments are reported too.

    Why it matters: a pull request that edits the deployment changes what every other check compares
    against, so the change itself must be visible and deliberate.

    Example: "Deployment `production` changes: H200 → GH200: 141 → 96 GB per GPU (−32 %), 3 × 141 = 423 →
    3 × 96 = 288 GB total, $2.49 → $1.49/h (−40 %), $5,453 → $3,263 per month, x86_64 → arm64".

    Fix: none: a notice, not a mistake.
    """

    id = "manifest-changed"
    default_severity = Severity.NOTICE
    summary = "The pull request changes a deployment in align.yaml: the delta, with percentages."
    fix_safe = False

    def check(self, ctx: ReviewContext) -> Iterator[Finding]:
        base = ctx.base_manifest
        if base is None:
            return
        path = ctx.manifest.path
        manifest_file = next((f for f in ctx.files if f.path == path), None)
        old_by_name = {d.name: d for d in base.deployments}
        new_names = {d.name for d in ctx.deployments}

        def in_diff(line: int) -> bool:
            return manifest_file is not None and manifest_file.is_changed(line)

        for new in ctx.deployments:
            old = old_by_name.get(new.name)
            line = new.line or 1
            parts: list[str] = []
            if old is None:
                message = f"Deployment `{new.name}` added: {_headline(new)}."
            else:
                parts = describe_delta(old, new)
                if not parts:
                    continue
                head, rest = (parts[0], parts[1:]) if old.gpu.name != new.gpu.name else ("", parts)
                delta = f"{head}: {', '.join(rest)}" if head and rest else head or ", ".join(rest)
                message = f"Deployment `{new.name}` changes: {delta}."
            yield self.finding(
                path, line, message, evidence=message, deployment=new, in_diff=in_diff(line), details=tuple(parts)
            )
        for old in base.deployments:
            if old.name not in new_names:
                message = f"Deployment `{old.name}` removed (was {_headline(old)})."
                yield self.finding(path, 1, message, evidence=message, in_diff=in_diff(1))
