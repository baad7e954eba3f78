"""The line binder finds a file's GPU names without searching it again: the whole text as the rules searched
it, and only the lines with a comment searched again without it. Nothing it finds may differ from a search
of the whole text with every comment blanked (what it did before)."""

from __future__ import annotations

import random

import pytest

from align.catalog import Catalog
from align.scope.blocks import LineBinder
from tests.helpers import make_context

_PIECES = ["H200", "GH200", "A100", "gpu: ", "# ", "// ", " ", "\n", "\r\n", "x", "L4", "DCGM ", "-", '"', "\n\n"]


def _old_search(binder: LineBinder) -> tuple[dict[int, list[object]], dict[int, list[object]]]:
    every = binder._by_line("\n".join(binder.lines))
    if not binder.code or not binder.markers:
        return every, every
    return every, binder._by_line("\n".join(binder._code_part(text) for text in binder.lines))


@pytest.mark.parametrize("path", ["deploy/values.yaml", "cmd/main.go", "docs/notes.md", "run.sh"])
def test_names_found_per_line_are_those_of_the_whole_text_with_comments_blanked(path: str) -> None:
    ctx = make_context({"a.py": "x\n"})
    catalog = Catalog.builtin()
    rnd = random.Random(path)
    for _ in range(400):
        text = "".join(rnd.choice(_PIECES) for _ in range(rnd.randint(0, 60)))
        binder = LineBinder(path, text, ctx.manifest.deployments[0], ctx.manifest.deployments, catalog)
        assert (binder._all_mentions, binder._code_mentions) == _old_search(binder), repr(text)


def test_the_rules_and_the_binder_share_one_search_of_a_large_file(monkeypatch: pytest.MonkeyPatch) -> None:
    from align.catalog.matcher import CatalogIndex

    searched: list[int] = []
    search = CatalogIndex._search
    monkeypatch.setattr(CatalogIndex, "_search", lambda self, text: searched.append(len(text)) or search(self, text))
    catalog = Catalog.builtin()
    text = 'GPU = "H200"  # was GH200\n' * 1_000
    first = catalog.find_mentions(text)
    again = catalog.find_mentions(text)
    assert again == first and again is not first  # the same names, in a list of the caller's own
    assert searched == [len(text)]  # searched once
    catalog.find_mentions(text[:-1])  # an equal-looking but other text is searched
    assert len(searched) == 2
    again.clear()
    assert catalog.find_mentions(text) == first  # what one caller does to its list is not shared
