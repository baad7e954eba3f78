"""What a piece of Markdown would do once GitHub renders it: parsed with a CommonMark parser (tables on,
raw HTML passed through as GitHub passes its allowed tags), so tests can assert on structure rather than
on substrings."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from markdown_it import MarkdownIt
from markdown_it.token import Token

_PARSER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_OWN_HTML = re.compile(r"</?sub>|<!-- align:[^<>]*-->")  # what Align itself writes as HTML
_NOTIFYING = re.compile(r"(?<![\w`])@([A-Za-z0-9][\w/-]*)|#\d")  # a mention or an issue reference on GitHub
ZWJ = "\u200d"


def tokens(markdown: str) -> Iterator[Token]:
    for token in _PARSER.parse(markdown):
        yield token
        yield from token.children or ()


def problems(markdown: str, mentions: Iterable[str] = ()) -> list[str]:
    """Everything in `markdown` that text from a repository could have caused: raw HTML other than Align's
    own `<sub>` and markers, links, images, mentions (but of the logins in `mentions`) and issue references
    outside code."""
    allowed = set(mentions)
    found: list[str] = []
    for token in tokens(markdown):
        if token.type in ("html_block", "html_inline"):
            for line in token.content.splitlines():
                rest = _OWN_HTML.sub("", line).strip()
                if rest:
                    found.append(f"raw HTML {rest!r}")
        elif token.type in ("link_open", "image"):
            found.append(f"{token.type} {token.attrs}")
        elif token.type == "text" and any(m.group(1) not in allowed for m in _NOTIFYING.finditer(token.content)):
            found.append(f"notifying text {token.content!r}")
    return found


def code_spans(markdown: str) -> list[str]:
    """The text of every inline code span, as a reader sees it (zero-width joiners removed)."""
    return [t.content.replace(ZWJ, "") for t in tokens(markdown) if t.type == "code_inline"]


def headings(markdown: str, level: int) -> int:
    return sum(1 for t in tokens(markdown) if t.type == "heading_open" and t.tag == f"h{level}")


def table_rows(markdown: str) -> list[int]:
    """The number of cells in each table row."""
    rows: list[int] = []
    for token in tokens(markdown):
        if token.type == "tr_open":
            rows.append(0)
        elif token.type in ("td_open", "th_open"):
            rows[-1] += 1
    return rows
