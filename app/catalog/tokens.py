"""Token hygiene (spec §1b): where a GPU-like token is part of something else and names no GPU.

The catalog's matcher finds spellings bounded by non-alphanumerics, so `DCGM_L4_TIMEOUT`,
`requirements-h200.txt`, `simulator-llama2-7b-a100`, `https://...#a100` and a hash all hold one. A
mention counts only when the "word" around it (the run of characters that are not spaces, quotes,
brackets or separators of a statement) is the GPU spelling itself, or the spelling with parts that only
qualify a GPU (`NVIDIA_H100`, `h100-80gb`, `GPU_TYPE_H100`, `H200_MEMORY_GB`, `A100-based`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

# Characters that end a word: whitespace, quotes, brackets, and what separates values (`:`, `,`, `=`...).
# (Every line break `str.splitlines` knows is one, so a line searched alone gives the same answer.)
_STOP = frozenset(" \t\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\"'`()[]{}<>,;|=:\\")
_MAX_WORD = 160  # characters looked at on each side: words are short, text is untrusted
_PART = re.compile(r"[-_./+@#~%&?!*$]+")
# Parts that qualify a GPU rather than name something else.
_GPU_WORDS = frozenset({
    "nvidia", "tesla", "amd", "intel", "gpu", "gpus", "type", "types", "model", "models", "name", "sku", "skus",
    "family", "kind", "memory", "mem", "vram", "hbm", "hbm2", "hbm2e", "hbm3", "hbm3e", "gb", "gib", "g", "tb",
    "sxm", "sxm2", "sxm3", "sxm4", "sxm5", "sxm6", "pcie", "nvl", "nvlink", "count", "num", "node", "nodes",
    "pool", "nodepool", "price", "cost", "hourly", "hour", "per", "instance", "instances", "accelerator",
    "accelerators", "card", "cards", "device", "devices", "superchip", "grace", "hopper", "blackwell", "ampere",
    "ada", "lovelace", "generation", "ml", "standard", "s", "mig", "and", "or", "vs", "to",
    # prose compounds: "A100-based", "H100-class", "GH200-optimized"
    "based", "class", "powered", "optimized", "optimised", "equipped", "enabled", "backed", "capable", "only",
    "ready", "series", "specific", "compatible", "friendly", "sized", "level",
})
_QUALIFIER = re.compile(r"^(?:\d+(?:\.\d+)?(?:x|gb?|gib|tb|g)?|x\d+|v\d+|\d+g\.\d+gb)$")
_HEX = re.compile(r"^[0-9a-f]{12,}$|^[0-9A-F]{12,}$")
_BASE64_RUN = 40  # a word this long of letters, digits, + and / is encoded data, not text


def word_around(text: str, start: int, end: int) -> tuple[int, int]:
    """The bounds of the word that holds text[start:end] (see the module docstring)."""
    left = start
    limit = max(0, start - _MAX_WORD)
    while left > limit and text[left - 1] not in _STOP:
        left -= 1
    right = end
    limit = min(len(text), end + _MAX_WORD)
    while right < limit and text[right] not in _STOP:
        right += 1
    # A URL's scheme ends at `:` — take it in, so `https://host/a100` is seen as the URL it is.
    if left >= 3 and text[left - 1] == ":" and text.startswith("//", left):
        left -= 1
        while left > limit and text[left - 1] not in _STOP:
            left -= 1
    return left, right


def stands_alone(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is a whole word: what most mentions are, told without `is_embedded`."""
    return (start == 0 or text[start - 1] in _STOP) and (end >= len(text) or text[end] in _STOP)


def is_embedded(text: str, start: int, end: int, is_gpu: Callable[[str], bool] = lambda _: False) -> bool:
    """True when the GPU-like token text[start:end] is part of a longer word that is not about a GPU:
    a URL or its anchor, a path or file name, a hash or encoded data, a shell variable, or an identifier
    whose other parts are not GPU qualifiers. `is_gpu(part)`: whether a part is itself a GPU spelling
    ("A100/H100" is a list of two)."""
    left, right = word_around(text, start, end)
    word = text[left:right].rstrip(".!?")
    if len(word) <= end - start:
        return False
    if "://" in word or word.startswith("www.") or word.startswith("data:"):
        return True
    if len(word) >= _BASE64_RUN and re.fullmatch(r"[A-Za-z0-9+/=_-]+", word):
        return True
    rest = text[left:start] + " " + text[end:right]
    if "$" in rest or "#" in text[left:start]:
        return True  # `${DCGM_L4_TIMEOUT}`, `$A100_HOME`, a URL anchor `#a100`
    parts = [p for p in _PART.split(rest.replace(" ", "-").lower()) if p]
    for part in parts:
        if _HEX.match(part) and len(part) >= 12:
            return True
        if part in _GPU_WORDS or _QUALIFIER.match(part) or is_gpu(part):
            continue
        return True
    return False


_LEVEL = re.compile(r"^[Ll][1-4]$")
_LEVEL_BEFORE = re.compile(r"(?i)\b(?:dcgm\w*|diag\w*|level|run|-r)\W{0,3}$")
_LEVEL_AFTER = re.compile(r"(?i)^\W{0,3}(?:\(?extended\)?\s+)?(?:diag\w*|level|tests?|checks?)\b")


def is_level(text: str, start: int, end: int) -> bool:
    """`L1`..`L4` as a level, not a GPU: "DCGM L4 (extended) diagnostics", "run level L3", "L4 checks"."""
    if not _LEVEL.match(text[start:end]):
        return False
    return bool(_LEVEL_BEFORE.search(text, max(0, start - 16), start) or _LEVEL_AFTER.match(text[end : end + 40]))
