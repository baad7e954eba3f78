"""Token helpers shared by the built-in rules: token-bounded edits, where prose sits on a line, GPU spellings.

Rules never parse files themselves: `LineKinds` reads the spans the format extractors found
(`SourceFile.facts.spans`) and answers "is column N of line L a comment / prose / string / code?".
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property, lru_cache
from itertools import pairwise

from align.catalog import GpuMention, GpuSpec, MentionKind
from align.context import ReviewContext, SourceFile
from align.formats import SpanKind, TextSpan
from align.formats.common import COMMENT_MARKERS, comment_start
from align.manifest import MANIFEST_PATHS, Deployment
from align.rules._lines import line_mentions

_WORD = r"A-Za-z0-9_"
PROSE_KINDS: frozenset[str] = frozenset({"comment", "prose", "table"})
_PROSE_FORMATS = frozenset({"markdown", "text"})
_SENTENCE_WORDS = 4  # a string literal with this many words reads as prose ("the enhanced H200 nodes")

# Words that make a sentence compare GPUs on purpose rather than claim one ("upgrade from A10 to GH200",
# "H200 vs GH200", "instead of H100", "previously ran on A100").
COMPARISON = re.compile(
    r"\b(?:vs|versus|instead\s+of|rather\s+than|compared?\s+(?:to|with)|comparison|comparing|unlike|than"
    r"|from\b.{0,80}?\bto|upgrad\w*|downgrad\w*|migrat\w*|previous\w*|formerly|former|legacy|old|older"
    r"|replac\w*|switch\w*|mov(?:e|ed|ing)\s+(?:off|away|from)|no\s+longer|not|was|were|used\s+to|benchmark\w*)\b"
    r"|→|->|=>",
    re.IGNORECASE,
)


# Prose that gives an example or an option rather than a claim ("e.g. p4d.24xlarge for AWS", "such as an
# A100", "best available up to H100", "A100 or lower", "tier-based fallback").
EXAMPLE = re.compile(
    r"\be\.g\.|\bfor\s+(?:example|instance)\b|\bsuch\s+as\b|\bexamples?\b|\bup\s+to\b"
    r"|\bor\s+(?:less|lower|better|higher|newer|older|above|below|similar|equivalent)\b|\bfall\s*back\b"
    # facts about a GPU rather than where the code runs: "only tested on A100", "A100 specifications"
    r"|\btested\b|\bspec(?:ification)?s\b|\bwhite\s*paper\b|\bdata\s*sheet\b"
    r"|\bSMs\b|\bcompute\s+capability\b|\bsm_\d+\b|\bT?FLOPS\b|\bthreads\s+per\b|\bbandwidth\b"
    # a product's default, for users to change ("Assume V100 as default", "defaults to A10")
    r"|\bdefaults?\b|\blike\s*:"
    # an option or a condition rather than what runs: "H100 and above", "if you would like to try A100",
    # "when using A100 MIG", tests
    r"|\band\s+(?:above|later|newer|up)\b|\bif\s+(?:you|users?)\s+(?:would\s+like|wants?|wish|prefer)\b"
    r"|\boptional(?:ly)?\b|\balternative(?:ly)?\b|\bwhen\s+(?:using|use|you\s+use)\b|\btest(?:s|ed|ing)?\b",
    re.IGNORECASE,
)


_DOC_SENTENCE_WORDS = 6
# Hardware that is simulated, mocked or faked: `--build-arg SIMULATION=a100`, `FakeGPU("H100")`.
SIMULATED = re.compile(r"simulat|\bmock|\bfake|\bdummy|\bstub|emulat", re.IGNORECASE)


def token_spans(text: str, token: str, *, ignore_case: bool = False) -> list[tuple[int, int]]:
    """Where `token` occurs in `text` as a whole token (GH200 never matches inside GGH200 or H200_V2)."""
    return [(m.start(), m.end()) for m in token_pattern(token, ignore_case=ignore_case).finditer(text)]


@lru_cache(maxsize=256)
def token_pattern(token: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """The compiled pattern `token_spans` searches with (compiled once per token, not once per line)."""
    flags = re.IGNORECASE if ignore_case else 0
    return re.compile(rf"(?<![{_WORD}]){re.escape(token)}(?![{_WORD}])", flags)


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


def reviewed_files(ctx: ReviewContext) -> Iterator[tuple[SourceFile, Deployment]]:
    """The files a line rule reads: changed lines, a governing deployment, and not align.yaml itself."""
    for source_file, deployment in ctx.files_with_deployment():
        if source_file.changed_lines and not is_manifest_path(ctx, source_file.path):
            yield source_file, deployment


class LineKinds:
    """Where comments, prose, strings and code sit on each line of one file. Lines are located lazily:
    repository-wide rules only ever look at the few lines that mention what they search for."""

    def __init__(self, source_file: SourceFile) -> None:
        self._file = source_file
        self._located: dict[int, list[tuple[int, int, SpanKind]]] = {}
        self._indexes: dict[int, _InnermostSpans] = {}

    @cached_property
    def _format(self) -> str:
        return self._file.facts.format

    @cached_property
    def _spans(self) -> dict[int, list[TextSpan]]:
        by_line: dict[int, list[TextSpan]] = {}
        for span in self._file.facts.spans:
            by_line.setdefault(span.line, []).append(span)
        return by_line

    def _ranges(self, line: int) -> list[tuple[int, int, SpanKind]]:
        ranges = self._located.get(line)
        if ranges is None:
            ranges = self._located[line] = self._locate(line)
        return ranges

    def _locate(self, line: int) -> list[tuple[int, int, SpanKind]]:
        line_text = self._file.line_text(line)
        ranges: list[tuple[int, int, SpanKind]] = []
        search_from = 0
        for span in self._spans.get(line, ()):
            if not span.text.strip():
                continue
            if span.kind == "comment":
                start = line_text.rfind(span.text)  # a comment ends its line; the same words may come earlier
            else:
                start = line_text.find(span.text, search_from)
                if start < 0:
                    start = line_text.find(span.text)
            if start < 0:
                # The extractor normalized the text: a prose or table span stands for its whole line.
                if span.kind in PROSE_KINDS:
                    ranges.append((0, len(line_text), span.kind))
                continue
            if span.text != line_text:
                search_from = start + len(span.text)
            ranges.append((start, start + len(span.text), span.kind))
        if self._file.facts.parse_error is not None:
            # The extractor fell back to one span per line: find trailing comments ourselves, so that
            # "gpu: H200  # GH200 in production" still tells the value from the comment.
            start = comment_start(line_text, COMMENT_MARKERS.get(self._format, ()))
            if start >= 0:
                ranges.append((start, len(line_text), "comment"))
        return ranges

    def _index(self, line: int) -> _InnermostSpans | None:
        """For a line with many spans (a one-line JSON file, a long list), an index that answers the
        span questions below without a scan of every span per column."""
        ranges = self._ranges(line)
        if len(ranges) <= _SCAN_SPANS:
            return None
        index = self._indexes.get(line)
        if index is None:
            index = self._indexes[line] = _InnermostSpans(ranges)
        return index

    def kind_at(self, line: int, column: int) -> SpanKind:
        index = self._index(line)
        if index is not None:
            found = index.by_kind.at(column)
            if found is not None:
                return found[2]
            return "prose" if self._format in _PROSE_FORMATS else "code"
        best: tuple[int, int, SpanKind] | None = None
        for start, end, kind in self._ranges(line):
            # The innermost span wins (a string inside a code line); on a tie, the more specific kind.
            rank = (end - start, kind == "code")
            if start <= column < end and (best is None or rank < best[:2]):
                best = (*rank, kind)
        if best is not None:
            return best[2]
        return "prose" if self._format in _PROSE_FORMATS else "code"

    def span_text_at(self, line: int, column: int, line_text: str) -> str:
        """The text of the innermost span at the column (the whole line when no span covers it)."""
        index = self._index(line)
        if index is not None:
            found = index.by_length.at(column)
            return line_text[found[0] : found[1]] if found else line_text
        best: tuple[int, int] | None = None
        for start, end, _kind in self._ranges(line):
            if start <= column < end and (best is None or end - start < best[1] - best[0]):
                best = (start, end)
        return line_text[best[0] : best[1]] if best else line_text

    def code_only(self, line: int, line_text: str) -> str:
        """The line with its human text (comments, prose) blanked: "# GH200 hosts are arm64" proves nothing."""
        cuts = sorted({0, len(line_text)} | {p for s, e, _ in self._ranges(line) for p in (s, e)})
        out = []
        for start, end in pairwise(cuts):
            if start >= len(line_text):
                break
            end = min(end, len(line_text))
            prose = self.is_prose(line, start, line_text)
            out.append(" " * (end - start) if prose else line_text[start:end])
        return "".join(out)

    def is_prose(self, line: int, column: int, line_text: str) -> bool:
        """Human text: a comment, Markdown prose or table, or a string literal that reads as a sentence."""
        kind = self.kind_at(line, column)
        if kind == "prose":
            # A lone word is no sentence (a URL or a pinned requirement), and a plain .txt file holds
            # lists as often as sentences.
            return len(line_text.split()) >= (_SENTENCE_WORDS if self._format == "text" else 2)
        if kind in PROSE_KINDS:
            return True
        if kind == "string":
            return len(self.span_text_at(line, column, line_text).split()) >= _SENTENCE_WORDS
        return False


_SCAN_SPANS = 16  # up to this many spans on a line, a scan of them all is as quick as an index


_Range = tuple[int, int, SpanKind]


class _Painted:
    """Which span is innermost at each column: the line cut at every span boundary, each piece given the
    first span (in `key` order) that covers it. Pieces already given are skipped (union-find), so building
    costs one pass per piece and per span, and a lookup one binary search."""

    def __init__(self, ranges: list[_Range], key: Callable[[int], tuple[int, ...]]) -> None:
        self._bounds = sorted({p for start, end, _ in ranges for p in (start, end)})
        where = {p: i for i, p in enumerate(self._bounds)}
        pieces = len(self._bounds) - 1
        self._owner: list[_Range | None] = [None] * max(pieces, 0)
        following = list(range(pieces + 1))  # the next piece not yet given, from each piece

        def next_free(piece: int) -> int:
            root = piece
            while following[root] != root:
                root = following[root]
            while following[piece] != root:
                following[piece], piece = root, following[piece]
            return root

        for order in sorted(range(len(ranges)), key=key):
            start, end, _kind = ranges[order]
            piece, last = next_free(where[start]), where[end]
            while piece < last:
                self._owner[piece] = ranges[order]
                following[piece] = piece + 1
                piece = next_free(piece + 1)

    def at(self, column: int) -> _Range | None:
        piece = bisect_right(self._bounds, column) - 1
        return self._owner[piece] if 0 <= piece < len(self._owner) else None


class _InnermostSpans:
    """`LineKinds.kind_at` and `span_text_at` for one line, with their tie-breaks: the shortest span, then
    (kind_at) a more specific kind than code, then the first listed."""

    def __init__(self, ranges: list[_Range]) -> None:
        self.by_kind = _Painted(ranges, lambda i: (ranges[i][1] - ranges[i][0], ranges[i][2] == "code", i))
        self.by_length = _Painted(ranges, lambda i: (ranges[i][1] - ranges[i][0], i))


def kinds_of(source_file: SourceFile) -> LineKinds:
    """The file's LineKinds, shared by every rule that reads it."""
    return source_file.derived(LineKinds)


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


_URL = re.compile(r"\b(?:https?|s3|gs)://\S+")

# A line naming more GPUs than this makes no claim: it is data or a catalog. The most on a line of the
# 35,085 text files of bench/realworld is 16, a ConfigMap's list of MIG profiles
# (`python -m bench.realworld.long_lines --mentions`); without a limit, each of a line's hundreds of names
# would be weighed as a claim.
MAX_MENTIONS_OF_A_CLAIM = 64


def claimed_gpus(
    ctx: ReviewContext, source_file: SourceFile, kinds: LineKinds, line: int, target: GpuSpec
) -> list[GpuMention]:
    """The mentions on `line` that state a GPU other than `target` as what the code runs on.

    Left out: lines naming more than MAX_MENTIONS_OF_A_CLAIM GPUs, prose that compares GPUs on purpose
    (comparison words, the target named on the same line, two or more other models, a Markdown table that
    lists the target in another row), code lists and lookup tables that also hold the target, and names
    inside URLs (a page, not hardware).
    """
    text = source_file.line_text(line)
    mentions = line_mentions(ctx, source_file, line)
    if len(mentions) > MAX_MENTIONS_OF_A_CLAIM:
        return []
    others = [m for m in mentions if not m.gpu.same_model(target)]
    if not others:
        return []
    urls = [u.span() for u in _URL.finditer(text)] if "://" in text else []
    others = [m for m in others if not any(s <= m.start < e for s, e in urls)]
    right = [m for m in mentions if m.gpu.same_model(target)]
    right_in_code = any(not kinds.is_prose(line, m.start, text) for m in right)
    several = len({m.gpu.family for m in others}) > 1
    claims = []
    table_has_target: bool | None = None
    simulated = SIMULATED.search(text) is not None
    # A sentence inside a code block of a document (a `--help` text, an explanation in a console session)
    # reads as prose.
    sentence_in_docs = source_file.facts.format == "markdown" and len(text.split()) >= _DOC_SENTENCE_WORDS
    # Whole-line answers, each looked up once (at most) however many mentions the line holds.
    compares: bool | None = None
    gives_example: bool | None = None
    for mention in others:
        if not sentence_in_docs and not kinds.is_prose(line, mention.start, text):
            # A string in code that gives an example ("For example: --model-config-name=h100.").
            in_example = kinds.kind_at(line, mention.start) == "string" and EXAMPLE.search(
                kinds.span_text_at(line, mention.start, text))
            if not right_in_code and not simulated and not in_example:
                claims.append(mention)
            continue
        if _described_as_ours(mention, right, text):
            claims.append(mention)  # "`p5e.48xlarge` (8 × H100 80GB each)": the instance is not what it says
            continue
        if right or several or simulated:
            continue
        if compares is None:
            compares = COMPARISON.search(text) is not None
        if compares:
            continue
        if gives_example is None:
            # The sentence may have started on the line above ("E.g. with autoscaling, ... \n with p4d").
            sentence = source_file.line_text(line - 1)[-120:] + " " + text if line > 1 else text
            gives_example = EXAMPLE.search(sentence) is not None
        if gives_example:
            continue
        if table_has_target is None:
            table = markdown_table_block(source_file.lines, line)
            table_has_target = any(
                m.gpu.same_model(target) for row in table for m in line_mentions(ctx, source_file, row)
            )
        if not table_has_target:
            claims.append(mention)
    return claims


def _described_as_ours(mention: GpuMention, right: list[GpuMention], text: str) -> bool:
    """An instance type followed by the deployment's GPU in brackets as its description."""
    if mention.kind != "instance_type":
        return False
    return any(0 < r.start - mention.end <= 40 and "(" in text[mention.end : r.start]
               and ")" not in text[mention.end : r.start] for r in right)


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


def mention_kind(mention: GpuMention) -> MentionKind:
    """The kind of spelling as written: `NVIDIA-H200` is the product label even where an alias
    ("NVIDIA H200") claimed the same letters first."""
    text = mention.text.lower()
    if any(text == label.lower() for label in mention.gpu.product_labels):
        return "product_label"
    gpu = mention.gpu
    names = {n.lower() for n in (gpu.name, gpu.family, *gpu.aliases)}
    if mention.kind == "name" and text not in names and any(text == label.lower() for label in gpu.node_labels):
        return "node_label"  # "nvidia-l4", but not "h100", which is also how people write the name
    return mention.kind


_VENDOR = re.compile(r"^(?:nvidia|amd)[\s_-]+", re.IGNORECASE)


def equivalent_spelling(mention: GpuMention, deployment: Deployment) -> str | None:
    """The deployment's GPU written the way `mention` was (same kind of name), or None when there is none."""
    gpu = deployment.gpu
    kind = mention_kind(mention)
    if kind == "product_label":
        return gpu.product_labels[0] if gpu.product_labels else None
    if kind == "node_label":
        gke_style = mention.text.lower().startswith("nvidia-")
        for label in gpu.node_labels:
            if label.lower().startswith("nvidia-") == gke_style:
                return label.lower() if mention.text.islower() else label
        return None
    if kind == "instance_type":
        wanted = deployment.instance_type
        if wanted and not any(c in wanted for c in "*?[") and _shape(wanted) == _shape(mention.text):
            return wanted
        return None
    name = gpu.name
    if " " in name and " " not in mention.text:
        # A config value like `gpu: h100` wants one token: prefer an alias without spaces.
        name = next((a for a in gpu.aliases if " " not in a), name)
    vendor = _VENDOR.match(mention.text)
    if vendor and not _VENDOR.match(name):
        name = vendor.group(0) + name  # "NVIDIA H200" → "NVIDIA GH200"
    return name.lower() if mention.text.islower() else name


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
