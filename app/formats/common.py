"""Helpers shared by the format modules: line spans, scalar coercion, offset → line lookup, aliases."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence

from align.formats import Assignment, FileFacts, FormatName, Scalar, SpanKind, TextSpan

_INT = re.compile(r"[-+]?\d+")
_FLOAT = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+(?:\.\d*)?[eE][-+]?\d+)")
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"', "'": "'", "/": "/",
                   "b": "\b", "f": "\f", "v": "\v", "`": "`", "$": "$", "\n": ""}
_ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", re.DOTALL)


def line_spans(lines: Sequence[str], kind: SpanKind = "code") -> list[TextSpan]:
    """One span per non-blank line: the catch-all every format emits so a line scan finds everything."""
    return [TextSpan(number, line, kind) for number, line in enumerate(lines, 1) if line and not line.isspace()]


def number_or_str(raw: str) -> Scalar:
    """For untyped sources (.env, shell, Markdown cells): "141" → 141, "1.49" → 1.49, "60GB" stays a string."""
    text = raw.strip()
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    return raw


def unescape(body: str) -> str:
    """Backslash escapes of C-like string literals (JS, HCL, JSON, double-quoted shell), leniently."""
    if "\\" not in body:
        return body
    return _ESCAPE.sub(_replace_escape, body)


def _replace_escape(match: re.Match[str]) -> str:
    code = match.group(1)
    if code[0] in "ux" and len(code) > 1:
        digits = code[2:-1] if code.startswith("u{") else code[1:]
        try:
            return chr(int(digits, 16))
        except (ValueError, OverflowError):
            return match.group(0)
    return _SIMPLE_ESCAPES.get(code, code)


def unquote(raw: str) -> str:
    """`"a\\tb"` → a<TAB>b, `'a'` → a, anything else unchanged (after strip)."""
    text = raw.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'`":
        body = text[1:-1]
        return unescape(body) if text[0] != "'" else body
    return text


class LineIndex:
    """Character offset → 1-based line, in O(log n), for parsers that report offsets."""

    __slots__ = ("_starts",)

    def __init__(self, text: str) -> None:
        starts = [0]
        find = text.find
        position = find("\n")
        while position >= 0:
            starts.append(position + 1)
            position = find("\n", position + 1)
        self._starts = starts

    def line_of(self, offset: int) -> int:
        return bisect_right(self._starts, offset)


def env_aliases(assignments: Sequence[Assignment]) -> list[Assignment]:
    """Extra `(..., "env", NAME)` assignments for Kubernetes-style `env: [{name: X, value: Y}]` lists, and
    `(..., "environment", NAME)` for Compose-style `environment: ["X=Y"]`, so rules see X=Y directly."""
    names: dict[tuple[str, ...], str] = {}
    values: dict[tuple[str, ...], Assignment] = {}
    extra: list[Assignment] = []
    for item in assignments:
        path = item.key_path
        if len(path) < 3:
            continue
        if path[-3] == "env" and path[-2].isdigit():
            if path[-1] == "name" and isinstance(item.value, str):
                names[path[:-1]] = item.value
            elif path[-1] == "value":
                values[path[:-1]] = item
        elif path[-2] == "environment" and path[-1].isdigit() and isinstance(item.value, str) and "=" in item.value:
            name, _, value = item.value.partition("=")
            if name.strip():
                extra.append(Assignment((*path[:-1], name.strip()), number_or_str(value), value, item.line,
                                        item.end_line))
    for parent, name in names.items():
        found = values.get(parent)
        if found is not None:
            extra.append(Assignment((*parent[:-1], name), found.value, found.raw, found.line, found.end_line))
    return extra


_YAML_START = re.compile(r"""^(?:-\s|[\w"'./-][^:#]*:(?:\s|$))""")
_MAX_EMBEDDED = 200_000  # characters of an embedded document worth reading


def embedded_format(body: str) -> FormatName | None:
    """The format of configuration held in a string or heredoc (a RayService `serveConfigV2: |`, a
    ConfigMap's `config.yaml: |`, a Helm `tpl` value, `kubectl apply -f - <<EOF`): YAML or JSON, or None
    for anything else (scripts, prose, certificates)."""
    if len(body) > _MAX_EMBEDDED:
        return None
    for line in body.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped[0] in "{[":
            return "json"
        return "yaml" if _YAML_START.match(stripped) else None
    return None


def embedded_facts(
    body: str, first_line: int, prefix: tuple[str, ...] = (), fmt: FormatName | None = None
) -> tuple[list[Assignment], list[TextSpan]]:
    """Assignments and human-text spans of configuration embedded at `first_line` (the 1-based line of
    its first body line), with key paths under `prefix`. Nothing when the body is not configuration."""
    from align.formats import extract_as

    kind = fmt or embedded_format(body)
    if kind is None:
        return [], []
    facts = extract_as(kind, body)
    offset = first_line - 1
    assignments = [Assignment((*prefix, *a.key_path), a.value, a.raw, a.line + offset, a.end_line + offset)
                   for a in facts.assignments]
    spans = [TextSpan(span.line + offset, span.text, span.kind) for span in facts.spans if span.kind != "code"]
    return assignments, spans


def build_facts(fmt: FormatName, assignments: Iterable[Assignment], spans: list[TextSpan],
                parse_error: str | None = None) -> FileFacts:
    """Spans in line order (a stable sort: the per-line catch-all span comes before the specific ones)."""
    spans.sort(key=_span_line)
    return FileFacts(fmt, tuple(assignments), tuple(spans), parse_error)


def _span_line(span: TextSpan) -> int:
    return span.line


_HASH = ("#",)
# Line-comment markers by format: where a trailing comment may start (see `comment_start`).
COMMENT_MARKERS: dict[str, tuple[str, ...]] = {
    "yaml": _HASH, "python": _HASH, "shell": _HASH, "dockerfile": _HASH, "toml": _HASH, "env": _HASH,
    "hcl": ("#", "//"), "typescript": ("//",), "javascript": ("//",), "clike": ("//",),
}


def comment_start(text: str, markers: tuple[str, ...]) -> int:
    """Index of a comment marker outside quotes that starts the line or follows whitespace, else -1."""
    if not any(marker in text for marker in markers):  # most lines: no marker at all, found in C
        return -1
    quote = ""
    for index, char in enumerate(text):
        if quote:
            if char == quote and text[index - 1] != "\\":
                quote = ""
            continue
        if char in "\"'`":
            quote = char
            continue
        if (index == 0 or text[index - 1].isspace()) and any(text.startswith(m, index) for m in markers):
            return index
    return -1
