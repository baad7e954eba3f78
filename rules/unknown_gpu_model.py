"""unknown-gpu-model: a GPU-like token the catalog does not know, with the nearest known name."""

from __future__ import annotations

import re
from collections.abc import Iterator

from app.catalog import Catalog
from app.context import ReviewContext, SourceFile
from app.findings import Finding, Severity
from app.rule_api import BaseRule
from rules._lines import changed_matching
from rules._text import apply_edits, mentions_of, reviewed_files

# Upper-case model-like tokens: one to three capitals, two to four digits, an optional short suffix, four
# characters at least (H20, L20 and T5 are too short to tell a typo from another product).
# Lower-case or mixed tokens (`ggH200` in physics code, `v100` in a version) are never candidates.
_CANDIDATE = re.compile(r"(?<![A-Za-z0-9_.])([A-Z]{1,3}[0-9]{2,4}[A-Z]{0,3})(?![A-Za-z0-9_])")
_CANDIDATE_HINT = re.compile("[A-Z][0-9][0-9]")  # in every candidate; far cheaper to scan for
_MIN_LENGTH = 4
_GPU_CONTEXT = re.compile(r"\b(?:gpus?|nvidia|cuda|vram|hbm\w*|accelerators?|amd|rocm)\b", re.IGNORECASE)
_LINE_CONTEXT = re.compile(r"\b(?:memory|\d+\s?(?:GB|GiB))\b", re.IGNORECASE)
# Real accelerators (and chips) the catalog does not carry: a different product, not a typo.
_REAL_MODELS = frozenset({
    "H800", "A800", "B100", "B300", "GB300", "GH100", "GA100", "GA102", "AD102", "GB100", "GB202", "GK210",
    "GV100", "P100", "V100S", "A100X", "A30X", "A6000", "A5000", "A4000", "A2000", "MI100", "MI210", "MI250", "MI250X",
    "MI300", "MI300A", "MI325X", "MI355X", "RTX6000", "RTX4090", "RTX3090",
})


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def closest_spelling(catalog: Catalog, token: str) -> str | None:
    """The catalog spelling the token is a near-miss of ("GGH200" → "GH200"), within 1–2 edits."""
    nearest = catalog.nearest(token)
    if nearest is None:
        return None
    spec = catalog.resolve(nearest)
    spellings = [nearest] if spec is None else [spec.name, spec.family, *spec.aliases]
    limit = 1 if len(token) <= 4 else 2
    best: tuple[int, str] | None = None
    for spelling in spellings:
        compact = spelling.replace(" ", "")
        distance = edit_distance(token.upper(), compact.upper())
        if 1 <= distance <= limit and (best is None or distance < best[0]):
            best = (distance, spelling if catalog.resolve(spelling) is not None else nearest)
    return best[1] if best else None


class UnknownGpuModel(BaseRule):
    """Catches a GPU-like token the catalog does not know but that is one or two edits from a known name,
    and says which one was probably meant: "GGH200 → did you mean GH200?".

    Why it matters: a typo or a botched find-and-replace ("H200" → "GH200" applied to "GH200") leaves
    names that no scheduler, label or price list will ever match.

    Example: `- NVIDIA GGH200 GPU support` → suggests `- NVIDIA GH200 GPU support`.

    It is case- and context-aware: only upper-case model-like tokens (one to three capitals, two to four
    digits, optional suffix, four characters at least), only in files or lines about GPUs; never known
    names, lower-case tokens such as `ggH200` (gluon-gluon Higgs in physics code), hex or version strings,
    or real products the catalog does not carry (H800, P100...).

    Fix: safe. The suggestion replaces the token, token-bounded, by the nearest catalog spelling.
    """

    id = "unknown-gpu-model"
    default_severity = Severity.WARNING
    summary = "A GPU-like token the catalog does not know, with the nearest known name."
    fix_safe = True
    file_local = True  # a file's findings depend on that file and the manifest alone

    def check(self, ctx: ReviewContext) -> Iterator[Finding]:
        known_names: dict[str, bool] = {}  # token -> the catalog knows it (the same few tokens recur)
        for source_file, deployment in reviewed_files(ctx):
            file_context: bool | None = None  # computed once, only for files with a candidate
            for line in changed_matching(source_file, _CANDIDATE_HINT):
                text = source_file.line_text(line)
                candidates = self._candidates(ctx, text, known_names)
                if not candidates:
                    continue
                if not _LINE_CONTEXT.search(text) and not _GPU_CONTEXT.search(text):
                    if file_context is None:
                        file_context = self._file_is_about_gpus(ctx, source_file)
                    if not file_context:
                        continue
                edits = [(start, end, near) for start, end, _token, near in candidates]
                token, near = candidates[0][2], candidates[0][3]
                yield self.finding(
                    source_file,
                    line,
                    f"Unknown GPU model `{token}` → did you mean {near}?",
                    evidence=text,
                    deployment=deployment,
                    suggestion=apply_edits(text, edits),
                    component="GPU model",
                    stated=token,
                    expected=near,
                )

    @staticmethod
    def _candidates(ctx: ReviewContext, text: str, known_names: dict[str, bool]) -> list[tuple[int, int, str, str]]:
        found = []
        known = None
        for match in _CANDIDATE.finditer(text):
            token = match.group(1)
            if len(token) < _MIN_LENGTH or token in _REAL_MODELS:
                continue
            if token not in known_names:
                known_names[token] = ctx.catalog.resolve(token) is not None
            if known_names[token]:
                continue
            if known is None:
                known = [(m.start, m.end) for m in mentions_of(ctx, text)]
            if any(start < match.end() and match.start() < end for start, end in known):
                continue  # part of a known name, label or instance type
            near = closest_spelling(ctx.catalog, token)
            if near is not None:
                found.append((match.start(1), match.end(1), token, near))
        return found

    @staticmethod
    def _file_is_about_gpus(ctx: ReviewContext, source_file: SourceFile) -> bool:
        return bool(_GPU_CONTEXT.search(source_file.text) or mentions_of(ctx, source_file.text))
