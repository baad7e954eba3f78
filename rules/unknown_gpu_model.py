"""unknown-gpu-model: a GPU-like token the catalog does not know, with the nearest known name."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Generic, TypeVar

from align.catalog import Catalog, GpuSpec
from align.catalog.tokens import is_embedded
from align.context import ReviewContext, SourceFile
from align.findings import Finding, Severity
from align.manifest import Deployment
from align.rule_api import BaseRule
from align.rules._gpu_labels import LABEL_NEEDLES, label_index, wrong_labels
from align.rules._instance_typos import instance_typos, shape_hint, vocabulary
from align.rules._lines import changed_containing, changed_matching
from align.rules._text import apply_edits, mentions_of, reviewed_files
from align.scope.blocks import deployment_providers

# Upper-case model-like tokens: one to three capitals, two to four digits, an optional short suffix, four
# characters at least (H20, L20 and T5 are too short to tell a typo from another product), or three right
# after a vendor's name ("Tesla T40", "Tesla-T44").
# Lower-case or mixed tokens (`ggH200` in physics code, `v100` in a version) are never candidates.
_CANDIDATE = re.compile(r"(?<![A-Za-z0-9_.])([A-Z]{1,3}[0-9]{2,4}[A-Z]{0,3})(?![A-Za-z0-9_])")
_T = TypeVar("_T")
_CANDIDATE_HINT = re.compile("[A-Z][0-9l][0-9O]")  # in every candidate; far cheaper to scan for
_MIN_LENGTH = 4
_VENDOR_BEFORE = re.compile(r"\b(?:Tesla|NVIDIA|Nvidia|nvidia|AMD|Radeon|GeForce|Quadro|Instinct)[ \-_]$")
# A model-shaped token with a letter where a digit belongs: O for 0, I or l for 1 ("A1OG", "L4OS", "A1OO").
_CONFUSABLE = re.compile(r"(?<![A-Za-z0-9_.])([A-Z]{1,3}[0-9OIl]{2,4}[A-Z]{0,3})(?![A-Za-z0-9_])")
_DIGIT_FOR = {"O": "0", "I": "1", "l": "1"}
_CONFUSABLE_HINT = re.compile(r"[0-9][OIl]|[OIl][0-9]")
_GPU_CONTEXT = re.compile(r"\b(?:gpus?|nvidia|cuda|vram|hbm\w*|accelerators?|amd|rocm)\b", re.IGNORECASE)
_LINE_CONTEXT = re.compile(r"\b(?:memory|\d+\s?(?:GB|GiB))\b", re.IGNORECASE)
# Real accelerators (and chips, and NVIDIA products that are no GPU) the catalog does not carry: a
# different product, not a typo.
_REAL_MODELS = frozenset({
    "H800", "A800", "H20", "L20", "A16", "A30", "A2", "B100", "B300", "GB300", "GB10", "GH100", "GA100", "GA102",
    "AD102", "GB100", "GB202", "GK210", "GV100", "P100", "P40", "P4", "K80", "K40", "K20", "K10", "M60", "M40",
    "M10", "T10", "T4G", "L4T", "V100S", "A100X", "A30X", "A400", "A500", "A1000", "A2000", "A3000", "A4000",
    "A4500", "A5000", "A5500", "A6000", "T400", "T600", "T1000", "T2000", "MI100", "MI200", "MI210", "MI250",
    "MI250X", "MI300", "MI300A", "MI308X", "MI325X", "MI350X", "MI355X", "RTX6000", "RTX4090", "RTX3090",
})


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def closest_spelling(catalog: Catalog, token: str, prefer: GpuSpec | None = None) -> str | None:
    """The catalog spelling the token is a near-miss of ("GGH200" → "GH200"): within one edit for tokens of
    four characters or fewer, two for longer ones, and then only of a name that starts with the same letter
    ("L1003" is a line number, not an A100). On a tie, the name that shares the token's leading letters
    ("T40" → T4, not A40), then `prefer` (the deployment's GPU); None when models still tie ("A00": A10,
    A40 or A100?)."""
    wanted = token.upper()
    limit = 1 if len(token) <= 4 else 2
    letters = _leading_letters(wanted)
    ranked: list[tuple[tuple[int, bool, bool], int, str, GpuSpec]] = []
    for gpu in catalog.gpus:
        for spelling in (gpu.name, gpu.family, *gpu.aliases):
            compact = spelling.replace(" ", "").upper()
            distance = edit_distance(wanted, compact)
            if not 1 <= distance <= limit or (distance == 2 and compact[:1] != wanted[:1]):
                continue
            rank = (distance, _leading_letters(compact) != letters, prefer is None or not gpu.same_model(prefer))
            ranked.append((rank, len(ranked), spelling if catalog.resolve(spelling) is not None else gpu.name, gpu))
    if not ranked:
        return None
    ranked.sort(key=lambda r: r[:2])
    best = [r for r in ranked if r[0] == ranked[0][0]]
    if len({r[3].family for r in best}) > 1:
        return None
    return best[0][2]


def _leading_letters(token: str) -> str:
    return token[: len(token) - len(token.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))]


def read_as_digits(catalog: Catalog, token: str) -> str | None:
    """The catalog name a token spells with letters for digits ("A1OG" → A10G), when exactly one reading
    is a name or alias the catalog knows."""
    positions = [i for i, c in enumerate(token) if i > 0 and c in _DIGIT_FOR]
    if not positions or len(positions) > 4 or not any(c.isdigit() for c in token):
        return None
    readings = set()
    for mask in range(1, 2 ** len(positions)):
        chars = list(token)
        for bit, index in enumerate(positions):
            if mask >> bit & 1:
                chars[index] = _DIGIT_FOR[chars[index]]
        reading = "".join(chars)
        spec = catalog.resolve(reading)
        if spec is not None and reading.upper() in {s.replace(" ", "").upper()
                                                    for s in (spec.name, spec.family, *spec.aliases)}:
            readings.add(reading)
    return readings.pop() if len(readings) == 1 else None


class UnknownGpuModel(BaseRule):
    """Catches a GPU-like token the catalog does not know but that is one or two edits from a known name,
    and says which one was probably meant: "GGH200 → did you mean GH200?".

    Why it matters: a typo or a botched find-and-replace ("H200" → "GH200" applied to "GH200") leaves
    names that no scheduler, label or price list will ever match.

    Example: `- NVIDIA GGH200 GPU support` → suggests `- NVIDIA GH200 GPU support`.

    It is case- and context-aware: only upper-case model-like tokens (one to three capitals, two to four
    digits, optional suffix, four characters at least, or three right after a vendor's name: "Tesla T40"),
    only in files or lines about GPUs; never known names, lower-case tokens such as `ggH200` (gluon-gluon
    Higgs in physics code), URL anchors, paths, hex or version strings, or real products the catalog does
    not carry (H800, P100, L4T...). A letter typed for a digit ("A1OG", "L4OS") is read back as the
    catalog name it spells. When several models are equally near ("A00": A10, A40 or A100?), nothing is said.

    Also: a GPU label value that is not the catalog's label for its key
    (`cloud.google.com/gke-accelerator: nvidia-tesla-l4` → nvidia-l4; Karpenter's `instance-gpu-name`; a
    near-miss of an `nvidia.com/gpu.product` value), and a misspelled instance type of the deployment's
    provider (`a3-ultragup-8g` → a3-ultragpu-8g), corrected only to a type the catalog knows.

    Fix: safe. The suggestion replaces the token, token-bounded, by the catalog's spelling.
    """

    id = "unknown-gpu-model"
    default_severity = Severity.WARNING
    summary = "A GPU-like token the catalog does not know, with the nearest known name."
    fix_safe = True
    file_local = True  # a file's findings depend on that file and the manifest alone

    def check(self, ctx: ReviewContext) -> Iterator[Finding]:
        known_names: dict[str, bool] = {}  # token -> the catalog knows it (the same few tokens recur)
        catalog = ctx.catalog
        labels = _Lazy(lambda: label_index(catalog))
        vocabularies: dict[str, frozenset[str]] = {}

        def vocabulary_of(provider: str) -> frozenset[str]:
            if provider not in vocabularies:
                vocabularies[provider] = vocabulary(catalog, provider)
            return vocabularies[provider]

        for source_file, deployment in reviewed_files(ctx):
            providers = sorted(deployment_providers(deployment))
            model_lines = set(changed_matching(source_file, _CANDIDATE_HINT))
            label_lines = set(changed_containing(source_file, LABEL_NEEDLES))
            shapes = _shape_hint(tuple(providers))
            shape_lines = set(changed_matching(source_file, shapes)) if shapes is not None else set()
            file_context: bool | None = None  # computed once, only for files with a candidate
            for line in sorted(model_lines | label_lines | shape_lines):
                text = source_file.line_text(line)
                issues = self._models(ctx, text, known_names, deployment) if line in model_lines else []
                if issues and not _LINE_CONTEXT.search(text) and not _GPU_CONTEXT.search(text):
                    if file_context is None:
                        file_context = self._file_is_about_gpus(ctx, source_file)
                    if not file_context:
                        issues = [i for i in issues if i.vendor_named]
                issues += [
                    _Issue(w.start, w.end, w.value, w.meant[0] if len(w.meant) == 1 else None,
                           f"Unknown {w.what} `{w.value}` → did you mean {' or '.join(w.meant)}?", "GPU label")
                    for w in (wrong_labels(catalog, text, deployment.gpu, edit_distance, labels.get)
                              if line in label_lines else ())
                ]
                issues += [
                    _Issue(t.start, t.end, t.written, t.meant,
                           f"Unknown instance type `{t.written}` → did you mean {t.meant}?", "Instance type")
                    for t in (instance_typos(catalog, text, providers, deployment.instance_type, vocabulary_of)
                              if line in shape_lines else ())
                ]
                issues = _without_overlaps(issues)
                if not issues:
                    continue
                edits = [(i.start, i.end, i.meant) for i in issues if i.meant is not None]
                first = issues[0]
                yield self.finding(
                    source_file,
                    line,
                    " ".join(dict.fromkeys(i.message for i in issues)),
                    evidence=text,
                    deployment=deployment,
                    suggestion=apply_edits(text, edits) if edits else None,
                    component=first.component,
                    stated=first.written,
                    expected=first.meant or "",
                )

    @staticmethod
    def _models(ctx: ReviewContext, text: str, known_names: dict[str, bool], deployment: Deployment) -> list[_Issue]:
        found: list[_Issue] = []
        known = None
        catalog = ctx.catalog
        confusables = _CONFUSABLE.finditer(text) if _CONFUSABLE_HINT.search(text) else ()
        for match in (*_CANDIDATE.finditer(text), *confusables):
            token = match.group(1)
            if token in _REAL_MODELS:
                continue
            if token not in known_names:
                known_names[token] = catalog.resolve(token) is not None
            if known_names[token] or any(i.start == match.start(1) for i in found):
                continue
            vendor_named = _VENDOR_BEFORE.search(text, max(0, match.start() - 12), match.start()) is not None
            confusable = any(c in _DIGIT_FOR for c in token[1:])
            if len(token) < (3 if vendor_named else _MIN_LENGTH):
                continue
            if known is None:
                known = [(m.start, m.end) for m in mentions_of(ctx, text)]
            if any(start < match.end() and match.start() < end for start, end in known):
                continue  # part of a known name, label or instance type
            if is_embedded(text, match.start(1), match.end(1), lambda part: catalog.resolve(part) is not None):
                continue  # a URL anchor (`#L966-L1003`), a path, a hash, an identifier
            near = read_as_digits(catalog, token) if confusable else closest_spelling(catalog, token, deployment.gpu)
            if near is not None:
                found.append(_Issue(match.start(1), match.end(1), token, near,
                                    f"Unknown GPU model `{token}` → did you mean {near}?", "GPU model",
                                    vendor_named))
        return found

    @staticmethod
    def _file_is_about_gpus(ctx: ReviewContext, source_file: SourceFile) -> bool:
        return bool(_GPU_CONTEXT.search(source_file.text) or mentions_of(ctx, source_file.text))


@dataclass(frozen=True, slots=True)
class _Issue:
    start: int
    end: int
    written: str
    meant: str | None  # the replacement, or None when several are possible
    message: str
    component: str
    vendor_named: bool = False  # "Tesla T40": the vendor's name makes it a GPU whatever the file is about


def _without_overlaps(issues: list[_Issue]) -> list[_Issue]:
    kept: list[_Issue] = []
    for issue in sorted(issues, key=lambda i: (i.start, -i.end)):
        if not any(k.start < issue.end and issue.start < k.end for k in kept):
            kept.append(issue)
    return kept


class _Lazy(Generic[_T]):
    """A value built on first use (the catalog's label index: most reviews never need it)."""

    def __init__(self, build: Callable[[], _T]) -> None:
        self._build = build
        self._value: _T | None = None

    def get(self) -> _T:
        if self._value is None:
            self._value = self._build()
        return self._value


@lru_cache(maxsize=64)
def _shape_hint(providers: tuple[str, ...]) -> re.Pattern[str] | None:
    """What a line with an instance type of the deployment's providers contains (None: no shape known)."""
    hints = [hint for p in providers if (hint := shape_hint(p)) is not None]
    return re.compile("|".join(hints)) if hints else None
