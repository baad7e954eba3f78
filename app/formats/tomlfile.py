"""TOML: `tomllib` checks the file; a line scan gives each value its table path and line.

`[tool.align]` + `gpu = "GH200"` → ("tool", "align", "gpu"); `[[deployments]]` tables are indexed:
("deployments", "0", "gpu").
"""

from __future__ import annotations

import datetime
import re
import tomllib

from align.formats import Assignment, FileFacts, Scalar, TextSpan
from align.formats.common import build_facts, env_aliases, line_spans

_BARE_OR_QUOTED = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
_KEY = rf"{_BARE_OR_QUOTED}(?:\s*\.\s*{_BARE_OR_QUOTED})*"
_TABLE = re.compile(rf"\s*(\[\[?)\s*({_KEY})\s*\]\]?\s*(?:#.*)?$")
_KEY_VALUE = re.compile(rf"\s*({_KEY})\s*=\s*(.*)$")
_KEY_PART = re.compile(_BARE_OR_QUOTED)
_MAX_VALUE_LINES = 100
_MULTI_LINE_STARTS = ("[", "{", '"""', "'''")


def extract_toml(text: str) -> FileFacts:
    lines = text.splitlines()
    parse_error: str | None = None
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        parse_error = f"TOML syntax error: {exc}"
    assignments: list[Assignment] = []
    spans = line_spans(lines)
    table: tuple[str, ...] = ()
    array_counts: dict[tuple[str, ...], int] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        number = index + 1
        index += 1
        if not stripped:
            continue
        if stripped.startswith("#"):
            _comment(spans, number, stripped[1:])
            continue
        header = _TABLE.match(line)
        if header is not None and not _KEY_VALUE.match(line):
            path = _key_path(header.group(2))
            if header.group(1) == "[[":
                position = array_counts.get(path, -1) + 1
                array_counts[path] = position
                table = (*path, str(position))
            else:
                table = _resolve_arrays(path, array_counts)
            rest = line[header.end(2) :]
            hash_at = _comment_start(rest)
            if hash_at >= 0:
                _comment(spans, number, rest[hash_at + 1 :])
            continue
        pair = _KEY_VALUE.match(line)
        if pair is None:
            continue
        key = (*table, *_key_path(pair.group(1)))
        raw = pair.group(2)
        value, end = _parse_value(raw, lines, index)
        if value is _UNPARSED:
            continue
        index = end
        if end == number:
            hash_at = _comment_start(raw)
            if hash_at >= 0:
                _comment(spans, number, raw[hash_at + 1 :])
                raw = raw[:hash_at]
            raw = raw.strip()
        else:
            raw = raw.strip() + " ..."
        for path, leaf in _leaves(key, value):
            assignments.append(Assignment(path, leaf, raw, number, end))
    assignments.extend(env_aliases(assignments))
    return build_facts("toml", assignments, spans, parse_error)


_UNPARSED = object()


def _parse_value(raw: str, lines: list[str], index: int) -> tuple[object, int]:
    """The value starting with `raw` (continued on following lines for multi-line arrays and strings)."""
    text = raw
    end = index
    while True:
        try:
            return tomllib.loads("v = " + text)["v"], end
        except tomllib.TOMLDecodeError:
            if end >= len(lines) or end - index >= _MAX_VALUE_LINES or not text.lstrip().startswith(_MULTI_LINE_STARTS):
                return _UNPARSED, end
            text += "\n" + lines[end]
            end += 1


def _leaves(path: tuple[str, ...], value: object) -> list[tuple[tuple[str, ...], Scalar]]:
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in _leaves((*path, str(key)), item)]
    if isinstance(value, list):
        return [leaf for position, item in enumerate(value) for leaf in _leaves((*path, str(position)), item)]
    if isinstance(value, datetime.date | datetime.time):
        return [(path, value.isoformat())]
    if isinstance(value, str | int | float | bool):
        return [(path, value)]
    return []


def _key_path(key: str) -> tuple[str, ...]:
    parts: list[str] = []
    for match in _KEY_PART.finditer(key):
        part = match.group(0)
        if part[0] == '"':
            part = tomllib.loads(f"k = {part}")["k"]
        elif part[0] == "'":
            part = part[1:-1]
        parts.append(part)
    return tuple(parts)


def _resolve_arrays(path: tuple[str, ...], array_counts: dict[tuple[str, ...], int]) -> tuple[str, ...]:
    """`[a.b]` after `[[a]]` is a sub-table of the last `a` element."""
    resolved: list[str] = []
    for position in range(len(path)):
        resolved.append(path[position])
        count = array_counts.get(path[: position + 1])
        if count is not None and position + 1 < len(path):
            resolved.append(str(count))
    return tuple(resolved)


def _comment_start(rest: str) -> int:
    """Where the comment after a value starts: the first `#` outside quotes, or -1."""
    if "#" not in rest:
        return -1
    quote = ""
    escaped = False
    for position, char in enumerate(rest):
        if quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote == '"':
                escaped = True
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "#":
            return position
    return -1


def _comment(spans: list[TextSpan], number: int, text: str) -> None:
    text = text.strip()
    if text:
        spans.append(TextSpan(number, text, "comment"))
