"""Token helpers shared by the built-in rules: token-bounded edits, where prose sits on a line, GPU spellings.

Rules never parse files themselves: `LineKinds` reads the spans the format extractors found
(`SourceFile.facts.spans`) and answers "is column N of line L a comment / prose / string / code?".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from app.catalog import GpuMention
from app.context import ReviewContext, SourceFile
from app.formats import SpanKind
from app.manifest import MANIFEST_PATHS, Deployment

_WORD = r"A-Za-z0-9_"
PROSE_KINDS: frozenset[str] = frozenset({"comment", "prose", "table"})
_PROSE_FORMATS = frozenset({"markdown", "text"})
_SENTENCE_WORDS = 4  # a string literal with this many words reads as prose ("the enhanced H200 nodes")

# Words that make a sentence compare GPUs on purpose rather than claim one ("upgrade from A10 to GH200",
# "H200 vs GH200", "instead of H100", "previously ran on A100").
COMPARISON = re.compile(
    r"\b(?:vs|versus|instead\s+of|rather\s+than|compared?\s+(?:to|with)|comparison|comparing|unlike|than"
    r"|from\b.{0,80}?\bto|upgrad\w*|downgrad\w*|migrat\w*|previous\w*|formerly|former|legacy|old|older"
    r"|replac\w*|switch\w*|mov(?:e|ed|ing)\s+(?:off|away|from)|no\s+longer|not|was|were|used\s+to)\b"
    r"|→|->|=>",
    re.IGNORECASE,
)


def token_spans(text: str, token: str, *, ignore_case: bool = False) -> list[tuple[int, int]]:
    """Where `token` occurs in `text` as a whole token (GH200 never matches inside GGH200 or H200_V2)."""
    flags = re.IGNORECASE if ignore_case else 0
    pattern = re.compile(rf"(?<![{_WORD}]){re.escape(token)}(?![{_WORD}])", flags)
    return [(m.start(), m.end()) for m in pattern.finditer(text)]


def apply_edits(text: str, edits: Iterable[tuple[int, int, str]]) -> str:
    """Replace non-overlapping [start, end) ranges of `text`; the ranges may come in any order."""
    out: list[str] = []
    cursor = 0
    for start, end, replacement in sorted(edits):
        if start < cursor:
            raise ValueError("overlapping edits")
        out.append(text[cursor:start])
        out.append(replacement)
        cursor = end
    out.append(text[cursor:])
    return "".join(out)


def is_manifest_path(ctx: ReviewContext, path: str) -> bool:
    """align.yaml declares the deployments: it is the truth, never a file that contradicts it."""
    return path == ctx.manifest.path or path in MANIFEST_PATHS


class LineKinds:
    """Where comments, prose, strings and code sit on each line of one file (built once per file)."""

    def __init__(self, source_file: SourceFile) -> None:
        facts = source_file.facts
        self._format = facts.format
        self._ranges: dict[int, list[tuple[int, int, SpanKind]]] = {}
        search_from: dict[int, int] = {}
        for span in facts.spans:
            line_text = source_file.line_text(span.line)
            if not span.text.strip():
                continue
            start = line_text.find(span.text, search_from.get(span.line, 0))
            if start < 0:
                start = line_text.find(span.text)
            if start < 0:
                # The extractor normalized the text: a prose or table span stands for its whole line.
                if span.kind in PROSE_KINDS:
                    self._ranges.setdefault(span.line, []).append((0, len(line_text), span.kind))
                continue
            search_from[span.line] = start + len(span.text)
            self._ranges.setdefault(span.line, []).append((start, start + len(span.text), span.kind))

    def kind_at(self, line: int, column: int) -> SpanKind:
        best: tuple[int, SpanKind] | None = None
        for start, end, kind in self._ranges.get(line, ()):
            if start <= column < end and (best is None or end - start < best[0]):
                best = (end - start, kind)  # the innermost span wins (a string inside a code line)
        if best is not None:
            return best[1]
        return "prose" if self._format in _PROSE_FORMATS else "code"

    def span_text_at(self, line: int, column: int, line_text: str) -> str:
        """The text of the innermost span at the column (the whole line when no span covers it)."""
        best: tuple[int, int] | None = None
        for start, end, _kind in self._ranges.get(line, ()):
            if start <= column < end and (best is None or end - start < best[1] - best[0]):
                best = (start, end)
        return line_text[best[0] : best[1]] if best else line_text

    def is_prose(self, line: int, column: int, line_text: str) -> bool:
        """Human text: a comment, Markdown prose or table, or a string literal that reads as a sentence."""
        kind = self.kind_at(line, column)
        if kind in PROSE_KINDS:
            return True
        if kind == "string":
            return len(self.span_text_at(line, column, line_text).split()) >= _SENTENCE_WORDS
        return False


def markdown_table_block(lines: list[str], line: int) -> range:
    """The 1-based line range of the Markdown table row `line` belongs to (empty when it is no table row)."""
    if not lines[line - 1].lstrip().startswith("|"):
        return range(0)
    first = line
    while first > 1 and lines[first - 2].lstrip().startswith("|"):
        first -= 1
    last = line
    while last < len(lines) and lines[last].lstrip().startswith("|"):
        last += 1
    return range(first, last + 1)


def mentions_of(ctx: ReviewContext, text: str) -> list[GpuMention]:
    return ctx.catalog.find_mentions(text) if text.strip() else []


def _shape(instance_type: str) -> str:
    """A coarse provider style, so an AWS instance type is never suggested in place of a Lambda one."""
    if instance_type.startswith("gpu_"):
        return "lambda"
    if instance_type.lower().startswith("standard_") or instance_type.startswith("ND") or "_v" in instance_type:
        return "azure"
    if "." in instance_type:
        return "aws"
    if "-" in instance_type:
        return "gcp"
    return "other"


def equivalent_spelling(mention: GpuMention, deployment: Deployment) -> str | None:
    """The deployment's GPU written the way `mention` was (same kind of name), or None when there is none."""
    gpu = deployment.gpu
    if mention.kind == "product_label":
        return gpu.product_labels[0] if gpu.product_labels else None
    if mention.kind == "node_label":
        gke_style = mention.text.lower().startswith("nvidia-")
        for label in gpu.node_labels:
            if label.lower().startswith("nvidia-") == gke_style:
                return label.lower() if mention.text.islower() else label
        return None
    if mention.kind == "instance_type":
        wanted = deployment.instance_type
        if wanted and not any(c in wanted for c in "*?[") and _shape(wanted) == _shape(mention.text):
            return wanted
        return None
    name = gpu.name
    if " " in name and " " not in mention.text:
        # A config value like `gpu: h100` wants one token: prefer an alias without spaces.
        name = next((a for a in gpu.aliases if " " not in a), name)
    return name.lower() if mention.text.islower() and not mention.text.isdigit() else name


_PATHY = re.compile(r"(?:/|\\|\.(?:txt|py|ya?ml|json|toml|ts|js|sh|md|cfg|ini|whl|tar|gz|zip|tf)\b|^Dockerfile)")


def inside_file_name(text: str, start: int, end: int) -> bool:
    """True when the mention is part of a path or file name (`requirements-h200.txt`, `Dockerfile.h200`):
    renaming it in place would point at a file that does not exist."""
    left = start
    while left > 0 and not text[left - 1].isspace() and text[left - 1] not in "\"'`([{,=":
        left -= 1
    right = end
    while right < len(text) and not text[right].isspace() and text[right] not in "\"'`)]},":
        right += 1
    word = text[left:right]
    return bool(_PATHY.search(word)) and word != text[start:end]
