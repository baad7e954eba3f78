"""capacity-mismatch: a stated total GPU memory or GPU count that contradicts count × memory."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from align.catalog import GpuMention
from align.context import ReviewContext, SourceFile
from align.findings import Finding, Severity
from align.formats import Assignment
from align.manifest import Deployment
from align.quantities import (
    MEMORY_HINT,
    NUMBER,
    MemoryAmount,
    canonical_unit,
    format_gb,
    format_number,
    memory_number_text,
    parse_memory,
    parse_number,
    same_memory,
    unit_from_name,
)
from align.rule_api import BaseRule
from align.rules._claims import (
    KEY_MEMO,
    changed_assignments,
    default_memory_unit,
    is_table_row,
    key_shape,
    memory_key_kind,
    memory_key_kind_of,
    number_span,
    path_words,
    row_label,
    semantic_key,
    semantic_key_of,
    value_column,
    words,
)
from align.rules._lines import changed_containing, changed_matching, changed_mention_lines, line_memory, line_mentions
from align.rules._text import COMPARISON, apply_edits, reviewed_files

_TIMES = r"\s*[×xX*]\s*"
_COUNT_BEFORE = re.compile(r"(?<![\w.,$])(?P<n>\d+)\s*(?:GPUs?\s*|cards?\s*)?[×xX*]\s*$")
_PRODUCT_RESULT = re.compile(r"^\s*=\s*")
# "3 × 141 = 423 GB": the unit written once, on the result
_BARE_PRODUCT = re.compile(rf"(?<![\w.,$])(?P<n>\d+)\s*(?:GPUs?\s*)?[×xX*]\s*(?P<mem>{NUMBER})\s*=\s*$")
_PAREN_PRODUCT = re.compile(
    rf"^\s*\(\s*(?P<n>\d+){_TIMES}(?P<mem>{NUMBER})\s?(?P<unit>[TGM]i?B|[TGM]i|G)?\s*\)", re.IGNORECASE
)
_TOTAL_LABEL_BEFORE = re.compile(
    r"(?:total|cluster|aggregate|combined)\s+(?:GPU\s+)?(?:memory|VRAM|HBM)(?:\s+capacity)?"
    r"|(?:GPU\s+)?(?:memory|VRAM|HBM)\s+(?:in\s+)?total"
    r"[\s*:=|]*(?:is\s+|of\s+|~\s*|≈\s*)?$",
    re.IGNORECASE,
)
_TOTAL_LABEL_AFTER = re.compile(
    r"^\s*(?:of\s+)?(?:total|combined|aggregate)\s+(?:GPU\s+)?(?:memory|VRAM|HBM)"
    r"|^\s*(?:of\s+)?(?:GPU\s+)?(?:memory|VRAM|HBM)\s+(?:in\s+total|total)"
    r"|^\s*(?:of\s+(?:GPU\s+)?(?:memory|VRAM|HBM)\s+)?across\s+(?:all\s+)?(?P<n>\d+)\s+(?:\w+\s+)?GPUs\b",
    re.IGNORECASE,
)
_TOTAL_ROW = re.compile(r"^(?:total|cluster|aggregate|combined)\s+(?:GPU\s+)?(?:memory|VRAM|HBM)", re.IGNORECASE)
_PER_GPU = re.compile(r"per[\s-]GPU|/\s*GPU|each\s+GPU", re.IGNORECASE)
_NEAR = 300  # characters after an amount its patterns read (they end well within this)
_HOST = re.compile(r"\bRAM\b|LPDDR|system\s+memory|host\s+memory|CPU|disk|storage|NVMe|SSD", re.IGNORECASE)
_COUNT_FLAG = re.compile(  # `--gpus 8`, `--tensor-parallel-size 8`, papermill `-p num_gpu 4`
    r"(?:--|-[pP]\s+)(?P<flag>gpus|num[-_]gpus?|gpu[-_]count|n[-_]?gpus|tensor[-_]parallel[-_]size)[\"']?"
    r"(?:\s*,\s*|[=\s]+)[\"']?(?P<n>\d+)\b"
)
_COUNT_BEFORE_NAME = re.compile(r"(?<![\w.,$/:#-])(?P<n>\d+)\s+(?:NVIDIA\s+)?$")
_GPUS_AFTER = re.compile(r"\s*GPUs?\b")
_COUNT_TIMES = re.compile(r"(?<![\w.,$])(?P<n>\d+)\s*[×xX]\s*$")  # "3 × GH200"
_NAME_COUNT = re.compile(r"^:(?P<n>\d+)\b")  # SkyPilot `accelerators: GH200:8`, `--gpus GH200:8`
# A stated total of GPUs beside the product that explains it: "12 total GPUs available (4 per g5.12xlarge
# instance × 3 instances)", "16 GPUs in total (8 per node x 2 nodes)".
_TOTAL_GPUS = re.compile(
    r"(?<![\w.,$])(?P<n>\d+)\s+(?P<words>(?:[A-Za-z][\w\-]*\s+){0,2}?)GPUs?\b(?P<after>[^()\n]{0,40}?)"
    r"\(\s*(?P<a>\d+)\s+(?:GPUs?\s+)?per\s+[^()\n]{1,40}?\s[×xX*]\s*(?P<b>\d+)\s+(?:[A-Za-z][\w.\-]*\s+)?"
    r"(?:instances?|nodes?|machines?|VMs?|hosts?|servers?)\s*\)"
)
_TOTAL = re.compile(r"\btotal\b", re.IGNORECASE)
_TOTAL_OF = re.compile(r"\btotal\s+of\s+$", re.IGNORECASE)
_TOTAL_NEEDLES = ("total", "Total", "TOTAL")
_CHOICES = frozenset({"sizes", "counts", "options", "choices", "candidates", "values", "range", "grid"})
_GPU_WORDS = frozenset({"gpu", "gpus", "accelerator", "accelerators"})
_COUNT_WORDS = frozenset({"count", "num", "n", "number", "total", "ngpus", "numgpus"})
_NOT_TOTAL_COUNT = frozenset({
    "per", "node", "nodes", "pod", "pods", "replica", "replicas", "worker", "workers", "instance", "task",
    "actor", "process", "proc", "min", "max", "request", "requests", "limit", "limits", "memory", "mem",
    "util", "utilization", "id", "ids", "index", "idx", "device", "devices", "type", "family", "model",
    "price", "cost", "hour", "hourly", "available", "free", "used", "visible", "slot", "slots",
})


@dataclass
class _LineIssues:
    edits: list[tuple[int, int, str]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    component: str = ""
    stated: str = ""
    expected: str = ""
    fixable: bool = True
    _known: set[tuple[int, int, str]] = field(default_factory=set)  # `edits` as a set: no scan per edit

    def add(self, message: str, component: str, stated: str, expected: str,
            edits: list[tuple[int, int, str]] | None) -> None:
        if not self.messages:
            self.component, self.stated, self.expected = component, stated, expected
        self.messages.append(message)
        if edits is None:
            self.fixable = False
        else:
            for edit in edits:
                if edit not in self._known:
                    self._known.add(edit)
                    self.edits.append(edit)


class CapacityMismatch(BaseRule):
    """Catches a stated total that contradicts the deployment's GPU count × memory per GPU: totals in
    prose and tables ("3 × 141GB = 423GB", "| Total Memory | 423GB (3×141) |", "288 GB across 8 GPUs"),
    keys that name the total (`TOTAL_GPU_MEMORY_GB = 423`), and GPU counts above the deployment's
    (`gpu_count: 8`, `num_gpus`, `--gpus 8`, SkyPilot `accelerators: GH200:8`, a Terraform
    `guest_accelerator { count = 8 }`, `tensor_parallel_size: 8` on 3 GPUs), and a total of GPUs stated beside
    its per-instance product ("12 total GPUs available (4 per g5.12xlarge instance × 3 instances)" on 8 GPUs).

    Why it matters: capacity plans, sharding and autoscaling built on GPUs that are not there fail at
    deploy time or silently run out of memory.

    Example: "3 × 141GB = 423GB" on 3 × GH200 (96 GB) → suggests "3 × 96GB = 288GB".

    A count below the deployment's is a subset (one job on some GPUs) and is fine; so is a per-pod
    `nvidia.com/gpu: 1`. A tensor-parallel size above the GPU count is flagged without a suggestion,
    since the right split depends on the model.

    Fix: safe for totals and counts: the suggestion rewrites only the numbers, in the same unit and style.
    """

    id = "capacity-mismatch"
    default_severity = Severity.ERROR
    summary = "A stated total GPU memory or GPU count contradicts the deployment (count × memory)."
    fix_safe = True
    file_local = True  # a file's findings depend on that file and the manifest alone

    def check(self, ctx: ReviewContext) -> Iterator[Finding]:
        for source_file, deployment in reviewed_files(ctx):
            issues: dict[int, _LineIssues] = {}
            for assignment in changed_assignments(source_file):
                self._check_assignment(ctx, source_file, assignment, deployment, issues)
            # A line states a total or a count only with a memory amount, a `--gpus`-like flag or a GPU name.
            memory_lines = set(changed_matching(source_file, MEMORY_HINT))
            lines = {*memory_lines, *changed_containing(source_file, ("--", "-p ", "-P ")),
                     *changed_mention_lines(ctx, source_file)}
            for line in sorted(lines):
                self._check_text(ctx, source_file, line, deployment, issues, line in memory_lines)
            for line in changed_containing(source_file, _TOTAL_NEEDLES):
                self._check_total_gpus(source_file.line_text(line), line, deployment, issues)
            for line in sorted(issues):
                yield self._finding(source_file, line, issues[line], deployment)

    # ---- keys

    def _check_assignment(
        self,
        ctx: ReviewContext,
        source_file: SourceFile,
        assignment: Assignment,
        deployment: Deployment,
        issues: dict[int, _LineIssues],
    ) -> None:
        if assignment.value is None or isinstance(assignment.value, bool):
            return
        if not _may_state_capacity(key_shape(assignment.key_path)):
            return
        line = assignment.line
        key = semantic_key(assignment)
        if memory_key_kind(assignment) == "total":
            text = source_file.line_text(line)
            start = value_column(text, assignment)
            amount = parse_memory(str(assignment.value), unit_from_name(key))
            if amount is None or amount.number <= 0:
                return
            if not amount.unit:
                amount = parse_memory(str(assignment.value), default_memory_unit(amount.number))
            if amount is None or same_memory(amount, deployment.total_memory_gb):
                return
            span = number_span(text, amount.number_text, start)
            edits = [(span[0], span[1], memory_number_text(deployment.total_memory_gb, amount))] if span else None
            issues.setdefault(line, _LineIssues()).add(
                f"`{key}` states {format_gb(round(amount.nominal_gb, 1))} of GPU memory in total, but deployment "
                f"`{deployment.name}` has {_total_text(deployment)}.",
                "Total GPU memory", format_gb(round(amount.nominal_gb, 1)), _total_text(deployment), edits,
            )
            return
        count = _as_count(assignment.value)
        if count is None:
            return
        kind = _count_key_kind(ctx, assignment)
        if kind is None:
            return
        leaf = set(words(key))
        if count > deployment.count or (kind == "count" and "total" in leaf and count != deployment.count):
            text = source_file.line_text(line)
            span = number_span(text, str(count), value_column(text, assignment))
            # How many GPUs one pod or node should ask for is a human decision: only a total gets a fix.
            edits = None if kind != "count" or span is None else [(span[0], span[1], str(deployment.count))]
            self._count_issue(issues, line, f"`{key}: {count}`", count, deployment, edits, kind)

    def _count_issue(self, issues: dict[int, _LineIssues], line: int, what: str, count: int,
                     deployment: Deployment, edits: list[tuple[int, int, str]] | None, kind: str = "count") -> None:
        if kind == "parallel":
            message = (f"{what} needs {count} GPUs for one model replica, but deployment `{deployment.name}` has "
                       f"{deployment.count} × {deployment.gpu.name}.")
        elif kind in ("pod", "node"):
            message = (f"{what} asks for {count} GPUs in one {kind}, more than deployment `{deployment.name}` has "
                       f"in all ({deployment.count} × {deployment.gpu.name}).")
        else:
            message = (f"{what} asks for {count} GPUs, but deployment `{deployment.name}` has {deployment.count} × "
                       f"{deployment.gpu.name}.")
        issues.setdefault(line, _LineIssues()).add(
            message, "GPU count", f"{count} GPUs", f"{deployment.count} GPUs", edits
        )

    # ---- text

    def _check_text(
        self, ctx: ReviewContext, source_file: SourceFile, line: int, deployment: Deployment,
        issues: dict[int, _LineIssues], may_state_memory: bool = True,
    ) -> None:
        text = source_file.line_text(line)
        self._check_counts(line_mentions(ctx, source_file, line), text, line, deployment, issues)
        amounts = line_memory(source_file, line) if may_state_memory else []
        if not amounts:
            return
        consistent_total = any(same_memory(a, deployment.total_memory_gb) for a in amounts)
        if consistent_total and (COMPARISON.search(text) or is_table_row(text)):
            return  # "423GB (3×141) | 288GB (3×96)": a comparison that already states the right total
        used: set[int] = set()
        table_row: bool | None = None  # looked up once per line, when first needed
        for index, amount in enumerate(amounts):
            if amount.start in used:
                continue
            # Only the words near the amount are read: copying the rest of a long line per amount is quadratic.
            before, after = text[max(0, amount.start - 64) : amount.start], text[amount.end : amount.end + _NEAR]
            window = max(0, amount.start - 60)  # the patterns end at the amount: look only just before it
            bare = _BARE_PRODUCT.search(text, window, amount.start)
            bare_number = parse_number(bare.group("mem")) if bare else None
            if bare is not None and bare_number is not None:
                memory = MemoryAmount(bare.start("mem"), bare.end("mem"), bare.group("mem"), bare_number,
                                      bare.group("mem"), amount.unit)
                self._check_product(text, line, int(bare.group("n")), bare.start("n"), memory, amount, deployment,
                                    issues)
                continue
            product = _COUNT_BEFORE.search(text, window, amount.start)
            if product is not None:
                total = _result_after(amount, amounts[index + 1 : index + 2], text)
                if total is not None:
                    used.add(total.start)
                self._check_product(text, line, int(product.group("n")), product.start("n"), amount, total,
                                    deployment, issues)
                continue
            paren = _PAREN_PRODUCT.match(after)
            if paren is not None:
                self._check_paren(text, line, amount, paren, deployment, issues)
                continue
            if _HOST.search(before[-30:]) or _HOST.search(after[:20]) or _PER_GPU.match(after.lstrip()[:12]):
                continue
            label_after = _TOTAL_LABEL_AFTER.match(after)
            label = _TOTAL_LABEL_BEFORE.search(before[-45:]) is not None or label_after is not None
            if not label:
                if table_row is None:
                    table_row = is_table_row(text) and _TOTAL_ROW.match(row_label(text)) is not None
                label = table_row
            if not label:
                continue
            gpus = int(label_after.group("n")) if label_after and label_after.group("n") else deployment.count
            self._check_total(text, line, amount, gpus, deployment, issues)

    def _check_product(
        self, text: str, line: int, count: int, count_at: int, memory: MemoryAmount, total: MemoryAmount | None,
        deployment: Deployment, issues: dict[int, _LineIssues],
    ) -> None:
        right_memory = same_memory(memory, deployment.gpu_memory_gb)
        if count == deployment.count and right_memory:
            if total is None or same_memory(total, deployment.total_memory_gb):
                return
        elif not (count == deployment.count or (count > deployment.count and right_memory)):
            return  # another machine's arithmetic, or a subset of the GPUs
        edits = [(count_at, count_at + len(str(count)), str(deployment.count))] if count != deployment.count else []
        if not right_memory:
            edits.append((memory.start, memory.start + len(memory.number_text),
                          memory_number_text(deployment.gpu_memory_gb, memory)))
        if total is not None:
            edits.append((total.start, total.start + len(total.number_text),
                          memory_number_text(deployment.total_memory_gb, total)))
        stated_total = count * memory.nominal_gb
        stated = f"{format_gb(_round(stated_total))} ({count} × {_num(memory.nominal_gb)})"
        issues.setdefault(line, _LineIssues()).add(
            f"`{text[count_at : (total or memory).end].strip()}` does not match deployment `{deployment.name}`: "
            f"it has {_total_text(deployment)}.",
            "Total GPU memory", stated, _total_text(deployment), edits,
        )

    def _check_paren(
        self, text: str, line: int, total: MemoryAmount, paren: re.Match[str], deployment: Deployment,
        issues: dict[int, _LineIssues],
    ) -> None:
        count = int(paren.group("n"))
        unit = canonical_unit(paren.group("unit") or "") or total.unit
        memory_number = parse_number(paren.group("mem"))
        if memory_number is None or count < deployment.count:
            return
        base = total.end
        memory = MemoryAmount(base + paren.start("mem"), base + paren.end("mem"), paren.group("mem"), memory_number,
                              paren.group("mem"), unit)
        right_memory = same_memory(memory, deployment.gpu_memory_gb)
        if count == deployment.count and right_memory and same_memory(total, deployment.total_memory_gb):
            return
        if count != deployment.count and not right_memory:
            return
        edits = [(total.start, total.start + len(total.number_text),
                  memory_number_text(deployment.total_memory_gb, total))]
        if count != deployment.count:
            edits.append((base + paren.start("n"), base + paren.end("n"), str(deployment.count)))
        if not right_memory:
            edits.append((memory.start, memory.end, memory_number_text(deployment.gpu_memory_gb, memory)))
        stated = f"{format_gb(_round(total.nominal_gb))} ({count} × {_num(memory.nominal_gb)})"
        issues.setdefault(line, _LineIssues()).add(
            f"`{text[total.start : base + paren.end()].strip()}` does not match deployment `{deployment.name}`: "
            f"it has {_total_text(deployment)}.",
            "Total GPU memory", stated, _total_text(deployment), edits,
        )

    def _check_total(
        self, text: str, line: int, total: MemoryAmount, gpus: int, deployment: Deployment,
        issues: dict[int, _LineIssues],
    ) -> None:
        expected_gb = min(gpus, deployment.count) * deployment.gpu_memory_gb
        if gpus <= deployment.count and same_memory(total, expected_gb):
            return
        if same_memory(total, deployment.gpu_memory_gb) and gpus == deployment.count:
            return  # "96 GB" next to the word total is per GPU ("total memory per GPU")
        edits = [(total.start, total.start + len(total.number_text), memory_number_text(expected_gb, total))]
        issues.setdefault(line, _LineIssues()).add(
            f"`{total.text}` of total GPU memory does not match deployment `{deployment.name}`: it has "
            f"{_total_text(deployment)}.",
            "Total GPU memory", format_gb(_round(total.nominal_gb)), _total_text(deployment),
            edits if gpus <= deployment.count else None,
        )

    def _check_total_gpus(self, text: str, line: int, deployment: Deployment, issues: dict[int, _LineIssues]) -> None:
        """"12 total GPUs available (4 per g5.12xlarge instance × 3 instances)" on 2 × 4 GPUs."""
        for match in _TOTAL_GPUS.finditer(text) if "(" in text else ():
            total, per, units = int(match.group("n")), int(match.group("a")), int(match.group("b"))
            said_total = _TOTAL.search(match.group("words") + match.group("after")) or _TOTAL_OF.search(
                text, 0, match.start())
            if not said_total or total == deployment.count:
                continue  # a right total beside a false product is arithmetic-error's
            edits: list[tuple[int, int, str]] | None = [(match.start("n"), match.end("n"), str(deployment.count))]
            if per * units != deployment.count:
                if per == 0 or deployment.count % per != 0:
                    edits = None  # the per-instance count is wrong too: which machine is meant is guesswork
                else:
                    edits = [*(edits or []), (match.start("b"), match.end("b"), str(deployment.count // per))]
            written = text[match.start() : match.end()].strip()
            issues.setdefault(line, _LineIssues()).add(
                f"`{written}` states {total} GPUs in total, but deployment `{deployment.name}` has "
                f"{deployment.count} × {deployment.gpu.name}.",
                "GPU count", f"{total} GPUs", f"{deployment.count} GPUs", edits,
            )

    def _check_counts(
        self, mentions: list[GpuMention], text: str, line: int, deployment: Deployment,
        issues: dict[int, _LineIssues],
    ) -> None:
        for match in _COUNT_FLAG.finditer(text) if "-" in text else ():
            count = int(match.group("n"))
            if count > deployment.count:
                parallel = "tensor" in match.group("flag")
                edits = None if parallel else [(match.start("n"), match.end("n"), str(deployment.count))]
                written = " ".join(match.group(0).replace("=", " ").split())
                self._count_issue(issues, line, f"`{written}`", count, deployment, edits,
                                  "parallel" if parallel else "count")
        for mention in mentions:
            after = _NAME_COUNT.match(text[mention.end : mention.end + _NEAR])
            if after is not None:
                # `H200:8` asks for 8 GPUs whatever the model (gpu-model-mismatch fixes the name).
                count, at = int(after.group("n")), mention.end + after.start("n")
            elif not mention.gpu.same_model(deployment.gpu):
                continue
            else:
                before = _search_before(_COUNT_TIMES, text, mention.start)
                if before is None and _GPUS_AFTER.match(text, mention.end):
                    before = _search_before(_COUNT_BEFORE_NAME, text, mention.start)  # "4 A10 GPUs at once"
                if before is None:
                    continue
                count, at = int(before.group("n")), before.start("n")
            if count > deployment.count:
                written = text[min(at, mention.start) : max(at + len(str(count)), mention.end)]
                self._count_issue(issues, line, f"`{written}`", count, deployment,
                                  [(at, at + len(str(count)), str(deployment.count))])

    def _finding(self, source_file: SourceFile, line: int, issues: _LineIssues, deployment: Deployment) -> Finding:
        text = source_file.line_text(line)
        suggestion = None
        if issues.fixable and issues.edits:
            try:
                suggestion = apply_edits(text, issues.edits)
            except ValueError:
                suggestion = None
        return self.finding(
            source_file, line, " ".join(dict.fromkeys(issues.messages)), evidence=text, deployment=deployment,
            suggestion=suggestion, component=issues.component, stated=issues.stated, expected=issues.expected,
        )


def _count_key_kind(ctx: ReviewContext, assignment: Assignment) -> str | None:
    """ "count" for keys that state how many GPUs (`gpu_count`, `num_gpus`, `gpus`, `accelerator.count`,
    `accelerators: {GH200: 8}`), "parallel" for a tensor-parallel size, None otherwise (per-pod
    `nvidia.com/gpu`, `gpus_per_node`, `min_gpus`...)."""
    kind = _count_kind_by_name(key_shape(assignment.key_path))
    if kind != _IF_A_GPU:
        return kind
    return "count" if ctx.catalog.resolve(semantic_key(assignment)) is not None else None


_IF_A_GPU = "if the key names a GPU"


@lru_cache(maxsize=KEY_MEMO)
def _may_state_capacity(key_path: tuple[str, ...]) -> bool:
    """False for keys that state neither a total GPU memory nor a GPU count, whatever their value."""
    return memory_key_kind_of(key_path) == "total" or _count_kind_by_name(key_path) is not None


@lru_cache(maxsize=KEY_MEMO)
def _count_kind_by_name(key_path: tuple[str, ...]) -> str | None:
    """`_count_key_kind` as far as the key names alone tell (the same names recur in every file);
    `_IF_A_GPU` when it depends on whether the key is a GPU the catalog knows (`accelerators: {GH200: 8}`)."""
    key = semantic_key_of(key_path)
    leaf = words(key)
    leaf_set = set(leaf)
    if leaf_set & _CHOICES:
        return None  # `tensor_parallel_sizes: [4, 8, 16]`: a search space, not one size
    if "tensor" in leaf_set and "parallel" in leaf_set:
        return "parallel"
    path = [p for p in key_path if not p.isdigit()]
    parent = words(path[-2]) if len(path) >= 2 else []
    if key.lower() in ("nvidia.com/gpu", "amd.com/gpu"):
        # One pod's request or limit: above what the whole deployment has, it can never be scheduled.
        return "pod" if not set(parent) & {"capacity", "allocatable"} else None
    if leaf == ["devices"] and "trainer" in parent:
        return "node"  # PyTorch Lightning / NeMo `trainer.devices`: GPUs per node
    if leaf_set & _NOT_TOTAL_COUNT:
        return None
    if leaf_set & {"gpu", "gpus", "accelerator", "accelerators"} and (
        leaf_set & _COUNT_WORDS or leaf in (["gpus"], ["accelerators"])
    ):
        # Only words that say "how many GPUs": `gpu_prefix_cache_hits_total` is a counter, not a count.
        if leaf_set - _GPU_WORDS - _COUNT_WORDS - {"of", "requested", "required"}:
            return None
        return "count"
    if leaf == ["count"] and set(parent) & {"gpu", "gpus", "accelerator", "accelerators"}:
        return "count"
    if set(parent) & {"accelerators", "gpus"} or "accelerators" in path_words(key_path):
        return _IF_A_GPU
    return None


def _as_count(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().strip("\"'").isdigit():
        return int(value.strip().strip("\"'"))
    return None


_COUNT_REGION = re.compile(r"[\d\s×xXNVIDA]*")  # every character a match of the count patterns may hold


def _search_before(pattern: re.Pattern[str], text: str, end: int) -> re.Match[str] | None:
    """`pattern.search(text[:end])` for a pattern anchored at the end (`$`), reading the last _NEAR
    characters only (once per mention, the whole text before it was quadratic), unless all of them could
    belong to one longer match."""
    start = max(0, end - _NEAR)
    found = pattern.search(text, start, end)
    if found is None and start and _COUNT_REGION.fullmatch(text, start, end):
        return pattern.search(text, 0, end)
    return found


def _result_after(memory: MemoryAmount, rest: list[MemoryAmount], text: str) -> MemoryAmount | None:
    """The amount right after `= ` that follows a product ("3 × 141GB = 423GB" -> 423GB)."""
    match = _PRODUCT_RESULT.match(text[memory.end : memory.end + _NEAR])
    if match is None or not rest or rest[0].start != memory.end + match.end():
        return None
    return rest[0]


def _total_text(deployment: Deployment) -> str:
    return f"{format_gb(deployment.total_memory_gb)} ({deployment.count} × {_num(deployment.gpu_memory_gb)})"


def _num(value: float) -> str:
    return format_number(_round(value), "" if float(_round(value)).is_integer() else "0.0")


def _round(value: float) -> float:
    return round(value) if abs(value - round(value)) < 0.05 else round(value, 1)
