"""Which lines of a file are worth a rule's closer look, found in one pass over the whole text.

Most changed lines state no GPU, memory size, price or calculation. Rather than run every rule's regexes
on every line, a rule asks for the lines where a cheap pattern occurs (a digit before a memory unit, a `$`,
an `=`) and reads only those. The answers are supersets: a line left out cannot hold what the rule looks
for, so the rule's findings do not change. GPU mentions, which several rules read, are found once per file.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate

from align.catalog import Catalog, GpuMention
from align.context import ReviewContext, SourceFile
from align.quantities import MemoryAmount, find_memory


def line_starts(source_file: SourceFile) -> list[int]:
    """Offset in `source_file.text` of each line's first character, for the same lines as `lines`
    (`str.splitlines`, so also \\r, \\x0c and the other breaks it knows)."""
    return source_file.derived(_line_starts)


def _line_starts(source_file: SourceFile) -> list[int]:
    return [0, *accumulate(map(len, source_file.text.splitlines(keepends=True)))][: len(source_file.lines)]


def matching_lines(source_file: SourceFile, pattern: re.Pattern[str]) -> tuple[int, ...]:
    """1-based numbers, ascending, of the lines where `pattern` matches: at most one search per such line,
    and one scan per file and pattern whichever rules ask.

    `pattern` must match the whole text wherever it matches a line on its own (no `^`/`$`, and no
    look-around that a line break fails where the end of a string passes), so that every such line is
    listed. A match that runs on into the next line lists the line it starts on: one more candidate.
    """
    memo = source_file.derived(_Found)
    found = memo.get(pattern)
    if found is None:
        found = memo[pattern] = _matching_lines(source_file, pattern)
    return found


class _Found(dict[object, tuple[int, ...]]):
    """`matching_lines` and `lines_containing` answers for one file, by pattern or needles."""

    def __init__(self, _source_file: SourceFile) -> None:
        super().__init__()


def _matching_lines(source_file: SourceFile, pattern: re.Pattern[str]) -> tuple[int, ...]:
    text = source_file.text
    starts = line_starts(source_file)
    found: list[int] = []
    position = 0
    while (match := pattern.search(text, position)) is not None:
        line = bisect_right(starts, match.start())  # 1-based: the last line starting at or before the match
        if line == 0:
            break
        found.append(line)
        if line >= len(starts):
            break
        position = starts[line]  # the next line's start
    return tuple(found)


_PER_LINE = 8  # changed lines read one by one when fewer than 1 in this many lines of the file


def _few_changed(source_file: SourceFile) -> bool:
    """A few changed lines in a large file (a small edit; each suggestion the engine verifies) are read
    one by one: cheaper than a pass over the whole text. Few: under 1 in _PER_LINE of the file's lines, or
    of its characters (a hundred fixed lines of a file of long lines)."""
    changed, lines = source_file.changed_lines, source_file.lines
    if len(changed) * _PER_LINE < len(lines):
        return True
    budget = len(source_file.text) // _PER_LINE
    for line in changed:
        if 0 < line <= len(lines):
            budget -= len(lines[line - 1]) + 1
            if budget < 0:
                return False
    return True


def _changed_in_range(source_file: SourceFile) -> list[int]:
    total = len(source_file.lines)
    return [line for line in sorted(source_file.changed_lines) if 0 < line <= total]


def changed_matching(source_file: SourceFile, pattern: re.Pattern[str]) -> list[int]:
    """The changed lines, ascending, where `pattern` matches (see `matching_lines`; when few lines changed,
    exactly those lines that match on their own)."""
    changed = source_file.changed_lines
    if not changed:
        return []
    if _few_changed(source_file):
        lines = source_file.lines
        return [line for line in _changed_in_range(source_file) if pattern.search(lines[line - 1])]
    return [line for line in matching_lines(source_file, pattern) if line in changed]


def lines_containing(source_file: SourceFile, needles: tuple[str, ...]) -> tuple[int, ...]:
    """1-based numbers, ascending, of the lines that contain one of `needles` (plain text, no line break):
    `str.find` skips to candidates much faster than a regex scan."""
    memo = source_file.derived(_Found)
    found = memo.get(needles)
    if found is None:
        found = memo[needles] = _lines_containing(source_file, needles)
    return found


def _lines_containing(source_file: SourceFile, needles: tuple[str, ...]) -> tuple[int, ...]:
    text = source_file.text
    starts = line_starts(source_file)
    found: set[int] = set()
    for needle in needles:
        position = 0
        while (at := text.find(needle, position)) >= 0:
            line = bisect_right(starts, at)
            if line == 0:
                break
            found.add(line)
            if line >= len(starts):
                break
            position = starts[line]
    return tuple(sorted(found))


def changed_containing(source_file: SourceFile, needles: tuple[str, ...]) -> list[int]:
    """The changed lines, ascending, that contain one of `needles` (see `lines_containing`)."""
    changed = source_file.changed_lines
    if not changed:
        return []
    if _few_changed(source_file):
        lines = source_file.lines
        return [line for line in _changed_in_range(source_file) if any(n in lines[line - 1] for n in needles)]
    return [line for line in lines_containing(source_file, needles) if line in changed]


class _LineMemory(dict[int, list[MemoryAmount]]):
    """`find_memory` of each line asked for, kept for the other rules that ask for the same line."""

    def __init__(self, _source_file: SourceFile) -> None:
        super().__init__()


def line_memory(source_file: SourceFile, line: int) -> list[MemoryAmount]:
    """The memory amounts on one line: `find_memory(source_file.line_text(line))`."""
    memo = source_file.derived(_LineMemory)
    found = memo.get(line)
    if found is None:
        found = memo[line] = find_memory(source_file.line_text(line))
    return list(found)


class _MentionIndex:
    """GPU mentions by line, for one catalog: found with one search over the whole text once a rule asks
    which lines name a GPU, else line by line as rules ask for lines (repository-wide rules read only a few
    lines of each file)."""

    def __init__(self, _source_file: SourceFile) -> None:
        self._catalog: Catalog | None = None
        self._by_line: dict[int, list[GpuMention]] = {}
        self._whole = False  # _by_line holds every line with a mention (and only those)

    def _for(self, catalog: Catalog) -> None:
        if self._catalog is not catalog:
            self._catalog, self._by_line, self._whole = catalog, {}, False

    def whole(self, source_file: SourceFile, catalog: Catalog) -> dict[int, list[GpuMention]]:
        self._for(catalog)
        if not self._whole:
            self._by_line, self._whole = _search(source_file, catalog), True
        return self._by_line

    def line(self, source_file: SourceFile, catalog: Catalog, line: int) -> list[GpuMention]:
        self._for(catalog)
        found = self._by_line.get(line)
        if found is None:
            if self._whole:
                return []
            text = source_file.line_text(line)
            found = self._by_line[line] = catalog.find_mentions(text) if text.strip() else []
        return found


def _search(source_file: SourceFile, catalog: Catalog) -> dict[int, list[GpuMention]]:
    # A mention never spans a line break (spellings hold no line break, and the catalog's token boundaries
    # treat one like the start or end of the text), so the whole-text search finds exactly what a search
    # of each line would, at the same columns.
    starts = line_starts(source_file)
    by_line: dict[int, list[GpuMention]] = {}
    for mention in source_file.mentions(catalog):
        line = bisect_right(starts, mention.start)
        offset = starts[line - 1]
        by_line.setdefault(line, []).append(
            GpuMention(mention.start - offset, mention.end - offset, mention.text, mention.gpu, mention.kind)
        )
    return by_line


def mention_lines(ctx: ReviewContext, source_file: SourceFile) -> list[int]:
    """1-based numbers, ascending, of the lines that name a GPU the catalog knows."""
    return sorted(source_file.derived(_MentionIndex).whole(source_file, ctx.catalog))


def changed_mention_lines(ctx: ReviewContext, source_file: SourceFile) -> list[int]:
    """The changed lines, ascending, that name a GPU the catalog knows."""
    changed = source_file.changed_lines
    if not changed:
        return []
    if _few_changed(source_file):
        return [line for line in _changed_in_range(source_file) if line_mentions(ctx, source_file, line)]
    return [line for line in mention_lines(ctx, source_file) if line in changed]


def line_mentions(ctx: ReviewContext, source_file: SourceFile, line: int) -> list[GpuMention]:
    """The GPU mentions on one line, as `ctx.catalog.find_mentions(source_file.line_text(line))` finds them."""
    return list(source_file.derived(_MentionIndex).line(source_file, ctx.catalog, line))
