"""Where a file states a quantity: key names that mean GPU memory, counts or prices, Markdown table cells,
and number edits that touch only the digits. Shared by the memory, capacity, cost and arithmetic rules."""

from __future__ import annotations

import itertools
import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from align.context import SourceFile
from align.formats import Assignment
from align.rules._lines import lines_containing
from align.rules._text import LineKinds

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_GENERIC_LEAVES = frozenset({"default", "value", "val", "initial", "setting"})


_NOT_WORD = re.compile(r"[^A-Za-z0-9]+")
# The same few key names recur across thousands of files: what they mean is worked out once per name.
# Room for every key of a dense file (one holds at most MAX_FILE_NUMBERS numbered keys as a review reads it):
# with less, rules that each walk 15,000 keys in turn evict one another's answers (LRU at its worst), and a
# file of `GPU_<n>=...` lines cost 3.3x an ordinary one (2.3x with room). Memory: 9 MB more for that file.
KEY_MEMO = 32_768


def words(name: str) -> list[str]:
    """ "gpuMemoryGiB" -> [gpu, memory, gib]; "GPU_MEMORY_GB" -> [gpu, memory, gb]; "nvidia.com/gpu.memory"
    -> [nvidia, com, gpu, memory]."""
    return list(_words(name))


@lru_cache(maxsize=KEY_MEMO)
def _words(name: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in _NOT_WORD.split(_CAMEL.sub("_", name)) if w)


@lru_cache(maxsize=KEY_MEMO)  # asked by every rule of every assignment: remembered per key path
def key_shape(key_path: tuple[str, ...]) -> tuple[str, ...]:
    """The key path without list indexes: what every key-name question depends on, so that the answers
    cached for `items.0.gpu` serve `items.1.gpu` (a data file holds millions of such paths)."""
    for part in key_path:  # most paths hold no list index: return them as they are, without a copy
        if part.isdigit():
            return tuple(p for p in key_path if not p.isdigit())
    return key_path


def semantic_key(assignment: Assignment) -> str:
    """The name that says what a value means: the leaf key, or its parent for Terraform's
    `variable "gpu_count" { default = 8 }` and similar `value` wrappers."""
    return semantic_key_of(key_shape(assignment.key_path))


@lru_cache(maxsize=KEY_MEMO)
def semantic_key_of(key_path: tuple[str, ...]) -> str:
    """`semantic_key` of an assignment with this key path."""
    path = [p for p in key_path if not p.isdigit()]
    while len(path) > 1 and path[-1].lower() in _GENERIC_LEAVES:
        path.pop()
    return path[-1] if path else ""


def context_words(assignment: Assignment) -> set[str]:
    """Words of every key on the path: a `memory` leaf under `gpu:` is GPU memory, under `limits:` it is not."""
    return set(path_words(key_shape(assignment.key_path)))


@lru_cache(maxsize=KEY_MEMO)
def path_words(key_path: tuple[str, ...]) -> frozenset[str]:
    """Words of every key in `key_path` (see `words`)."""
    return frozenset(w for part in key_path for w in _words(part))


def changed_in(source_file: SourceFile, first: int, last: int) -> bool:
    return any(source_file.is_changed(line) for line in range(first, last + 1))


def number_span(line_text: str, number_text: str, start: int = 0) -> tuple[int, int] | None:
    """The token-bounded occurrence of `number_text` at or after column `start` (never inside 1410 or 3.141)."""
    pattern = _number_pattern(number_text)
    match = pattern.search(line_text, start) or pattern.search(line_text)
    return (match.start(), match.end()) if match else None


@lru_cache(maxsize=1024)
def _number_pattern(number_text: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.])(?<!\d,){re.escape(number_text)}(?!\d|,\d{{3}}|\.\d)")


def value_column(line_text: str, assignment: Assignment) -> int:
    """Where the assignment's value starts on its line: after its key when the key is on the line."""
    key = semantic_key(assignment)
    at = line_text.find(key) if key else -1
    start = at + len(key) if at >= 0 else 0
    raw_at = line_text.find(assignment.raw.strip(), start) if assignment.raw.strip() else -1
    return raw_at if raw_at >= 0 else start


def is_human_text(kinds: LineKinds, source_file: SourceFile, line: int, column: int) -> bool:
    """A comment, Markdown prose or table row, or a string that reads as a sentence: text people write,
    where a false claim is not caught by any compiler."""
    text = source_file.line_text(line)
    if kinds.is_prose(line, column, text):
        return True
    # Config strings (`description: "3 × 141 = 400"`) carry sentences too, though no span marks them.
    for assignment in source_file.facts.assignments:
        if assignment.line == line and isinstance(assignment.value, str) and len(assignment.value.split()) >= 3:
            at = text.find(assignment.raw.strip())
            if at >= 0 and at <= column < at + len(assignment.raw.strip()):
                return True
    return False


# ---------------------------------------------------------------- Markdown tables


@dataclass(frozen=True, slots=True)
class Cell:
    start: int  # columns in the row's line
    end: int
    text: str  # stripped, emphasis removed


_MAX_TABLE_WALK = 300  # rows looked at above or below a row: bounds the work on huge generated tables
_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")


def is_table_row(line_text: str) -> bool:
    return line_text.lstrip().startswith("|") and line_text.count("|") >= 2


def table_row_lines(source_file: SourceFile) -> frozenset[int]:
    """1-based numbers of the file's lines that are Markdown table rows (`is_table_row`), found once."""
    return source_file.derived(_table_row_lines)


def _table_row_lines(source_file: SourceFile) -> frozenset[int]:
    lines = source_file.lines
    return frozenset(n for n in lines_containing(source_file, ("|",)) if is_table_row(lines[n - 1]))


_BAR = re.compile(r"(?<!\\)\|")


def table_cells(line_text: str) -> list[Cell]:
    """The cells of a Markdown table row, with their columns (escaped pipes are not separators)."""
    bars = [m.start() for m in _BAR.finditer(line_text)]
    cells = []
    for left, right in itertools.pairwise(bars):
        raw = line_text[left + 1 : right]
        stripped = raw.strip()
        start = left + 1 + raw.find(stripped) if stripped else left + 1
        cells.append(Cell(start, start + len(stripped), stripped.replace("**", "").replace("`", "").strip()))
    return cells


def table_header(lines: list[str], line: int) -> list[Cell] | None:
    """The header row of the table that `line` (1-based) belongs to, when `line` is a body row."""
    row = line - 1
    while row > 0 and line - row < _MAX_TABLE_WALK and is_table_row(lines[row - 1]):
        row -= 1
    # `row` is now the first table line (0-based); a header is followed by a separator line.
    if row + 1 < len(lines) and _SEPARATOR.match(lines[row + 1]) and line - 1 > row + 1:
        return table_cells(lines[row])
    return None


def table_rows(lines: list[str], line: int) -> range:
    """1-based body rows of the table `line` is in (empty when it is no table row)."""
    if not is_table_row(lines[line - 1]):
        return range(0)
    first = line
    while first > 1 and line - first < _MAX_TABLE_WALK and is_table_row(lines[first - 2]):
        first -= 1
    last = line
    while last < len(lines) and last - line < _MAX_TABLE_WALK and is_table_row(lines[last]):
        last += 1
    if first + 1 <= last and _SEPARATOR.match(lines[first]):
        return range(first + 2, last + 1)
    return range(first, last + 1)


def cell_at(cells: list[Cell], column: int) -> int | None:
    for index, cell in enumerate(cells):
        if cell.start <= column <= cell.end:
            return index
    return None


class _TableRowCells(dict[int, "tuple[list[Cell] | None, list[Cell], list[int]] | None"]):
    """Per line of one file: None when it is no table row, else its header, cells and cell starts (a row
    with many amounts asks for each of them: its cells are found once)."""

    def __init__(self, _source_file: SourceFile) -> None:
        super().__init__()


def column_header(source_file: SourceFile, line: int, column: int) -> str:
    """The header text above the table cell at `column` of `line` ("" outside a table)."""
    rows = source_file.derived(_TableRowCells)
    if line not in rows:
        text = source_file.line_text(line)
        if not is_table_row(text):
            rows[line] = None
        else:
            cells = table_cells(text)
            rows[line] = (table_header(source_file.lines, line), cells, [c.start for c in cells])
    row = rows[line]
    if row is None:
        return ""
    header, cells, starts = row
    at = bisect_right(starts, column) - 1  # cells are in order and apart: only this one can hold the column
    index = at if at >= 0 and column <= cells[at].end else None
    if header is None or index is None or index >= len(header):
        return ""
    return header[index].text


def row_label(line_text: str) -> str:
    """The first cell of a table row: what the row is about ("Memory/GPU", "Total Memory")."""
    cells = table_cells(line_text)
    return cells[0].text if cells else ""


def changed_lines(source_file: SourceFile) -> Iterator[int]:
    total = len(source_file.lines)
    for line in sorted(source_file.changed_lines):
        if 0 < line <= total:
            yield line


# ---------------------------------------------------------------- what a key means

_MEMORY = frozenset({"memory", "mem", "vram", "hbm", "hbm2", "hbm2e", "hbm3", "hbm3e"})
_DEVICE_MEMORY = frozenset({"vram", "hbm", "hbm2", "hbm2e", "hbm3", "hbm3e"})
_GPU = frozenset({"gpu", "gpus", "accelerator", "accelerators", "cuda"})
_TOTAL = frozenset({"total", "cluster", "aggregate", "combined", "all", "fleet", "sum", "overall"})
# A key with one of these words is a budget, limit, ratio or something else that may differ from a
# GPU's capacity on purpose (`gpu_memory_utilization`, `max_gpu_memory`, `gpu_memory_alert_gb`).
_NOT_CAPACITY = frozenset({
    "util", "utilization", "utilisation", "fraction", "frac", "ratio", "percent", "pct", "usage", "used",
    "free", "reserved", "reserve", "limit", "limits", "request", "requests", "alloc", "allocation",
    "allocated", "pool", "pools", "cache", "buffer", "headroom", "threshold", "alert", "warn", "warning",
    "critical", "min", "max", "target", "budget", "overhead", "available", "host", "cpu", "system", "shm",
    "swap", "disk", "storage", "per", "node", "nodes", "pod", "required", "requirement", "needed", "model",
    "models", "kv", "weights", "activation", "activations", "peak", "bandwidth", "bw", "speed", "clock",
})
_POOL_PARENTS = frozenset({"pool", "pools", "allocation", "allocations", "limits", "requests", "budget"})


def memory_key_kind(assignment: Assignment) -> str | None:
    """ "per_gpu" for keys that state one GPU's memory (`gpu_memory_gb`, `GPU_MEMORY_GB`, `gpuMemoryGiB`,
    `memory_per_gpu`, `vram`, `gpu: {memory: ...}`), "total" for all GPUs together (`TOTAL_GPU_MEMORY_GB`),
    None for everything else (host RAM, utilization ratios, pools, limits)."""
    return memory_key_kind_of(key_shape(assignment.key_path))


@lru_cache(maxsize=KEY_MEMO)
def memory_key_kind_of(key_path: tuple[str, ...]) -> str | None:
    """`memory_key_kind` of an assignment with this key path."""
    leaf = words(semantic_key_of(key_path))
    leaf_set = set(leaf)
    path = [p for p in key_path if not p.isdigit()]
    parent = set(words(path[-2])) if len(path) >= 2 else set()
    if parent & _POOL_PARENTS and not leaf_set & _GPU:
        return None  # `pools: {memory: 60}` is an allocation; `gpuPool: {gpuMemoryGb: 96}` is the GPU
    has_memory = bool(leaf_set & _MEMORY) or ("ram" in leaf_set and bool(leaf_set & _GPU))
    gpu_context = bool(leaf_set & _GPU) or bool(parent & _GPU)
    if not (leaf_set & _DEVICE_MEMORY or (has_memory and gpu_context)):
        return None
    total = bool(leaf_set & _TOTAL)
    if (leaf_set - ({"per"} if not total and "per" in leaf and _after(leaf, "per") & _GPU else set())) & _NOT_CAPACITY:
        return None
    return "total" if total else "per_gpu"


def _after(items: list[str], word: str) -> set[str]:
    index = items.index(word)
    return set(items[index + 1 : index + 2])


def default_memory_unit(number: float) -> str:
    """A unit-less GPU memory figure: GB when small, MiB (nvidia-smi, GFD labels) when large, else bytes."""
    if number < 2**14:
        return "GB"
    if number < 2**30:
        return "MiB"
    return "bytes"


def changed_assignments(source_file: SourceFile) -> Iterator[Assignment]:
    """Single-line assignments on changed lines. Markdown table cells are left to the rules' table
    reading, which tells a comparison table ("| 141GB | 96GB |") from a claim."""
    return iter(source_file.derived(_changed_assignments))


def _changed_assignments(source_file: SourceFile) -> tuple[Assignment, ...]:
    changed = source_file.changed_lines
    table_rows = table_row_lines(source_file)
    return tuple(
        assignment for assignment in source_file.facts.assignments
        if assignment.line == assignment.end_line and assignment.line in changed
        and assignment.line not in table_rows
    )
