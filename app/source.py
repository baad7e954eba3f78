"""Where a review reads a repository from: a local git checkout (CLI) or GitHub's API (service).

The engine only sees this protocol, so it knows nothing of git, GitHub or HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

ChangeStatus = Literal["added", "removed", "modified", "renamed", "copied", "changed", "unchanged"]

MAX_FILE_BYTES = 1_000_000  # larger files are skipped with a note (GitHub's contents API limit, too)
MAX_LINE_CHARS = 4_096  # longer lines are data, not claims: emptied before anything reads them
MAX_FILE_NUMBERS = 30_000  # past this many NUMBERs a file is data
NUMBER = re.compile(r"\d+(?:\.\d+)?")  # what the budget counts: digit runs ("H200", "2.49", "141")
_DIGITS = "0123456789"


@dataclass(frozen=True, slots=True)
class ReadText:
    """A file's text as a review reads it: what is data emptied, line numbers kept."""

    text: str
    long_lines: tuple[int, ...] = ()  # emptied: longer than MAX_LINE_CHARS
    numbers_end_at: int | None = None  # the first line not read: MAX_FILE_NUMBERS numbers came before it


def as_read(text: str) -> ReadText:
    """`text` with what is data rather than claims emptied, line numbers kept:

    - every line longer than MAX_LINE_CHARS. In 35,085 text files of the 15 repositories of
      bench/realworld, 155 have such a line, every one of them data (notebook outputs, SVG drawings, JSON
      request bodies, generated protobuf code, CSV, installers' embedded CRDs), and 4 of those lines name
      a GPU, all in generated launch files under tests/ (`python -m bench.realworld.long_lines`);
    - every line from the one holding the file's (MAX_FILE_NUMBERS + 1)th number on. In the same files 59
      hold more than 30,000 numbers, all of them lockfiles, vendored tables, CSV and other data; the only
      GPU-like tokens in them are hex digits (`a40`, `t4`) of vendored Unicode tables. The most numbers in
      a file that names GPUs as GPUs is 14,064, a generated catalog of every AWS instance type
      (`python -m bench.realworld.long_lines --numbers`).

    Reading them is where the worst-shaped input costs most: a megabyte of GPU names on one line, or of
    figures every one of which the memory, capacity and arithmetic rules read. The budget bounds a
    file's work by what it holds, not by its lines' shape."""
    text, long_lines = without_long_lines(text)
    cut = _start_of_the_line_past_the_numbers(text)
    if cut is None:
        return ReadText(text, long_lines)
    return ReadText(text[:cut] + "\n" * text.count("\n", cut), long_lines, text.count("\n", 0, cut) + 1)


def _start_of_the_line_past_the_numbers(text: str) -> int | None:
    """Where the line holding the (MAX_FILE_NUMBERS + 1)th number of `text` starts, or None. Counting
    digits first (ten passes in C) spares all but dense files the count of numbers."""
    if len(text) <= MAX_FILE_NUMBERS or sum(text.count(d) for d in _DIGITS) <= MAX_FILE_NUMBERS:
        return None
    for count, match in enumerate(NUMBER.finditer(text), 1):
        if count > MAX_FILE_NUMBERS:
            return text.rfind("\n", 0, match.start()) + 1
    return None


def without_long_lines(text: str) -> tuple[str, tuple[int, ...]]:
    """`text` with every line longer than MAX_LINE_CHARS emptied (line numbers stay), and those lines'
    numbers."""
    if len(text) <= MAX_LINE_CHARS:
        return text, ()
    lines = text.split("\n")
    long_lines = tuple(n for n, line in enumerate(lines, 1) if len(line) > MAX_LINE_CHARS)
    for n in long_lines:
        lines[n - 1] = ""
    return ("\n".join(lines) if long_lines else text), long_lines


@dataclass(frozen=True, slots=True)
class FileChange:
    path: str
    status: ChangeStatus
    added_lines: frozenset[int]  # 1-based head line numbers added or modified by the change
    previous_path: str | None = None
    binary: bool = False  # or a patch GitHub would not show (too large)
    patch: str | None = None  # the unified-diff hunks for this file, when known


class SourceError(Exception):
    """A ref or repository that cannot be read: the CLI turns it into exit status 2."""


class RepoSource(Protocol):
    def resolve(self, ref: str) -> str:
        """A full commit SHA for `ref`. Raises SourceError for an unknown ref."""
        ...

    def changed_files(self, base: str, head: str) -> list[FileChange]:
        ...

    def read(self, ref: str, path: str) -> bytes | None:
        """The file's bytes at `ref`, or None when it does not exist there."""
        ...

    def read_many(self, ref: str, paths: Iterable[str]) -> Mapping[str, bytes]:
        """Bulk read; absent files are left out."""
        ...

    def list_files(self, ref: str) -> list[str]:
        ...


_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


def _head_lines(patch: str | None) -> Iterator[tuple[int, bool]]:
    """(head-side line number, is it added) for every `+` and context line inside the hunks."""
    if not patch:
        return
    new_line = 0
    in_hunk = False
    for row in patch.splitlines():
        match = _HUNK.match(row)
        if match:
            new_line = int(match.group(1))
            in_hunk = True
        elif in_hunk and not row.startswith(("\\", "-")):
            yield new_line, row.startswith("+")
            new_line += 1


def added_lines_from_patch(patch: str | None) -> frozenset[int]:
    """Head-side line numbers of `+` lines in unified-diff hunks (GitHub's `patch` field or git's)."""
    return frozenset(line for line, added in _head_lines(patch) if added)


def diff_lines_from_patch(patch: str | None) -> frozenset[int]:
    """Head-side lines a review comment may anchor on: added and context lines inside the hunks."""
    return frozenset(line for line, _ in _head_lines(patch))


_MAX_DIFF_LINES = 50_000  # beyond this, every line of the head counts as changed (bounded work)


def added_lines_between(old: str, new: str) -> frozenset[int]:
    """Head-side line numbers (1-based) that are not in `old`: for a change whose patch is unknown (GitHub
    leaves it out above about 100 KB). Lines are compared as whole strings, so the work is about linear in
    the lines for ordinary edits; a very long file counts as wholly changed rather than cost quadratic time."""
    from difflib import SequenceMatcher

    new_lines = new.splitlines()
    old_lines = old.splitlines()
    if not old_lines:
        return frozenset(range(1, len(new_lines) + 1))
    if len(new_lines) > _MAX_DIFF_LINES or len(old_lines) > _MAX_DIFF_LINES:
        return frozenset(range(1, len(new_lines) + 1))
    matcher = SequenceMatcher(None, old_lines, new_lines, autojunk=True)
    added: set[int] = set()
    for tag, _, _, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "insert"):
            added.update(range(j1 + 1, j2 + 1))
    return frozenset(added)
