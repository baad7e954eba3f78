"""stale-reference: after a deployment change, every file that still states the old GPU, memory or price."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from align.context import ReviewContext, SourceFile
from align.findings import Finding, Severity
from align.manifest import Deployment
from align.quantities import find_memory, find_prices, format_money, memory_number_text, same_memory
from align.rule_api import BaseRule
from align.rules._text import (
    LineKinds,
    apply_edits,
    claimed_gpus,
    equivalent_spelling,
    inside_file_name,
    is_manifest_path,
    mentions_of,
)
from align.scope.blocks import LineBinding

_GPU_MEMORY_LINE = re.compile(r"\b(?:gpus?|vram|hbm\w*|per[\s-]gpu)\b|gpu_?mem|gpuMem", re.IGNORECASE)
_MEMORY_WORD = re.compile(r"\bmemory\b", re.IGNORECASE)
# Bare numbers that only a key or a unit makes a memory size or an hourly price.
_MEMORY_KEY = re.compile(
    r"(?i:\b\w*(?:gpu_?mem\w*|vram\w*|hbm\w*)[\"']?\s*[:=]\s*[\"']?)(?P<number>\d+(?:\.\d+)?)(?![\d.]|\s*[A-Za-z])"
)
_BARE_RATE = re.compile(
    r"(?<![\d.$])(?P<number>\d+\.\d+)\s*(?:/\s*(?:gpu[-\s]?)?(?:h|hr|hour)\b|per\s+(?:gpu[-\s]?)?hour\b)",
    re.IGNORECASE,
)
_PRICE_KEY = re.compile(
    r"(?i:\b\w*(?:price|cost|rate)\w*[\"']?\s*[:=]\s*[\"']?)(?P<number>\d+\.\d+)(?![\d.])"
)
_HOST_MEMORY = re.compile(r"^\s*[\"']?(?:memory|mem_limit|shm_size)[\"']?\s*:|--memory\b|\bram\b|\bhost\b", re.I)


@dataclass(frozen=True)
class _Change:
    """One deployment's base → head change, with what to look for in files that were not updated."""

    old: Deployment
    new: Deployment

    @property
    def gpu_changed(self) -> bool:
        return not self.old.gpu.same_model(self.new.gpu)

    @property
    def memory_changed(self) -> bool:
        return abs(self.old.gpu_memory_gb - self.new.gpu_memory_gb) > 0.5

    @property
    def price_changed(self) -> bool:
        return abs(self.old.price_per_gpu_hour - self.new.price_per_gpu_hour) >= 0.005

    def needles(self) -> re.Pattern[str]:
        """Substrings one of which a line must contain to be worth a closer look (case-insensitive)."""
        found: list[str] = []
        if self.gpu_changed:
            gpu = self.old.gpu
            for spelling in (gpu.name, gpu.family, *gpu.aliases, *gpu.product_labels, *gpu.node_labels,
                             *gpu.instance_types):
                # Spellings match with any separator, so look for one chunk: the longest with a digit.
                chunks = [c for c in re.split(r"[\s_\-*?\[\]]", spelling.lower()) if c]
                if chunks:
                    found.append(max(chunks, key=lambda c: (any(ch.isdigit() for ch in c), len(c))))
        if self.memory_changed:
            found.append(f"{self.old.gpu_memory_gb:g}")
        if self.price_changed:
            found.append(f"{self.old.price_per_gpu_hour:.2f}".rstrip("0").rstrip("."))
        if not found:
            return re.compile(r"(?!)")  # matches nothing
        return re.compile("|".join(re.escape(n) for n in sorted(set(found), key=len, reverse=True)), re.IGNORECASE)


@dataclass(frozen=True)
class _Stale:
    start: int
    end: int
    stated: str
    component: str
    previous: str  # the deployment's value at base
    expected: str  # ... and at head
    replacement: str | None


_WHAT = {"GPU model": "GPU", "GPU memory": "memory per GPU", "GPU price": "price per GPU-hour"}


class StaleReference(BaseRule):
    """Lists, after a pull request changes a deployment's GPU, memory or price in align.yaml, every file in
    the repository (not only the diff) that still states the old value: the old GPU (any name, label or
    instance type the catalog knows, token-bounded), the old per-GPU memory ("141GB", "141 GiB") on lines
    about GPU memory, the old hourly price ("$2.49", "2.49/hour").

    Why it matters: a migration is only done when nothing still describes the old hardware; a forgotten
    runbook or node selector is the next incident.

    Example: align.yaml goes H200 → GH200 and `docs/runbook.md` still says "Drain the H200 nodes" →
    "Stale: states H200, but this change moves deployment `production`'s GPU from H200 to GH200",
    suggesting "Drain the GH200 nodes".

    Prose that compares the two on purpose ("migrated from H200 to GH200") is left alone; align.yaml
    itself is never reported.

    Fix: safe for GPU names and prices (the new value, written the same way); memory suggestions keep
    the unit as written.
    """

    id = "stale-reference"
    default_severity = Severity.WARNING
    summary = "After a deployment change, a file in the repository still states the old GPU, memory or price."
    fix_safe = True

    def check(self, ctx: ReviewContext) -> Iterator[Finding]:
        changes = _changes(ctx)
        if not changes:
            return
        changed_files = {f.path: f for f in ctx.files}
        needles = {name: change.needles() for name, change in changes.items()}
        for source_file in ctx.repository_files():
            if is_manifest_path(ctx, source_file.path):
                continue
            deployment = ctx.deployment_for(source_file)
            change = changes.get(deployment.name) if deployment else None
            if change is None:
                continue
            candidates = _candidate_lines(source_file.text, needles[change.new.name])
            if not candidates:
                continue
            current = changed_files.get(source_file.path)
            kinds = LineKinds(source_file)  # not kept on the file: each repository file is read once
            scope = ctx.file_scope(source_file)
            for line in candidates:
                text = source_file.line_text(line)
                in_diff = current is not None and current.is_changed(line)
                binding = ctx.line_binding(source_file, change.new, line) if scope.bound else None
                if binding is not None and not binding.bound and not ctx.audit:
                    continue
                stales = _stale_on_line(ctx, source_file, kinds, line, text, change)
                # Every occurrence's suggestion is the line with all of them fixed, one string shared by
                # all (the engine would merge them into that anyway): one copy of the line, not one each.
                edits = [(s.start, s.end, s.replacement) for s in stales if s.replacement is not None]
                fixed = apply_edits(text, edits)
                for stale in stales:
                    suggestion = fixed if stale.replacement is not None else None
                    yield self.finding(
                        source_file.path,
                        line,
                        f"Stale: states {stale.stated}, but this change moves deployment `{change.new.name}`'s "
                        f"{_WHAT[stale.component]} from {stale.previous} to {stale.expected}.",
                        evidence=f"{stale.stated} in {_around(text, stale.start, stale.end)}",
                        deployment=change.new,
                        suggestion=suggestion,
                        in_diff=in_diff,
                        component=stale.component,
                        stated=stale.stated,
                        expected=stale.expected,
                        bound_by=_bound_by(scope.reason, binding),
                    )


_EVIDENCE_LINE = 2_000  # longer lines: the evidence is the text around the occurrence, not the whole line


def _around(text: str, start: int, end: int) -> str:
    """The line as evidence, or on a long line the words around the occurrence (one finding per occurrence
    must not copy a megabyte each)."""
    if len(text) <= _EVIDENCE_LINE:
        return text
    return text[max(0, start - 100) : end + 100]


def _bound_by(file_reason: str, binding: LineBinding | None) -> str:
    if binding is None:  # the file itself is out of scope (an audit reads it anyway)
        return f"unbound: {file_reason}"
    if not binding.bound:
        return f"unbound: {binding.reason}"
    return file_reason + (f"; {binding.reason}" if binding.reason else "")


def _candidate_lines(text: str, needles: re.Pattern[str]) -> list[int]:
    """1-based numbers of the lines where a needle occurs, found in one pass over the whole text."""
    lines: list[int] = []
    line, position = 1, 0
    for match in needles.finditer(text):
        line += text.count("\n", position, match.start())
        position = match.start()
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines


def _changes(ctx: ReviewContext) -> dict[str, _Change]:
    base = ctx.base_manifest
    if base is None:
        return {}
    old_by_name = {d.name: d for d in base.deployments}
    changes = {}
    for new in ctx.deployments:
        old = old_by_name.get(new.name)
        if old is None:
            continue
        change = _Change(old, new)
        if change.gpu_changed or change.memory_changed or change.price_changed:
            changes[new.name] = change
    return changes


def _stale_on_line(
    ctx: ReviewContext, source_file: SourceFile, kinds: LineKinds, line: int, text: str, change: _Change
) -> list[_Stale]:
    found: list[_Stale] = []
    if change.gpu_changed:
        found.extend(_stale_gpus(ctx, source_file, kinds, line, text, change))
    if change.memory_changed:
        found.extend(_stale_memory(ctx, text, change))
    if change.price_changed:
        found.extend(_stale_prices(text, change))
    # One finding per occurrence; overlapping readings of the same text (a price regex and a key) count once.
    unique: list[_Stale] = []
    reach = -1  # the end of the furthest-reaching one kept: by start, only it can overlap the next
    for stale in sorted(found, key=lambda s: (s.start, -s.end)):
        if stale.start >= reach or not any(u.start < stale.end and stale.start < u.end for u in unique):
            unique.append(stale)
            reach = max(reach, stale.end)
    return unique


def _stale_gpus(
    ctx: ReviewContext, source_file: SourceFile, kinds: LineKinds, line: int, text: str, change: _Change
) -> Iterator[_Stale]:
    old, new = change.old.gpu, change.new.gpu
    # "Migrated from H200 to GH200" records the change: only mentions that state a GPU count.
    for mention in claimed_gpus(ctx, source_file, kinds, line, new):
        if not mention.gpu.same_model(old):
            continue
        replacement = equivalent_spelling(mention, change.new)
        if inside_file_name(text, mention.start, mention.end):
            replacement = None
        yield _Stale(mention.start, mention.end, mention.text, "GPU model", old.name, new.name, replacement)


def _stale_memory(ctx: ReviewContext, text: str, change: _Change) -> Iterator[_Stale]:
    about_gpu = _GPU_MEMORY_LINE.search(text) is not None or bool(mentions_of(ctx, text))
    if not about_gpu and (_HOST_MEMORY.search(text) or not _MEMORY_WORD.search(text)):
        return
    old, new = change.old.gpu_memory_gb, change.new.gpu_memory_gb
    for match in _MEMORY_KEY.finditer(text):
        if abs(float(match.group("number")) - old) < 0.5:
            start, end = match.span("number")
            yield _Stale(start, end, match.group(0).strip(), "GPU memory", f"{old:g} GB", f"{new:g} GB", f"{new:g}")
    for amount in find_memory(text):
        if amount.unit not in ("GB", "GiB", "MiB", "MB", "TB", "TiB"):
            continue
        if not same_memory(amount, old, tolerance=0.01) or same_memory(amount, new, tolerance=0.01):
            continue
        number_start = text.find(amount.number_text, amount.start)
        yield _Stale(
            number_start,
            number_start + len(amount.number_text),
            amount.text,
            "GPU memory",
            f"{old:g} GB",
            f"{new:g} GB",
            memory_number_text(new, amount),
        )


def _stale_prices(text: str, change: _Change) -> Iterator[_Stale]:
    old, new = change.old.price_per_gpu_hour, change.new.price_per_gpu_hour
    for pattern in (_BARE_RATE, _PRICE_KEY):
        for match in pattern.finditer(text):
            if abs(float(match.group("number")) - old) < 0.005:
                start, end = match.span("number")
                number = match.group("number")
                decimals = len(number.split(".", 1)[1]) if "." in number else 2
                yield _Stale(start, end, match.group(0).strip(), "GPU price", f"${old:.2f}/h", f"${new:.2f}/h",
                             f"{new:.{max(decimals, 2)}f}")
    for price in find_prices(text):
        if price.per_unit is not None or price.period not in (None, "hour"):
            continue
        if price.period is None and "." not in price.amount_text:
            continue  # `$3` alone is a shell or awk positional parameter as often as three dollars
        if abs(price.amount - old) >= 0.005:
            continue
        number_start = text.find(price.amount_text, price.start)
        yield _Stale(
            number_start,
            number_start + len(price.amount_text),
            price.text.strip(),
            "GPU price",
            f"${old:.2f}/h",
            f"${new:.2f}/h",
            format_money(new, price),
        )
