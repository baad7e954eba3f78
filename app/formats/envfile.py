"""`.env` files: `KEY=value` lines, with `export`, quotes (multi-line in double quotes) and comments."""

from __future__ import annotations

import re

from align.formats import Assignment, FileFacts, TextSpan
from align.formats.common import build_facts, line_spans, number_or_str, unescape

_MAX_VALUE_LINES = 200  # a quote still open after this many lines is a mistake, not a value
_LINE = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$")


def extract_env(text: str) -> FileFacts:
    lines = text.splitlines()
    spans = line_spans(lines)
    assignments: list[Assignment] = []
    problem: str | None = None
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        index += 1
        if not stripped:
            continue
        if stripped.startswith("#"):
            _comment(spans, index, stripped[1:])
            continue
        match = _LINE.match(line)
        if match is None:
            problem = problem or f"line {index}: not KEY=value: {stripped[:60]}"
            continue
        start = index
        raw = match.group(2)
        quote = raw[:1]
        if quote in ("'", '"'):
            # A quoted value may run over several lines; it ends at the first unescaped closing quote.
            body, end = _closing(raw, quote)
            while end < 0 and index < len(lines) and index - start < _MAX_VALUE_LINES:
                raw += "\n" + lines[index]
                index += 1
                body, end = _closing(raw, quote)
            if end < 0:
                problem = problem or f"line {start}: unterminated {quote} quote"
                raw, index = match.group(2), start  # read on from the next line
                value = raw[1:]
            else:
                value = unescape(body) if quote == '"' else body
                _comment(spans, index, _after_value(raw[end + 1 :]))
                raw = raw[: end + 1]
            assignments.append(Assignment((match.group(1),), number_or_str(value), raw, start, index))
            continue
        value, comment = _split_comment(raw)
        _comment(spans, start, comment)
        assignments.append(Assignment((match.group(1),), number_or_str(value), value, start, start))
    return build_facts("env", assignments, spans, problem)


def _closing(raw: str, quote: str) -> tuple[str, int]:
    """(the quoted body, index of the closing quote) or ("", -1)."""
    position = 1
    while True:
        found = raw.find(quote, position)
        if found < 0:
            return "", -1
        if quote == '"' and _escaped(raw, found):
            position = found + 1
            continue
        return raw[1:found], found


def _escaped(text: str, position: int) -> bool:
    backslashes = 0
    while position - backslashes - 1 >= 0 and text[position - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def _split_comment(raw: str) -> tuple[str, str]:
    """Unquoted values end at ` #`."""
    for marker in (" #", "\t#"):
        found = raw.find(marker)
        if found >= 0:
            return raw[:found].rstrip(), raw[found + 2 :]
    return raw.rstrip(), ""


def _after_value(rest: str) -> str:
    rest = rest.strip()
    return rest[1:] if rest.startswith("#") else ""


def _comment(spans: list[TextSpan], number: int, text: str) -> None:
    text = text.strip()
    if text:
        spans.append(TextSpan(number, text, "comment"))
