"""Instance-type typos of the deployment's provider: `a3-ultragup-8g` → `a3-ultragpu-8g`.

A token shaped like one provider's instance types is read as words ("a3", "ultragup", "8g"); a long word
that is not in the provider's vocabulary (the words of the catalog's instance types for that provider, and
a few real family and size words the catalog does not list) but is one edit (a transposition counts as
one) from exactly one word of it is a typo. The correction is offered only when the corrected token is an
instance type the catalog knows (exactly or by a glob) or the deployment's own: a real type of that
provider, never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from align.catalog import Catalog
from align.scope.providers import provider_of_instance_type

# Instance-type shapes, by provider: `a3-highgpu-8g`, `p4d.24xlarge` / `ml.p5.48xlarge`,
# `Standard_NC24ads_A100_v4`, `gpu_1x_gh200`, `VM.GPU.A10.2`.
_SHAPES: dict[str, str] = {
    "gcp": r"(?<![\w.\-/])[a-z]\d[a-z]?-[a-z]{4,}-\d+g?(?![\w\-])",
    "aws": r"(?<![\w.\-/])(?:ml\.)?[a-z]{1,4}\d[a-z\-]*\.\d*[a-z]{4,}(?![\w\-]|\.\w)",
    "sagemaker": r"(?<![\w.\-/])ml\.[a-z]{1,4}\d[a-z\-]*\.\d*[a-z]{4,}(?![\w\-]|\.\w)",
    "azure": r"(?<![\w\-/])(?:[A-Z][a-z]{4,}_)?[A-Z]{1,3}\d+[a-z]*(?:_[A-Za-z0-9]+)*_v\d+(?![\w\-])",
    "lambda": r"(?<![\w\-/])gpu_\d+x_[a-z0-9_]+(?![\w\-])",
    "oracle": r"(?<![\w\-/])(?:BM|VM)\.GPU[\w.]*",
}
_HINTS: dict[str, str] = {
    "gcp": r"\d-[a-z]{4,}-\d", "aws": r"\d[a-z\-]*\.\d*[a-z]{4}", "sagemaker": r"ml\.[a-z]", "azure": r"_v\d",
    "lambda": r"gpu_\d", "oracle": r"\.GPU",
}
# Real words of each provider's instance types that the catalog may not list (families without a GPU it
# carries, sizes): never typos.
_REAL_WORDS: dict[str, frozenset[str]] = {
    "gcp": frozenset({"highgpu", "megagpu", "ultragpu", "edgegpu", "maxgpu", "standard", "highmem", "highcpu",
                      "megamem", "ultramem", "hypermem", "custom"}),
    "aws": frozenset({"large", "xlarge", "metal", "medium", "small", "micro", "nano"}),
    "sagemaker": frozenset({"large", "xlarge", "metal", "medium"}),
    "azure": frozenset({"standard", "basic", "promo"}),
}
_FILLERS = ("1g", "xlarge", "1")  # what a glob's `*` is tried as, to tell its provider
_MIN_WORD = 5  # shorter words ("ads", "sxm") are too short to call a typo
_LETTERS = re.compile(r"[A-Za-z]+")
_AZURE_TIER = re.compile(r"^(?:Standard|Basic)_")
_SAGEMAKER = re.compile(r"^ml\.")


@dataclass(frozen=True, slots=True)
class InstanceTypo:
    start: int
    end: int
    written: str
    meant: str


def instance_typos(catalog: Catalog, text: str, providers: Iterable[str], own_type: str | None,
                   vocabulary_of: Callable[[str], frozenset[str]]) -> list[InstanceTypo]:
    """Instance types of `providers` misspelled in `text`, each with the catalog's (or `own_type`) spelling.
    `vocabulary_of(provider)` gives `vocabulary(catalog, provider)`, asked only for a token of that shape."""
    found: list[InstanceTypo] = []
    for provider in providers:
        shape = _SHAPES.get(provider)
        if shape is None:
            continue
        for match in _shape(shape).finditer(text):
            token = match.group(0)
            vocabulary = vocabulary_of(provider)
            meant = (None if _known(catalog, token, None) else _own_near_miss(token, own_type)) or _corrected(
                token, vocabulary)
            if meant is None or meant == token:
                continue
            if not _known(catalog, meant, own_type):
                continue  # the correction must be a real instance type, not a guess
            if any(f.start == match.start() for f in found):
                continue
            found.append(InstanceTypo(match.start(), match.end(), token, meant))
    return found


def shape_hint(provider: str) -> str | None:
    """What every token of the provider's shape contains, cheap to scan a file for (None: no shape here)."""
    return _HINTS.get(provider)


def _known(catalog: Catalog, instance_type: str, own_type: str | None) -> bool:
    if own_type is not None and instance_type.lower() == own_type.lower():
        return True
    # The catalog lists Azure sizes without their tier, and EC2 types without SageMaker's `ml.` (the
    # `ml.p5e.48xlarge` beside the deployment's `ml.p5.48xlarge` is the p5e, a real H200 type, not a typo).
    bare = _SAGEMAKER.sub("", _AZURE_TIER.sub("", instance_type))
    return catalog.resolve(instance_type) is not None or catalog.resolve(bare) is not None


_DIGITS = re.compile(r"\d+")
_OWN_MIN = 8  # characters of an instance type from which a near miss of the deployment's own is a typo


def _own_near_miss(token: str, own_type: str | None) -> str | None:
    """The deployment's own instance type, when `token` is one or two edits from it (`Standard_NV36as_A10_v5`
    for `Standard_NV36ads_A10_v5`): a typo of the one type this deployment runs on."""
    if not own_type or len(own_type) < _OWN_MIN or token.lower() == own_type.lower():
        return None
    bare_token, bare_own = _AZURE_TIER.sub("", token).lower(), _AZURE_TIER.sub("", own_type).lower()
    if bare_token == bare_own or _DIGITS.findall(bare_token) != _DIGITS.findall(bare_own):
        return None  # another size (`NV12ads` beside `NV36ads`), not a typo
    distance = osa_distance(bare_token, bare_own)
    if 0 < distance <= (1 if len(bare_own) < 12 else 2):
        return own_type if _AZURE_TIER.match(token) or not _AZURE_TIER.match(own_type) else bare_own
    return None


def _corrected(token: str, vocabulary: frozenset[str]) -> str | None:
    edits: list[tuple[int, int, str]] = []
    for word in _LETTERS.finditer(token):
        written = word.group(0)
        lowered = written.lower()
        if len(lowered) < _MIN_WORD or lowered in vocabulary:
            continue
        near = [v for v in vocabulary if len(v) >= _MIN_WORD and osa_distance(lowered, v) == 1]
        if len(near) != 1:
            return None  # an unknown word, or one near several: a family the catalog does not know
        edits.append((word.start(), word.end(), _same_case(near[0], written)))
    if not edits:
        return None
    out, cursor = [], 0
    for start, end, replacement in edits:
        out += [token[cursor:start], replacement]
        cursor = end
    return "".join(out) + token[cursor:]


def _same_case(word: str, like: str) -> str:
    if like.isupper():
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def vocabulary(catalog: Catalog, provider: str) -> frozenset[str]:
    """The words of the provider's instance types: the catalog's and the real ones listed here."""
    words = set(_REAL_WORDS.get(provider, ()))
    for gpu in catalog.gpus:
        for instance_type in gpu.instance_types:
            if _provider_of(instance_type) == provider:
                words.update(w.lower() for w in _LETTERS.findall(instance_type))
    return frozenset(words)


def _provider_of(instance_type: str) -> str | None:
    for filler in _FILLERS if "*" in instance_type else ("",):
        provider = provider_of_instance_type(instance_type.replace("*", filler))
        if provider is not None:
            return provider
    return None


@lru_cache(maxsize=16)
def _shape(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def osa_distance(a: str, b: str) -> int:
    """Edit distance where swapping two neighbouring characters counts as one edit ("ultragup"/"ultragpu")."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(rows[i - 1][j] + 1, row[j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[i - 2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]
