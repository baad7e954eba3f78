"""gpu-memory-mismatch: a stated per-GPU memory that contradicts the deployment."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from align.catalog import Catalog, GpuMention
from align.context import ReviewContext, SourceFile
from align.findings import Finding, Severity
from align.manifest import Deployment
from align.quantities import (
    MEMORY_HINT,
    MemoryAmount,
    find_memory,
    format_gb,
    memory_number_text,
    parse_memory,
    same_memory,
    unit_from_name,
)
from align.rule_api import BaseRule
from align.rules._claims import (
    changed_assignments,
    column_header,
    default_memory_unit,
    is_table_row,
    memory_key_kind,
    number_span,
    semantic_key,
    table_rows,
    value_column,
)
from align.rules._lines import changed_matching, line_memory, line_mentions
from align.rules._text import COMPARISON, apply_edits, reviewed_files

# "GH200 GPUs (141GB)", "H200 | 141 GB", "GH200 with 141GB": what may sit between a GPU name and its memory.
_AFTER_MENTION = re.compile(
    r"^(?:'s)?\s*(?:GPUs?|Superchips?|cards?|accelerators?)?\s*(?:\*\*)?\s*[(\[:,\-–—|]?\s*"
    r"(?:each\s+)?(?:with\s+|has\s+|having\s+|w/\s*)?"
    r"(?:(?:reported|total|gpu|device|on-?board|usable)\s+)?(?:(?:memory|vram|hbm\w*)\s*[:=]?\s*)?(?:\*\*)?\s*$",
    re.IGNORECASE,
)
# "141 GB HBM3e", "96GB/GPU", "141 GB of GPU memory", "80 GB VRAM per card"
_AFTER_AMOUNT = re.compile(
    r"^\s*(?:of\s+)?(?:HBM\w*|VRAM|GPU\s+(?:memory|RAM)|device\s+memory|(?:per|/|each|a)\s*(?:GPU|card)\b|per-GPU)",
    re.IGNORECASE,
)
# "GPU memory: 141 GB", "| **Memory/GPU** | 141GB", "VRAM = 141GB", "memory per GPU is 141 GB"
_BEFORE_AMOUNT = re.compile(
    r"(?:GPU[\s_-]*(?:memory|RAM)|VRAM|HBM\w*|memory\s*(?:per|/|each)\s*GPU|per[\s-]GPU\s+memory"
    r"|memory\s+of\s+(?:each|one|a|every)\s+GPU|device\s+memory)"
    r"[\s*:=|]*(?:is\s+|of\s+|~\s*|≈\s*)?$"
    # a code key: `GPUMem: resource.MustParse("`, `gpu_memory=`, `gpuMemoryGiB: `
    r"|\bgpu_?mem(?:ory)?\w*[\"']?\s*[:=]\s*(?:[\w.]+\(\s*)?[\"']?$",
    re.IGNORECASE,
)
_NEAR = 300  # characters after an amount its patterns read (they end well within this)
_HOST = re.compile(
    r"(?<!GPU\s)\bRAM\b|LPDDR\w*|\bDDR\d?\w*|system\s+memory|host\s+memory|CPU\s+memory|unified\s+memory"
    r"|memory\s+limit|\bdisk\b|storage|NVMe|SSD|\bswap\b|\bshm\b|shared\s+memory|coherent",
    re.IGNORECASE,
)
# Totals and products are capacity-mismatch's: "423 GB total", "3 × 141GB", "= 423GB", "423GB (3×141)".
_TOTAL_BEFORE = re.compile(r"\b(?:total|combined|aggregate|cluster|altogether|across|sum)\b|\d\s*[×x*]\s*$|=\s*$",
                           re.IGNORECASE)
_TOTAL_AFTER = re.compile(r"^\s*(?:[×x*]\s*\d|\(\s*\d+\s*[×x*])|\b(?:total|combined|across|in\s+all)\b",
                          re.IGNORECASE)
_PER_GPU_AFTER = re.compile(r"^\s*(?:of\s+\w+\s+)?(?:per|/|each|a)\s*(?:GPU|card)\b|^\s*per-GPU", re.IGNORECASE)
_COUNTED = re.compile(r"(?<![\w.])(?P<n>\d+)\s*[×xX]\s*$")
_PER_MACHINE = re.compile(
    r"^\s*(?:of\s+(?:GPU\s+|device\s+)?(?:memory|VRAM|HBM\w*)\s+)?(?:per|each|a|in\s+(?:each|every|the|one))\s+"
    r"(?:node|instance|machine|VM|server|host|box|pod)\b|^\s*(?:of\s+\w+\s+)?(?:in\s+total|total|combined)\b",
    re.IGNORECASE,
)
# Words that make an amount a requirement or a use rather than the GPU's size.
_REQUIREMENT = re.compile(
    r"\b(?:requires?|required|requiring|needs?|needed|needing|at\s+least|minimum|min\.?|up\s+to|uses?|used|using"
    r"|consum\w*|usage|footprint|occup\w*|takes?|taking|activations?|overhead|weights?|KV[\s-]*cache|fits?|fit\s+in"
    r"|peak|allocat\w*|reserv\w*|(?:less|more|greater|fewer|lower|higher)\s+than|below|above|under|over"
    r"|exceed\w*|thresholds?|budget)\b|[<>≤≥]",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.;!?](?:\s|$)")
_MEMORY_HEADER = re.compile(r"GPU\s*mem|mem\w*\s*(?:/|per)\s*GPU|VRAM|HBM", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Claim:
    amount: MemoryAmount  # columns are the line's
    mention: GpuMention | None  # the GPU the amount is attached to, when one is named
    written: str  # the offending text, for the message
    # A requirement or a use ("needs ~43 GB per GPU", "uses 1.7 GiB per GPU"): wrong only above the GPU.
    requirement: bool = False

    def contradicts(self, deployment: Deployment) -> bool:
        if self.requirement:
            return self.amount.nominal_gb > deployment.gpu_memory_gb * 1.02 and not same_memory(
                self.amount, deployment.gpu_memory_gb)
        return not same_memory(self.amount, deployment.gpu_memory_gb)


class GpuMemoryMismatch(BaseRule):
    """Catches a changed line that states a per-GPU memory other than the deployment's: a key that names
    GPU memory (`GPU_MEMORY_GB = 141`, `gpuMemoryGiB: 141`, `vram: 141Gi`, Terraform variables,
    Kubernetes env vars), or prose and tables ("H200 (141GB)", "141 GB HBM3e per GPU",
    "| Memory/GPU | 141GB |").

    Why it matters: memory sized for a bigger GPU overflows at load time (CUDA out of memory), and docs
    that promise it mislead capacity planning.

    Example: `GPU_MEMORY_GB = 141` on a GH200 deployment (96 GB) → suggests `GPU_MEMORY_GB = 96`.

    Units are converted and compared with a tolerance that accepts GB/GiB confusion (96 GB ≈ 96 GiB ≈
    98,304 MiB ≈ 97,871 MiB). Host memory is not GPU memory (`resources.limits.memory`, `--memory`,
    `mem_limit`, "RAM", LPDDR), nor the 480 GB in `NVIDIA-GH200-480GB`; totals belong to
    capacity-mismatch; prose that compares GPUs on purpose ("H200 (141GB) vs GH200 (96GB)") is left alone.

    Fix: safe. The suggestion rewrites only the number, in the same unit and style ("141GB" → "96GB",
    144384 MiB → 98304).
    """

    id = "gpu-memory-mismatch"
    default_severity = Severity.ERROR
    summary = "A stated per-GPU memory contradicts the deployment's GPU."
    fix_safe = True
    file_local = True  # a file's findings depend on that file and the manifest alone

    def check(self, ctx: ReviewContext) -> Iterator[Finding]:
        for source_file, deployment in reviewed_files(ctx):
            keyed = self._keyed_claims(source_file, deployment)
            # Other lines state no memory amount: no prose claim, and no keyed one.
            total = len(source_file.lines)
            lines = {n for n in keyed if 0 < n <= total} | set(changed_matching(source_file, MEMORY_HINT))
            for line in sorted(lines):
                own = keyed.get(line, [])
                claims = own + self._prose_claims(ctx, source_file, line, deployment, own)
                wrong = [c for c in claims if c.contradicts(deployment)]
                if wrong:
                    yield self._finding(source_file, line, wrong, deployment)

    # ---- claims

    @staticmethod
    def _keyed_claims(source_file: SourceFile, deployment: Deployment) -> dict[int, list[_Claim]]:
        claims: dict[int, list[_Claim]] = {}
        for assignment in changed_assignments(source_file):
            if memory_key_kind(assignment) != "per_gpu" or isinstance(assignment.value, bool):
                continue
            if assignment.value is None:
                continue
            key_unit = unit_from_name(semantic_key(assignment))
            amount = parse_memory(str(assignment.value), key_unit)
            if amount is None or amount.number <= 0:
                continue
            if not amount.unit:
                if amount.number <= 1:
                    continue  # `PREFILL_GPU_MEMORY=0.85`: a fraction of the GPU, not a size
                amount = parse_memory(str(assignment.value), default_memory_unit(amount.number))
                if amount is None:
                    continue
            text = source_file.line_text(assignment.line)
            span = number_span(text, amount.number_text, value_column(text, assignment))
            if span is None:
                continue
            located = MemoryAmount(span[0], span[1], amount.text, amount.number, amount.number_text, amount.unit,
                                   amount.unit_text)
            line_claims = claims.setdefault(assignment.line, [])
            if all(c.amount.start != located.start for c in line_claims):
                line_claims.append(_Claim(located, None, f"{semantic_key(assignment)} = {assignment.raw.strip()}"))
        return claims

    @staticmethod
    def _prose_claims(
        ctx: ReviewContext, source_file: SourceFile, line: int, deployment: Deployment, keyed: list[_Claim]
    ) -> list[_Claim]:
        text = source_file.line_text(line)
        amounts = line_memory(source_file, line)
        if not amounts:
            return []
        mentions = line_mentions(ctx, source_file, line)
        starts = [m.start for m in mentions]  # in order, not overlapping: looked up by bisection
        taken = {c.amount.start for c in keyed}
        claims = []
        for amount in amounts:
            at = bisect_right(starts, amount.start)  # mentions[:at] start at or before the amount
            if amount.start in taken or (at and mentions[at - 1].end > amount.start):
                continue  # a keyed value, or part of a name like NVIDIA-GH200-480GB
            # Only the words near the amount are read: copying the rest of a long line per amount is quadratic.
            before, after = text[max(0, amount.start - 80) : amount.start], text[amount.end : amount.end + _NEAR]
            if _HOST.search(before[-25:]) or _HOST.search(after[:25]):
                continue
            if _TOTAL_BEFORE.search(before[-20:]) or _TOTAL_AFTER.search(after[:25]):
                continue
            mention = None
            for index in range(at - 1, -1, -1):
                if amount.start - mentions[index].end > 24:
                    break  # further back, further away
                if _AFTER_MENTION.match(text[mentions[index].end : amount.start]):
                    mention = mentions[index]
                    break
            if mention is not None and _label_size(mention, amount):
                continue
            counted = _COUNTED.search(text, max(0, (mention.start if mention else amount.start) - 12),
                                      mention.start) if mention is not None else None
            per_gpu = _PER_GPU_AFTER.match(after) is not None
            if not per_gpu and ((counted and int(counted.group("n")) > 1) or _PER_MACHINE.match(after)):
                continue  # "8 × H100, 640 GB", "96 GB of GPU memory per node": a machine's total, not one GPU's
            if (mention is not None or _AFTER_AMOUNT.match(after) or _BEFORE_AMOUNT.search(before[-45:])
                    or _MEMORY_HEADER.search(column_header(source_file, line, amount.start))):
                written = text[mention.start : amount.end] if mention is not None else amount.text
                sentence = _SENTENCE_END.split(before[-80:])[-1]
                # Less than any GPU has ("0.6 GiB per GPU" of overhead): a use, whatever the words around it.
                requirement = amount.nominal_gb < _smallest_gpu_gb(ctx.catalog) or bool(_REQUIREMENT.search(sentence))
                claims.append(_Claim(amount, mention, written, requirement=requirement))
        if claims and _compares(ctx, source_file, line, text, claims, mentions, deployment):
            return []
        return claims

    # ---- finding

    def _finding(self, source_file: SourceFile, line: int, wrong: list[_Claim], deployment: Deployment) -> Finding:
        text = source_file.line_text(line)
        edits = [(c.amount.start, c.amount.start + len(c.amount.number_text),
                  memory_number_text(deployment.gpu_memory_gb, c.amount)) for c in wrong]
        first = wrong[0].amount
        stated = format_gb(round(first.nominal_gb, 1))
        written = wrong[0].written
        expected = format_gb(deployment.gpu_memory_gb)
        return self.finding(
            source_file,
            line,
            f"`{written}` states {stated} per GPU, but deployment `{deployment.name}` runs {deployment.gpu.name} "
            f"with {expected} per GPU.",
            evidence=text,
            deployment=deployment,
            suggestion=apply_edits(text, edits),
            component="Memory per GPU",
            stated=stated,
            expected=expected,
        )


def _smallest_gpu_gb(catalog: Catalog) -> float:
    return min((gpu.memory_gb for gpu in catalog.gpus if gpu.memory_gb), default=0.0)


def _label_size(mention: GpuMention, amount: MemoryAmount) -> bool:
    """ "GH200 480GB" names the superchip's HBM + LPDDR total, as its product label does: not GPU memory."""
    spellings = (mention.gpu.name, *mention.gpu.aliases, *mention.gpu.product_labels)
    pattern = _label_size_pattern(amount.number_text.replace(",", ""))
    return any(pattern.search(spelling) for spelling in spellings) and not same_memory(
        amount, mention.gpu.memory_gb
    )


@lru_cache(maxsize=256)
def _label_size_pattern(number: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\d){number}\s?G")


def _compares(
    ctx: ReviewContext,
    source_file: SourceFile,
    line: int,
    text: str,
    claims: list[_Claim],
    mentions: list[GpuMention],
    deployment: Deployment,
) -> bool:
    """True when the line compares GPUs on purpose ("H200 (141GB) vs GH200 (96GB)", "from A10 (24GB) to
    GH200") or is a row of a comparison table that also lists the deployment's value."""
    consistent = any(same_memory(amount, deployment.gpu_memory_gb) for amount in find_memory(text))
    attached = {id(c.mention) for c in claims if c.mention is not None}
    other_deployment_mention = any(
        m.gpu.same_model(deployment.gpu) and id(m) not in attached for m in mentions
    )
    if is_table_row(text):
        if consistent:
            return True
        # Other rows of the table name the deployment's GPU: a table of GPUs, not a claim about ours.
        wrong_gpu = [c for c in claims if c.mention is not None and not c.mention.gpu.same_model(deployment.gpu)]
        if wrong_gpu and any(
            m.gpu.same_model(deployment.gpu)
            for row in table_rows(source_file.lines, line)
            if row != line
            for m in line_mentions(ctx, source_file, row)
        ):
            return True
    return bool(COMPARISON.search(text)) and (consistent or other_deployment_mention)
