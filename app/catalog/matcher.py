"""Finding GPU names in text: one compiled, token-bounded regex built as a trie, plus exact lookups.

Why a trie: the catalog has a few hundred spellings and `find_mentions` runs over whole repositories.
A flat alternation makes the regex engine try every spelling at every token start; a prefix tree tries
one branch per character. Greedy optional branches also give "longest name first" for free
(GH200 over H200 is handled by the token boundary, H100 NVL over H100 by the greedy branch).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from align.catalog import GpuMention, GpuSpec, MentionKind
from align.catalog.tokens import is_embedded, is_level, stands_alone
from align.linear_match import Nfa, chars

_SEPARATORS = re.compile(r"[\s_\-]+")
_SEP = r"[ \t_\-]?"  # where a name has a separator, text may use any one of them or none
_STAR = r"[A-Za-z0-9]+"  # the `*` of an instance-type glob: one run of letters and digits
_SIZE = re.compile(r"(\d+)(gb?)", re.IGNORECASE)  # "80GB" is also written "80 GB"
# A mention must not touch letters or digits, except a count prefix like "8xH100" (but not hex "0xA100").
# The boundary character before a mention is consumed rather than looked behind at: a pattern that starts
# with a character set lets the regex engine skip to candidate positions in C, several times faster.
# (The searched text gets one leading space so that a mention may start it.)
_BEFORE = r"[^A-Za-z0-9](?:[1-9][0-9]?[xX])?"
_AFTER = r"(?=s?(?![A-Za-z0-9]))"


def normalize(name: str) -> str:
    """Case- and separator-insensitive key: "A100-80GB", "a100 80gb" and "A100_80GB" are one name."""
    return _SEPARATORS.sub("", name).lower()


@dataclass(frozen=True, slots=True)
class _Key:
    text: str
    spec: GpuSpec
    kind: MentionKind


def _keys(gpus: Sequence[GpuSpec]) -> Iterable[_Key]:
    """Every spelling, in priority order: a spelling claimed twice resolves to its first claimant.
    User entries (align.yaml) come before built-in ones; canonical names before aliases before labels."""
    ordered = sorted(gpus, key=lambda g: not any(s.key == "user" for s in g.sources))
    for spec in ordered:
        yield _Key(spec.name, spec, "name")
    for spec in ordered:
        for alias in spec.aliases:
            yield _Key(alias, spec, "name")
    for spec in ordered:
        for label in spec.product_labels:
            yield _Key(label, spec, "product_label")
    for spec in ordered:
        for label in spec.node_labels:
            yield _Key(label, spec, "node_label")
    for spec in ordered:
        for instance_type in spec.instance_types:
            yield _Key(instance_type, spec, "instance_type")


_SEP_PIECE = ""  # a place where a name has a separator


def _pieces(text: str) -> list[str]:
    """A spelling as pieces: one per character, and _SEP_PIECE where text may use any separator or none."""
    pieces: list[str] = []
    for index, part in enumerate(p for p in _SEPARATORS.split(text.strip()) if p):
        if index:
            pieces.append(_SEP_PIECE)
        size = _SIZE.fullmatch(part)
        chunks = [size[1], size[2]] if size else [part]
        for chunk_index, chunk in enumerate(chunks):
            if chunk_index:
                pieces.append(_SEP_PIECE)
            pieces.extend(chunk)
    return pieces


def _atoms(text: str) -> list[str]:
    """A spelling as regex atoms: one per character, with flexible separators and `*` wildcards."""
    return [_SEP if piece == _SEP_PIECE else _char(piece) for piece in _pieces(text)]


def _char(c: str) -> str:
    # Case is folded by hand: re.IGNORECASE makes this pattern several times slower on long texts.
    if c == "*":
        return _STAR
    if c.isascii() and c.isalpha():
        return f"[{c.upper()}{c.lower()}]"
    return re.escape(c)


_ALNUM = chars(string.ascii_letters + string.digits)
_SEP_CHARS = chars(" \t_-")


def _glob_nfa(pattern: str) -> Nfa:
    """The same language as `_atoms`, for globs with several `*`: as a regex, each `*` after the first
    multiplies the work by the token's length (catastrophic backtracking); the NFA's work stays linear."""
    nfa = Nfa()
    for piece in _pieces(pattern):
        if piece == _SEP_PIECE:
            nfa.optional(_SEP_CHARS)
        elif piece == "*":
            nfa.plus(_ALNUM)
        elif piece.isascii() and piece.isalpha():
            nfa.one(chars(piece.upper() + piece.lower()))
        else:
            nfa.one(chars(piece))
    return nfa


@dataclass
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    end: bool = False
    _depth: int = 0  # worked out once (`_emit` asks every node for it at every level above it)

    def depth(self) -> int:
        if not self._depth:
            self._depth = 1 + max((c.depth() for c in self.children.values()), default=0)
        return self._depth


def _trie_regex(spellings: Iterable[str]) -> str:
    root = _Node()
    for spelling in spellings:
        node = root
        for atom in _atoms(spelling):
            node = node.children.setdefault(atom, _Node())
        node.end = True
    if not root.children:
        return ""
    # A cheap look at the first character rejects most positions before the trie's branches are tried.
    first = "".join(sorted({c for atom in root.children for c in atom if c.isalnum()}))
    return _BEFORE + f"(?=[{first}])(?P<m>" + _emit(root) + ")" + _AFTER


def _emit(node: _Node) -> str:
    # Deeper branches first, and a greedy `?` when a name may also end here: the longest spelling wins.
    branches = sorted(node.children.items(), key=lambda item: -item[1].depth())
    alternatives = [atom + _emit(child) for atom, child in branches]
    if not alternatives:
        return ""
    body = alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"
    return "(?:" + body + ")?" if node.end else body


def _glob_matcher(pattern: str) -> Callable[[str], bool]:
    """Full-match test of one glob. One `*` compiles to a regex that cannot backtrack more than the
    token's length (separators are optional single characters no other atom matches); several go to
    the NFA."""
    if pattern.count("*") > 1:
        return _glob_nfa(pattern).fullmatch
    return _FullMatch(re.compile("".join(_atoms(pattern))))


class _FullMatch:
    """`regex.fullmatch(text) is not None`, as an object: a catalog (and what holds it, a review's result)
    is sent between processes, and a lambda cannot be pickled."""

    __slots__ = ("regex",)

    def __init__(self, regex: re.Pattern[str]) -> None:
        self.regex = regex

    def __call__(self, text: str) -> bool:
        return self.regex.fullmatch(text) is not None


_START = re.compile(r"(?<![A-Za-z0-9])(?:[1-9][0-9]?[xX](?=[A-Za-z0-9]))?")  # _BEFORE, as a place to start


def wide_glob_spans(text: str, globs: Sequence[Nfa]) -> list[tuple[int, int]]:
    """(start, end) of each glob match in `text`, leftmost first, longest at one place, bounded like the
    trie regex's mentions (_BEFORE, _AFTER). Linear: a glob's NFA dies within one token of its start."""

    def end_ok(end: int) -> bool:
        if end < len(text) and text[end] == "s":
            end += 1
        return end == len(text) or not (text[end].isascii() and text[end].isalnum())

    spans: list[tuple[int, int]] = []
    resume = 0
    for boundary in _START.finditer(text):
        if boundary.start() < resume:
            continue
        for start in dict.fromkeys((boundary.end(), boundary.start())):  # with a count prefix ("8x") first
            end = max((nfa.longest_match(text, start, end_ok) for nfa in globs), default=-1)
            if end > start:
                spans.append((start, end))
                resume = end
                break
    return spans


_WHOLE_FILE_CHARS = 8_192  # texts this long are whole files (remembered), not lines (searched each time)


class CatalogIndex:
    """Lookups over one catalog's spellings; built once per Catalog and cached on it."""

    def __init__(self, gpus: Sequence[GpuSpec]) -> None:
        self._exact: dict[str, tuple[GpuSpec, MentionKind]] = {}
        self._globs: list[tuple[Callable[[str], bool], GpuSpec]] = []
        self._wide_globs: list[Nfa] = []  # several `*`: found in text by the NFA, not by the trie regex
        self._names: dict[str, GpuSpec] = {}  # normalized name or alias -> spec, for `nearest`
        self._memo: dict[str, tuple[GpuSpec, MentionKind] | None] = {}  # the same few spellings recur
        # The last whole file searched, by identity: the rules (SourceFile.mentions) and the line binder
        # search the same text object, a megabyte takes a tenth of a second, and a str cannot change.
        self._last_file: tuple[str, tuple[GpuMention, ...]] | None = None
        # Exactly as written: a label also spelled like an alias ("NVIDIA-H200" vs the alias "NVIDIA H200")
        # normalizes to the alias' key, but written with its dashes it is the label. Case first, as
        # "NVIDIA-L4" is the product label and "nvidia-l4" the GKE node label.
        self._labels: dict[str, tuple[GpuSpec, MentionKind]] = {}
        self._labels_lower: dict[str, tuple[GpuSpec, MentionKind]] = {}
        self._written_names: set[str] = set()
        spellings: list[str] = []
        for key in _keys(gpus):
            if key.text.count("*") > 1:
                self._wide_globs.append(_glob_nfa(key.text))
            else:
                spellings.append(key.text)
            if "*" in key.text:
                self._globs.append((_glob_matcher(key.text), key.spec))
                continue
            normalized = normalize(key.text)
            self._exact.setdefault(normalized, (key.spec, key.kind))
            if key.kind == "name":
                self._names.setdefault(normalized, key.spec)
                self._written_names.add(key.text.lower())
            elif key.kind in ("product_label", "node_label"):
                self._labels.setdefault(key.text, (key.spec, key.kind))
                self._labels_lower.setdefault(key.text.lower(), (key.spec, key.kind))
        trie = _trie_regex(spellings)
        self._pattern = re.compile(trie) if trie else None

    def lookup(self, text: str) -> tuple[GpuSpec, MentionKind] | None:
        found = self._exact.get(normalize(text))
        stripped = text.strip()
        if found is not None:
            written = stripped.lower()
            label = self._labels.get(stripped) or self._labels_lower.get(written)
            if label is not None and label[0] is found[0] and written not in self._written_names:
                return label
            return found
        for matches, spec in self._globs:
            if matches(stripped):
                return spec, "instance_type"
        return None

    def mentions(self, text: str) -> list[GpuMention]:
        last = self._last_file
        if last is not None and last[0] is text:
            return list(last[1])
        found = self._search(text)
        if len(text) >= _WHOLE_FILE_CHARS:
            self._last_file = (text, tuple(found))
        return found

    def _search(self, text: str) -> list[GpuMention]:
        found = []
        memo = self._memo
        if len(memo) > 4096:  # bounded: only spellings the regex accepted get here, but text is untrusted
            memo.clear()
        for start, end in self._spans(text):
            written = text[start:end]
            hit = memo[written] if written in memo else memo.setdefault(written, self.lookup(written))
            if hit is not None:
                end = start + len(written)
                if not stands_alone(text, start, end) and is_embedded(text, start, end, self._is_spelling):
                    continue  # `DCGM_L4_TIMEOUT`, `requirements-h200.txt`, a URL: no GPU (spec §1b)
                if len(written) == 2 and is_level(text, start, end):
                    continue  # "DCGM L4": a diagnostic level
                found.append(GpuMention(start, end, written, hit[0], hit[1]))
        return found

    def _spans(self, text: str) -> list[tuple[int, int]]:
        """Where spellings are written: the trie regex's matches, and those of globs with several `*`
        (leftmost first, the longer of two at one place; a span overlapping an earlier one is dropped,
        as the regex's scan would have consumed its text)."""
        found = self._pattern.finditer(" " + text) if self._pattern else ()
        spans = [(match.start("m") - 1, match.end("m") - 1) for match in found]
        if not self._wide_globs:
            return spans
        spans += wide_glob_spans(text, self._wide_globs)
        kept: list[tuple[int, int]] = []
        for start, end in sorted(spans, key=lambda span: (span[0], -span[1])):
            if not kept or start >= kept[-1][1]:
                kept.append((start, end))
        return kept

    def _is_spelling(self, part: str) -> bool:
        memo = self._memo
        hit = memo[part] if part in memo else memo.setdefault(part, self.lookup(part))
        return hit is not None

    def nearest(self, token: str) -> str | None:
        """Closest canonical name by edit distance over names and aliases: 1 edit for short tokens, 2 else."""
        wanted = normalize(token)
        if not wanted:
            return None
        exact = self.lookup(token)
        if exact is not None:
            return exact[0].name
        limit = 1 if len(wanted) <= 4 else 2
        best: tuple[int, int, str] | None = None
        for order, (candidate, spec) in enumerate(self._names.items()):
            distance = _edit_distance(wanted, candidate, limit)
            if distance <= limit and (best is None or (distance, order) < best[:2]):
                best = (distance, order, spec.name)
        return best[2] if best else None


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, giving up (returning limit + 1) as soon as it must exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]
