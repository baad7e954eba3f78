"""align.report.untrusted: whatever a repository or a comment holds, it is shown as written and does nothing.

Checked on the parse of a CommonMark parser (tests/markdown_safety.py), not on substrings."""

from __future__ import annotations

import unicodedata

import pytest

from align.report.untrusted import ZWJ, block, code, mention, message, plain, text
from tests.markdown_safety import code_spans, problems, table_rows, tokens

HOSTILE = [
    "a`b", "``x``", "`", "x`", "` leading and trailing `", "````",
    "<img src=x onerror=alert(1)>", "</details>", "<details><summary>open</summary>", "</sub></td></table>",
    '<!-- align:state v2 mac=00 {"waivers": []} -->', "<!--", "-->", "<!-- align:summary -->",
    "@team", "@acme/platform-team please look", "ping @dev", "see #12 and acme/repo#3",
    "line1\nline2\n\n# heading\n- item\n> quote\n```\ncode", "| a | b |", "a|b",
    "[click](https://evil.example) ![p](https://evil.example/p.png)", "<https://evil.example>",
    "**bold** _em_ ~~strike~~ __b__", "&lt; &amp; &#64;team", "\\`escaped\\", "1. ordered", "2) also", "# hash",
    "- dash", "+ plus", "= setext", "\u202eevil\u2066 text", "tab\there\r\nand\u2028there", "gpu_1x_gh200",
    "nul\x00and\x1bescape\x85next\x1fjoined",
]


def _visible(value: str) -> str:
    """What a reader should see: the value on one line, without control characters or bidi overrides
    (zero-width joiners, which the helpers add, removed for the comparison)."""
    cleaned = "".join(c for c in value if unicodedata.category(c) != "Cc" or c in "\t\n\r")
    cleaned = "".join(c for c in cleaned if c not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    return " ".join(cleaned.split()).replace(ZWJ, "")


def _inline_children(markdown: str) -> list[tuple[str, str]]:
    return [(t.type, t.content.replace(ZWJ, "")) for t in tokens(markdown) if t.type not in (
        "paragraph_open", "paragraph_close", "inline", "bullet_list_open", "bullet_list_close", "list_item_open",
        "list_item_close")]


@pytest.mark.parametrize("value", HOSTILE)
def test_text_shows_any_value_as_plain_words_on_one_line(value: str) -> None:
    for markdown in (text(value), f"- {text(value)}", f"Found {text(value, mid_line=True)} here"):
        assert problems(markdown) == []
        children = _inline_children(markdown)
        assert {kind for kind, _ in children} <= {"text"}, children  # no code, emphasis, break, link
    assert "".join(content for _, content in _inline_children(text(value))) == _visible(value)


@pytest.mark.parametrize("value", HOSTILE)
def test_code_span_shows_any_value_and_cannot_be_closed_early(value: str) -> None:
    shown = code(value)
    if not _visible(value):
        assert shown == "(empty)"
        return
    assert problems(shown) == []
    assert _inline_children(f"x {shown} y")[1] == ("code_inline", _visible(value))


@pytest.mark.parametrize("value", HOSTILE)
def test_table_cells_hold_pipes_newlines_and_html(value: str) -> None:
    table = ("| A | B | C |\n|---|---|---|\n"
             f"| {code(value, table=True)} | {text(value)} | {message(value, table=True)} |\n| x | y | z |")
    assert problems(table) == []
    assert table_rows(table) == [3, 3, 3]
    cells = [t for t in tokens(table) if t.type == "inline"][3:6]  # the first body row, cell by cell
    first = [(c.type, c.content.replace(ZWJ, "")) for c in cells[0].children or ()]
    assert first == ([("code_inline", _visible(value))] if _visible(value) else [("text", "(empty)")])
    assert "".join(c.content for c in cells[1].children or ()).replace(ZWJ, "") == _visible(value)


@pytest.mark.parametrize("value", HOSTILE)
def test_no_helper_ever_writes_an_html_comment(value: str) -> None:
    for shown in (text(value), code(value), message(value), message(value, table=True), block(value),
                  plain(value), mention(value)):
        assert "<!--" not in shown


def test_message_keeps_the_rules_code_spans_and_escapes_the_rest() -> None:
    shown = message("`H200` is not `GH200` <img src=x> @team")
    assert code_spans(shown) == ["H200", "GH200"]
    assert problems(shown) == []
    quoted = message("`` a`b `` costs `$2.49` and a lone ` stays")  # a rule quoting code with a backtick
    assert code_spans(quoted) == ["a`b", "$2.49"] and problems(quoted) == []
    forged = message("`x` `<!-- align:state {} -->` <!-- y -->")
    assert "<!--" not in forged and code_spans(forged) == ["x", "<!-- align:state {} -->"]


def test_mentions_only_for_github_logins() -> None:
    assert mention("dev") == "@dev"
    assert mention("octo-cat9") == "@octo-cat9"
    for forged in ("acme/team", "bot[bot]", "dev <img>", "-dev", "x" * 40):
        assert problems(f"by {mention(forged)}") == []


def test_block_shows_lines_as_written_whatever_fences_they_hold() -> None:
    value = "pools:\n```\n<!-- -->\n````\nend"
    fences = [t for t in tokens(block(value)) if t.type == "fence"]
    assert len(fences) == 1 and fences[0].content.replace(ZWJ, "") == value + "\n"


def test_plain_text_keeps_lines_and_drops_controls() -> None:
    assert plain("one\ntwo\u202e\x00") == "one\ntwo"
    assert plain("x" * 10, 5) == "xxxx…"


def test_random_strings_of_markdown_punctuation_never_escape_their_place() -> None:
    """A seeded fuzz over the characters that make Markdown and HTML structure (deterministic, 600 cases)."""
    import random

    rng = random.Random(5)
    alphabet = "`<>!-@#&|[]()*_~\\/:=+.1a \n\t\u202e\u200d"
    for _ in range(600):
        value = "".join(rng.choices(alphabet, k=rng.randint(1, 40)))
        assert problems(f"- {text(value)}") == [] and problems(message(value)) == [], repr(value)
        shown = code(value)
        if _visible(value):
            assert _inline_children(f"x {shown} y")[1] == ("code_inline", _visible(value)), repr(value)
        row = f"| A | B |\n|---|---|\n| {code(value, table=True)} | {message(value, table=True)} |"
        assert problems(row) == [] and table_rows(row) == [2, 2], repr(value)
        for output in (text(value), shown, message(value), block(value), plain(value)):
            assert "<!--" not in output, repr(value)
