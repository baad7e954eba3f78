"""C-family source without a parser of its own (Go, Rust, C/C++/CUDA, Java, Kotlin, Scala, C#, Swift, Dart,
PHP, Groovy, Protobuf, Zig): where its comments and string literals are, so that rules tell a comment
("// only tested on A100") from code (`GPU = "A100"`).

One linear scan with a small lexer: `//` line comments, `/* */` block comments (over several lines), and
"...", '...' (one character or an escape, so Rust lifetimes stay code) and `...` strings. Rust raw strings
(`r#"..."#`) and Go raw strings are read as strings too. Never raises: an unterminated comment or string
runs to the end of the file.
"""

from __future__ import annotations

import re

from align.formats import FileFacts, TextSpan
from align.formats.common import build_facts, line_spans

# What starts a comment or a string; everything between two of them is code, skipped in C.
_START = re.compile(r"""//|/\*|r#+"|"|'(?:\\.|[^'\\\n])'|`""")


def extract_clike(text: str) -> FileFacts:
    lines = text.splitlines()
    spans = line_spans(lines)
    spans.extend(_human_text(text))
    return build_facts("clike", (), spans)


def _human_text(text: str) -> list[TextSpan]:
    spans: list[TextSpan] = []
    line = 1
    position, end = 0, len(text)
    while position < end:
        match = _START.search(text, position)
        if match is None:
            break
        line += text.count("\n", position, match.start())
        token = match.group(0)
        start = match.start()
        position = match.end()
        if token == "//":
            stop = text.find("\n", position)
            stop = end if stop < 0 else stop
            if text[start + 2 : stop].strip():
                spans.append(TextSpan(line, text[start + 2 : stop].strip(), "comment"))
            position = stop
        elif token == "/*":
            stop = text.find("*/", position)
            stop = end if stop < 0 else stop
            for offset, part in enumerate(text[position:stop].split("\n")):
                part = part.strip().lstrip("*").strip()
                if part:
                    spans.append(TextSpan(line + offset, part, "comment"))
            line += text.count("\n", start, stop)
            position = min(end, stop + 2)
            continue
        elif token in ('"', "`") or token.startswith("r"):
            closing = '"' + "#" * token.count("#") if token.startswith("r") else token
            stop = _string_end(text, position, closing, raw=token != '"')
            for offset, part in enumerate(text[position:stop].split("\n")):
                if part.strip():
                    spans.append(TextSpan(line + offset, part, "string"))
            line += text.count("\n", start, stop)
            position = min(end, stop + len(closing))
    return spans


# A "..." string's body: escapes (an escaped line break too) and anything but its quote or a line break.
_STRING_BODY = re.compile(r'[^"\\\n]*(?:\\[\s\S][^"\\\n]*)*')


def _string_end(text: str, position: int, closing: str, *, raw: bool) -> int:
    """Where the string that starts at `position` ends (the index of its closing quote, or of the line
    break that ends an unterminated one-line string)."""
    if raw:
        stop = text.find(closing, position)
        return len(text) if stop < 0 else stop
    body = _STRING_BODY.match(text, position)  # it matches the empty string: never None
    index = body.end() if body else position
    # What stopped it: the quote, a line break, or a backslash with nothing after it (the end of the text).
    return index if index < len(text) and text[index] != "\\" else len(text)
