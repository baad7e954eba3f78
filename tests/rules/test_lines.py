"""The per-file line indexes the rules share (rules/_lines.py): every answer must be what reading each line
on its own gives, whatever the line breaks, or the rules' findings would change."""

from __future__ import annotations

import re

import pytest

from align.catalog import Catalog
from align.context import SourceFile
from align.quantities import MEMORY_HINT, find_memory
from align.rules._lines import (
    changed_containing,
    changed_matching,
    changed_mention_lines,
    line_memory,
    line_mentions,
    line_starts,
    lines_containing,
    matching_lines,
    mention_lines,
)
from tests.helpers import make_context

TEXTS = [
    "",
    "\n",
    "one line, no break",
    "gpu: H200\nmemory: 141GB\n\n  # 8xH100 and GH200 nodes\nprice: $2.49/hour",
    "H100\r\nA100 80GB\r\n\r\nlast line H200",  # CRLF, no break at the end
    "form\x0cfeed H200\x0bvertical tab\x1cgroup 96 GB\x85next line\u2028H100 SXM\u2029end",
    "H200\nH200\nGGH200 H200s nvidia-h200-141gb\n3 x GH200 = 288GB\n",
    "\r\r\nH100\n\n\n",
]


def _file(text: str, changed: set[int] | None = None) -> SourceFile:
    lines = text.splitlines()
    return SourceFile("k8s/deploy.yaml", text, frozenset(range(1, len(lines) + 1) if changed is None else changed))


@pytest.mark.parametrize("text", TEXTS)
def test_line_starts_are_those_of_splitlines(text: str) -> None:
    source_file = _file(text)
    starts = line_starts(source_file)
    assert len(starts) == len(source_file.lines)
    for number, start in enumerate(starts, 1):
        assert text[start:].startswith(source_file.line_text(number))


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("pattern", [re.compile(r"\d"), MEMORY_HINT, re.compile("H200|nodes"), re.compile(r"\s")])
def test_matching_lines_lists_every_line_the_pattern_matches(text: str, pattern: re.Pattern[str]) -> None:
    source_file = _file(text)
    expected = [n for n, line in enumerate(source_file.lines, 1) if pattern.search(line)]
    found = matching_lines(source_file, pattern)
    assert set(expected) <= set(found)  # a superset: a match may run on into the next line
    assert list(found) == sorted(set(found))
    if r"\s" not in pattern.pattern:  # these cannot span a line break: exactly the lines
        assert list(found) == expected


@pytest.mark.parametrize("text", TEXTS)
def test_lines_containing_is_exact(text: str) -> None:
    source_file = _file(text)
    needles = ("H200", "$", "GB")
    expected = [n for n, line in enumerate(source_file.lines, 1) if any(needle in line for needle in needles)]
    assert list(lines_containing(source_file, needles)) == expected


def test_changed_variants_keep_only_changed_lines() -> None:
    text = "H200\nnothing\nH200 again\nH200\n"
    source_file = _file(text, changed={2, 3, 9})
    assert list(changed_containing(source_file, ("H200",))) == [3]
    assert list(changed_matching(source_file, re.compile("H200"))) == [3]
    assert changed_containing(_file(text, changed=set()), ("H200",)) == []


def test_a_few_changed_lines_in_a_large_file_are_read_one_by_one() -> None:
    text = "".join(f"line {n}: H200 with 141GB for $2.49\n" if n % 10 == 0 else f"line {n}\n" for n in range(1, 201))
    changed = {10, 15, 20, 400}  # 400 is past the end: never listed
    source_file = _file(text, changed=changed)
    ctx = make_context({source_file.path: text})
    assert changed_matching(source_file, MEMORY_HINT) == [10, 20]
    assert changed_containing(source_file, ("$", "USD")) == [10, 20]
    assert changed_mention_lines(ctx, source_file) == [10, 20]
    everything = _file(text)  # every line changed: the whole-text passes give the same lines
    assert [n for n in changed_matching(everything, MEMORY_HINT) if n in changed] == [10, 20]
    assert [n for n in changed_mention_lines(ctx, everything) if n in changed] == [10, 20]


@pytest.mark.parametrize("text", TEXTS)
def test_line_mentions_are_what_the_catalog_finds_on_each_line(text: str) -> None:
    source_file = _file(text)
    ctx = make_context({source_file.path: text})
    catalog: Catalog = ctx.catalog
    expected = {n: catalog.find_mentions(line) for n, line in enumerate(source_file.lines, 1)}
    assert mention_lines(ctx, source_file) == [n for n, found in expected.items() if found]
    for number, found in expected.items():
        assert line_mentions(ctx, source_file, number) == found
    assert line_mentions(ctx, source_file, len(source_file.lines) + 5) == []
    # Asked line by line first (no whole-text search yet), then for the lines: the same answers.
    fresh = _file(text)
    for number, found in expected.items():
        assert line_mentions(ctx, fresh, number) == found
    assert mention_lines(ctx, fresh) == [n for n, found in expected.items() if found]
    assert all(line_mentions(ctx, fresh, number) == found for number, found in expected.items())


def test_line_memory_is_find_memory_and_a_copy() -> None:
    source_file = _file("gpu_memory: 141GB\nram: 64 GiB and 96 GB\n")
    first = line_memory(source_file, 2)
    assert first == find_memory("ram: 64 GiB and 96 GB")
    first.clear()
    assert line_memory(source_file, 2) == find_memory("ram: 64 GiB and 96 GB")


def test_derived_is_computed_once_and_forgotten_on_request() -> None:
    source_file = _file("H200\n")
    calls: list[str] = []

    def factory(f: SourceFile) -> list[str]:
        calls.append(f.path)
        return [f.text]

    assert source_file.derived(factory) is source_file.derived(factory)
    assert calls == [source_file.path]
    facts = source_file.facts
    source_file.forget_derived()
    assert source_file.derived(factory) == ["H200\n"]
    assert calls == [source_file.path, source_file.path]
    assert source_file.facts == facts and source_file.facts is not facts  # parsed again, the same
