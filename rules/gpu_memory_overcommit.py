"""gpu-memory-overcommit: GPU memory allocations that together do not fit in one GPU."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from align.context import ReviewContext, SourceFile
from align.findings import Finding, Severity
from align.formats import Assignment
from align.manifest import Deployment
from align.quantities import (
    MemoryAmount,
    find_memory,
    format_gb,
    format_number,
    memory_number_text,
    parse_memory,
    unit_from_name,
)
from align.rule_api import BaseRule
from align.rules._claims import (
    KEY_MEMO,
    changed_in,
    default_memory_unit,
    key_shape,
    memory_key_kind,
    number_span,
    path_words,
    semantic_key,
    semantic_key_of,
    table_cells,
    table_header,
    table_row_lines,
    value_column,
    words,
)
from align.rules._lines import changed_matching
from align.rules._text import apply_edits, reviewed_files

_POOL_PARENT = frozenset({"pool", "pools", "memory", "mem", "allocation", "allocations", "alloc", "budget",
                          "budgets", "vram", "hbm", "gpu", "tiers", "partitions"})
_NOT_GPU_PARENT = frozenset({"limits", "requests", "resources", "ram", "host", "system", "cpu", "disk",
                             "storage", "redis", "jvm", "heap", "shm", "swap", "ephemeral", "total", "cluster",
                             "fleet", "nodes", "volumes", "volume", "pvc", "persistence"})
_NOT_POOL = frozenset({"total", "capacity", "available", "max", "min", "limit", "utilization", "util", "fraction",
                       "ratio", "percent", "pct", "count", "num", "host", "ram", "cpu", "system", "nvme", "ssd",
                       "disk", "storage", "swap", "lpddr", "ddr", "shm", "redis", "s3", "threshold", "alert",
                       "gpu", "vram", "hbm", "size", "per"})
_NAME_NOISE = frozenset({"gb", "gib", "mib", "mb", "tb", "memory", "mem", "pool", "alloc", "allocation", "size"})
_UTILIZATION_FLAG = re.compile(
    r"--gpu[-_]memory[-_]utilization[\"']?(?:\s*,\s*|[=\s]+)[\"']?(?P<value>\d+(?:\.\d+)?)"
)
_SAFE_UTILIZATION = "0.9"  # vLLM's own default


@dataclass(frozen=True, slots=True)
class _Pool:
    name: str  # as written
    line: int
    amount: MemoryAmount  # columns are the line's (start = the digits)

    @property
    def gb(self) -> float:
        return self.amount.nominal_gb


class GpuMemoryOvercommit(BaseRule):
    """Catches GPU memory allocations that together exceed one GPU: a group of sibling pool sizes (a
    Python dict or dataclass, a YAML block, a Markdown table: `active_models: 60`, `inference_cache: 40`,
    `vector_cache: 30`, `buffer: 11` = 141 GB on a 96 GB GH200), one pool above the size declared for it
    in align.yaml `memory_pools_gb`, or vLLM's `gpu_memory_utilization` above 1.0.

    Why it matters: the last pool to allocate gets CUDA out-of-memory at start-up or, worse, under load.

    Example: pools 60 + 40 + 30 + 11 = 141 GB > 96 GB → scale ×0.68; the suggestion sets the pools
    align.yaml declares (40 / 30 / 20 / 6) when the names match, else each pool scaled down by 96/141 and
    rounded down, so the sum fits.

    Host memory (`resources.limits.memory`, Redis `maxmemory`, RAM tiers) is not GPU memory.

    Fix: safe for the sizes it suggests (they fit by construction); whether a workload still runs with
    smaller pools is for a human to judge, so review the new values.
    """

    id = "gpu-memory-overcommit"
    default_severity = Severity.ERROR
    summary = "GPU memory allocations together exceed one GPU's memory (or a declared pool size)."
    fix_safe = True
    file_local = True  # a file's findings depend on that file and the manifest alone

    def check(self, ctx: ReviewContext) -> Iterator[Finding]:
        for source_file, deployment in reviewed_files(ctx):
            declared = {_pool_key(name): gb for name, gb in deployment.memory_pools_gb}
            flagged: set[int] = set()
            for group, where in [*_assignment_groups(source_file, declared), *_table_groups(source_file, declared)]:
                lines = range(group[0].line, group[-1].line + 1)
                if not changed_in(source_file, lines.start, lines.stop - 1):
                    continue
                if sum(p.gb for p in group) > deployment.gpu_memory_gb + 0.01:
                    flagged.update(lines)
                    yield self._overcommit(source_file, group, where, declared, deployment)
            yield from self._single_pools(source_file, declared, deployment, flagged)
            yield from self._oversized(source_file, deployment, flagged)
            yield from self._utilization(source_file, deployment)

    # ---- a group that does not fit

    def _overcommit(
        self, source_file: SourceFile, group: list[_Pool], where: str, declared: dict[str, float],
        deployment: Deployment,
    ) -> Finding:
        memory = deployment.gpu_memory_gb
        total = sum(p.gb for p in group)
        factor = memory / total
        adjusted = _adjusted(group, declared, factor, memory)
        terms = " + ".join(_num(p.gb) for p in group)
        arithmetic = f"{terms} = {format_gb(_round(total))} > {format_gb(memory)}"
        from_declared = all(_pool_key(p.name) in declared for p in group) and adjusted == [
            declared[_pool_key(p.name)] for p in group
        ]
        details = (
            arithmetic,
            f"scale factor ×{math.floor(factor * 100) / 100:.2f} ({_num(memory)} / {_num(total)})",
            *(f"{p.name}: {_num(p.gb)} GB → {_num(new)} GB" for p, new in zip(group, adjusted, strict=True)),
            *(("adjusted values from align.yaml memory_pools_gb",) if from_declared else ()),
        )
        first, last = group[0].line, group[-1].line
        edits: dict[int, list[tuple[int, int, str]]] = {}
        for pool, new in zip(group, adjusted, strict=True):
            amount = pool.amount
            edits.setdefault(pool.line, []).append(
                (amount.start, amount.start + len(amount.number_text), memory_number_text(new, amount))
            )
        lines = [apply_edits(source_file.line_text(n), edits.get(n, [])) for n in range(first, last + 1)]
        return self.finding(
            source_file,
            first,
            f"GPU memory pools in {where} add up to {format_gb(_round(total))}, more than one "
            f"{deployment.gpu.name}'s {format_gb(memory)}: {arithmetic}.",
            evidence=" ".join(f"{p.name}={p.amount.number_text}{p.amount.unit_text}" for p in group),
            deployment=deployment,
            end_line=last,
            in_diff=changed_in(source_file, first, last),
            suggestion="\n".join(lines),
            component="GPU memory pools",
            stated=f"{format_gb(_round(total))} ({terms})",
            expected=f"≤ {format_gb(memory)}",
            details=details,
        )

    # ---- one pool above its declared size

    def _single_pools(
        self, source_file: SourceFile, declared: dict[str, float], deployment: Deployment, flagged: set[int]
    ) -> Iterator[Finding]:
        if not declared:
            return
        table_rows = table_row_lines(source_file)
        for assignment in source_file.facts.assignments:
            line = assignment.line
            if line in flagged or line != assignment.end_line or not source_file.is_changed(line):
                continue
            if line in table_rows:
                continue  # tables are read as a whole: a "current | adjusted" row is no allocation
            name = semantic_key(assignment)
            limit = declared.get(_pool_key(name))
            if limit is None:
                continue  # not a pool align.yaml declares: its value is not read
            pool = _as_pool(source_file, assignment, require_unit=True)
            if pool is None or pool.gb <= limit + 0.01:
                continue
            flagged.add(line)
            text = source_file.line_text(line)
            amount = pool.amount
            edit = (amount.start, amount.start + len(amount.number_text), memory_number_text(limit, amount))
            yield self.finding(
                source_file,
                line,
                f"Pool `{name}` takes {format_gb(_round(pool.gb))} of GPU memory, above the {format_gb(limit)} "
                f"align.yaml declares for it (memory_pools_gb.{_declared_name(deployment, name)}).",
                evidence=text,
                deployment=deployment,
                suggestion=apply_edits(text, [edit]),
                component=f"Memory pool {name}",
                stated=format_gb(_round(pool.gb)),
                expected=f"≤ {format_gb(limit)}",
            )

    # ---- one GPU memory allocation bigger than the GPU

    def _oversized(self, source_file: SourceFile, deployment: Deployment, flagged: set[int]) -> Iterator[Finding]:
        """`gpu_memory_pool_size: 128849018880` (120 GiB) on a 96 GB GPU: no pool fits that."""
        memory = deployment.gpu_memory_gb
        for assignment in source_file.facts.assignments:
            line = assignment.line
            if line in flagged or line != assignment.end_line or not source_file.is_changed(line):
                continue
            if not _is_gpu_allocation_key(key_shape(assignment.key_path)):
                continue
            value = assignment.value
            if value is None or isinstance(value, bool):
                continue
            key_unit = unit_from_name(semantic_key(assignment))
            amount = parse_memory(str(value), key_unit)
            if amount is not None and not amount.unit:
                amount = parse_memory(str(value), default_memory_unit(amount.number))
            if amount is None or amount.nominal_gb <= memory * 1.01:
                continue
            flagged.add(line)
            name = semantic_key(assignment)
            yield self.finding(
                source_file,
                line,
                f"`{name}` reserves {format_gb(_round(amount.nominal_gb))} of GPU memory, more than one "
                f"{deployment.gpu.name} has ({format_gb(memory)}).",
                evidence=source_file.line_text(line),
                deployment=deployment,
                component=f"GPU memory allocation {name}",
                stated=format_gb(_round(amount.nominal_gb)),
                expected=f"≤ {format_gb(memory)}",
            )

    # ---- vLLM's gpu_memory_utilization

    def _utilization(self, source_file: SourceFile, deployment: Deployment) -> Iterator[Finding]:
        seen: set[int] = set()
        candidates: list[tuple[int, float, str, int]] = []  # line, value, as written, column
        for assignment in source_file.facts.assignments:
            if _is_utilization_key(key_shape(assignment.key_path)):
                value = assignment.value
                if isinstance(value, int | float) and not isinstance(value, bool):
                    text = source_file.line_text(assignment.line)
                    raw = assignment.raw.strip().strip("\"'")
                    span = number_span(text, raw, value_column(text, assignment))
                    if span is not None:
                        candidates.append((assignment.line, float(value), raw, span[0]))
        for line in changed_matching(source_file, _UTILIZATION_FLAG):
            for match in _UTILIZATION_FLAG.finditer(source_file.line_text(line)):
                candidates.append((line, float(match.group("value")), match.group("value"), match.start("value")))
        for line, value, raw, column in candidates:
            if value <= 1.0 or line in seen or not source_file.is_changed(line):
                continue
            seen.add(line)
            text = source_file.line_text(line)
            yield self.finding(
                source_file,
                line,
                f"gpu_memory_utilization {raw} asks vLLM for {value:.0%} of each {deployment.gpu.name}'s "
                f"{format_gb(deployment.gpu_memory_gb)}; it is a fraction of one GPU and must be at most 1.0.",
                evidence=text,
                deployment=deployment,
                suggestion=apply_edits(text, [(column, column + len(raw), _SAFE_UTILIZATION)]),
                component="GPU memory utilization",
                stated=raw,
                expected="≤ 1.0",
            )


_ALLOCATION = frozenset({"pool", "alloc", "allocation", "reserve", "reserved", "reservation", "arena", "budget"})


@lru_cache(maxsize=KEY_MEMO)
def _is_gpu_allocation_key(key_path: tuple[str, ...]) -> bool:
    """A key that sizes one allocation of GPU memory: `gpu_memory_pool_size`, `cuda_mem_pool_bytes`."""
    leaf = set(words(semantic_key_of(key_path)))
    gpu = bool(leaf & {"gpu", "cuda", "device", "vram", "hbm"})
    return gpu and bool(leaf & {"memory", "mem", "vram", "hbm"} | leaf & {"vram", "hbm"}) and bool(leaf & _ALLOCATION)


@lru_cache(maxsize=KEY_MEMO)
def _is_utilization_key(key_path: tuple[str, ...]) -> bool:
    leaf = set(words(semantic_key_of(key_path)))
    return {"gpu", "memory"} <= leaf and bool(leaf & {"utilization", "util", "utilisation"})


# ---- finding pools


def _pool_key(name: str) -> str:
    """ "ACTIVE_MODELS_GB", "activeModelsGiB", "active-models" -> "active_models"."""
    return "_".join(w for w in words(name) if w not in _NAME_NOISE)


def _declared_name(deployment: Deployment, name: str) -> str:
    return next((n for n, _ in deployment.memory_pools_gb if _pool_key(n) == _pool_key(name)), name)


def _as_pool(source_file: SourceFile, assignment: Assignment, *, require_unit: bool, default_unit: str | None = None
             ) -> _Pool | None:
    value = assignment.value
    if value is None or isinstance(value, bool) or memory_key_kind(assignment) is not None:
        return None
    name = semantic_key(assignment)
    if set(words(name)) & _NOT_POOL:
        return None
    parent_unit = next((unit_from_name(p) for p in reversed(assignment.key_path[:-1]) if unit_from_name(p)), None)
    unit = unit_from_name(name) or parent_unit or default_unit
    amount = parse_memory(str(value), unit)
    if amount is None or amount.number <= 0 or (not amount.unit and require_unit):
        return None
    if not amount.unit:
        return None
    text = source_file.line_text(assignment.line)
    span = number_span(text, amount.number_text, value_column(text, assignment))
    if span is None:
        return None
    located = MemoryAmount(span[0], span[1], amount.text, amount.number, amount.number_text, amount.unit,
                           amount.unit_text)
    return _Pool(name, assignment.line, located)


def _assignment_groups(source_file: SourceFile, declared: dict[str, float]) -> Iterator[tuple[list[_Pool], str]]:
    by_parent: dict[tuple[str, ...], list[Assignment]] = {}
    table_rows = table_row_lines(source_file)
    for assignment in source_file.facts.assignments:
        if assignment.line == assignment.end_line and assignment.line not in table_rows:
            by_parent.setdefault(assignment.key_path[:-1], []).append(assignment)
    for parent, members in by_parent.items():
        parent_words = path_words(parent)
        if parent_words & _NOT_GPU_PARENT:
            continue
        pool_parent = bool(parent_words & _POOL_PARENT) and bool(parent)
        if not pool_parent and not declared:
            continue  # no pool parent, and no pool names to match
        named = sum(1 for a in members if _pool_key(semantic_key(a)) in declared)
        if not (pool_parent or named >= 2):
            continue
        if not pool_parent:
            # Module-level constants: only the pools align.yaml names, never every `*_GB` in the file.
            members = [a for a in members if _pool_key(semantic_key(a)) in declared]
        pools = [p for a in members if (p := _as_pool(source_file, a, require_unit=False, default_unit="GB"))]
        unique = {(p.line, p.amount.start): p for p in pools}
        group = sorted(unique.values(), key=lambda p: (p.line, p.amount.start))
        if len(group) >= 2:
            yield group, f"`{'.'.join(parent)}`" if parent else "this file"


def _table_groups(source_file: SourceFile, declared: dict[str, float]) -> Iterator[tuple[list[_Pool], str]]:
    """Markdown tables of pools: a name per row and one memory size in it ("| active_models | 60 GB |")."""
    lines = source_file.lines
    rows = sorted(table_row_lines(source_file))
    index = 0
    while index < len(rows):
        first = rows[index]
        row = first
        while index < len(rows) and rows[index] == row:
            index += 1
            row += 1
        body = list(range(first + 2, row))
        header = table_header(lines, first + 2) if body else None
        if header is None:
            continue
        header_words = {w for c in header for w in words(c.text)}
        pools: list[_Pool] = []
        for number in body:
            text = lines[number - 1]
            cells = table_cells(text)
            label = cells[0].text if cells else ""
            amounts = [a for c in cells[1:] for a in find_memory(text[c.start : c.end])
                       if a.text == text[c.start : c.end].replace("**", "").strip()]
            if len(amounts) != 1 or not label or set(words(label)) & _NOT_POOL:
                pools = []
                break  # a comparison table ("current | adjusted") or a table of something else
            cell = next(c for c in cells[1:] if find_memory(text[c.start : c.end]))
            at = cell.start + text[cell.start : cell.end].find(amounts[0].number_text)
            amount = amounts[0]
            pools.append(_Pool(label, number, MemoryAmount(at, at + len(amount.text), amount.text, amount.number,
                                                           amount.number_text, amount.unit, amount.unit_text)))
        named = sum(1 for p in pools if _pool_key(p.name) in declared)
        if len(pools) >= 2 and (header_words & {"pool", "pools", "allocation", "budget"} or named >= 2):
            yield pools, "the table"


def _adjusted(group: list[_Pool], declared: dict[str, float], factor: float, memory: float) -> list[float]:
    """New sizes that fit: the declared pool sizes where the names match, else scaled down and floored."""
    scaled = [math.floor(p.gb * factor) if p.gb * factor >= 1 else math.floor(p.gb * factor * 10) / 10 for p in group]
    mixed = [declared.get(_pool_key(p.name), s) for p, s in zip(group, scaled, strict=True)]
    return mixed if sum(mixed) <= memory + 1e-9 else scaled


def _num(value: float) -> str:
    value = _round(value)
    return format_number(value, "" if float(value).is_integer() else "0.0")


def _round(value: float) -> float:
    return round(value) if abs(value - round(value)) < 0.05 else round(value, 1)
