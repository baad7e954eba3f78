"""YAML: Kubernetes manifests (multi-document), Helm values, Compose, SkyPilot task files.

Every scalar leaf becomes an Assignment with its key path from its document's root (list items by index).
Speed matters (a review reads thousands of files), and a round-trip parser reads ~4k lines/s, so block
YAML, which is nearly all real config, is read by a line scanner here; anything it does not model
(multi-line flow or plain scalars, aliases, tags, complex keys) goes to libyaml's composer, which keeps
every node's line. Helm templates (`{{ }}`) and broken files are read leniently: parse_error set,
best-effort `key: value` assignments per line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from align.formats import Assignment, FileFacts, Scalar, TextSpan
from align.formats.common import build_facts, embedded_facts, env_aliases, line_spans

try:  # libyaml is ~10x faster; the pure-Python loader gives the same nodes
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

_KEY_SEP = re.compile(r":(?:[ \t]|$)")
# The common line: a plain key without `:`, `#` or quotes in it, then `: value` or nothing.
_PLAIN_KEY = re.compile(r"([A-Za-z0-9_$/.(][^:#\"'\t]*?)[ \t]*:(?:[ \t]+(.*))?$")
_SPECIAL_STARTS = frozenset("\"'|>[{&*!%@`#?:-")
_DOC_MARK = re.compile(r"(?:---|\.\.\.)[ \t]*(?:#.*)?")
_BLOCK_HEADER = re.compile(r"([|>])(?:([-+])([1-9])?|([1-9])([-+])?)?[ \t]*(?:#.*)?")
_ANCHOR = re.compile(r"&([^ \t,\[\]{}]+)[ \t]*")
_PROPERTIES = re.compile(r"(?:[&!][^ \t]*[ \t]+)+")
_ALIAS = re.compile(r"\*([^ \t,\[\]{}]+)[ \t]*(?:#.*)?")
_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT10 = re.compile(r"[-+]?[0-9]+")
_INT_OTHER = re.compile(r"0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_SPECIAL_FLOAT = {".inf": float("inf"), ".Inf": float("inf"), ".INF": float("inf"), "+.inf": float("inf"),
                  "-.inf": float("-inf"), "-.Inf": float("-inf"), "-.INF": float("-inf"),
                  ".nan": float("nan"), ".NaN": float("nan"), ".NAN": float("nan")}
# Alias expansion ("billion laughs") must not blow up a review: nodes read per file, beyond a few per line.
_NODE_BUDGET_BASE = 10_000
_NODE_BUDGET_PER_LINE = 4


class _Unsupported(Exception):
    """The line scanner met YAML it does not model: hand the file to the composer."""


class _Template(_Unsupported):
    """Helm / Go template syntax: not YAML until rendered."""


def resolve_plain(text: str) -> Scalar:
    """YAML 1.2 core schema for plain scalars (what ruamel.yaml does): `H200:8` stays a string."""
    if text in _NULL:
        return None
    boolean = _BOOL.get(text)
    if boolean is not None:
        return boolean
    first = text[0]
    if first.isdigit() or first in "+-.":
        if _INT10.fullmatch(text):
            return int(text)
        if _INT_OTHER.fullmatch(text):
            return int(text, 0)
        if _FLOAT.fullmatch(text):
            return float(text)
        special = _SPECIAL_FLOAT.get(text)
        if special is not None:
            return special
    return text


def extract_yaml(text: str) -> FileFacts:
    lines = text.splitlines()
    parse_error: str | None = None
    scanner = _Scanner(lines, lenient=False)
    try:
        scanner.run()
        assignments, content_lines = scanner.out, scanner.content_lines
    except _Template:
        parse_error = "Helm/Go template syntax ({{ }}) is not plain YAML; read line by line"
        assignments, content_lines = _lenient(lines)
    except _Unsupported:
        try:
            assignments, content_lines = _compose(text, lines)
        except yaml.YAMLError as exc:
            parse_error = _describe(exc)
            if "{{" in text:
                parse_error = f"Helm/Go template syntax ({{{{ }}}}) is not plain YAML: {parse_error}"
            assignments, content_lines = _lenient(lines)
    spans = line_spans(lines)
    spans.extend(_comments(lines, content_lines))
    _read_embedded(lines, assignments, spans)
    assignments.extend(env_aliases(assignments))
    return build_facts("yaml", assignments, spans, parse_error)


_EMBEDDED_DEPTH = 2  # a block scalar of YAML inside a block scalar of YAML is read; deeper is not


def _read_embedded(lines: list[str], assignments: list[Assignment], spans: list[TextSpan], depth: int = 0) -> None:
    """Literal block scalars that hold YAML or JSON (`serveConfigV2: |`, a ConfigMap's `config.yaml: |`):
    their keys and values, under the scalar's key, on the lines where they are written. Other strings of
    several words (`description: |`, `title: Select by default. When ...`) are marked as strings: text
    people write, which rules read as prose."""
    if depth >= _EMBEDDED_DEPTH:
        return
    for item in list(assignments):
        if not isinstance(item.value, str):
            continue
        prose_key = bool(item.key_path) and item.key_path[-1].lower() in _PROSE_KEYS
        if item.end_line <= item.line or "\n" not in item.value:
            if prose_key and len(item.value.split()) >= _SENTENCE_WORDS and 0 < item.line <= len(lines):
                spans.append(TextSpan(item.line, item.value, "string"))
            continue
        header = lines[item.line - 1] if 0 < item.line <= len(lines) else ""
        found, found_spans = embedded_facts(item.value, item.line + 1, item.key_path) if "|" in header else ([], [])
        if found:
            assignments.extend(found)
            spans.extend(found_spans)
            continue
        if not prose_key:
            continue  # `setup: |`, `run: |`: a script, which is code
        # A description or help text: each of its lines is a string, text people write.
        for number in range(item.line + 1, min(item.end_line, len(lines)) + 1):
            if lines[number - 1].strip():
                spans.append(TextSpan(number, lines[number - 1].strip(), "string"))


_SENTENCE_WORDS = 4
# Keys whose string values are text for people (CRD and JSON-schema descriptions, chart help, notes).
_PROSE_KEYS = frozenset({
    "description", "title", "summary", "help", "message", "comment", "comments", "note", "notes", "text",
    "doc", "docs", "usage", "details", "info", "hint", "explanation", "remarks", "caption", "label",
})


def _describe(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"YAML syntax error, {where}{problem}"


def _lenient(lines: list[str]) -> tuple[list[Assignment], set[int]]:
    scanner = _Scanner(lines, lenient=True)
    scanner.run()
    return scanner.out, scanner.content_lines


# ---------------------------------------------------------------------------------------------------- scanner


@dataclass(slots=True)
class _Frame:
    indent: int
    is_seq: bool
    key: str  # the current key, or the current index as a string
    line: int  # line of that key / item
    open: bool  # the key / item still waits for its value
    index: int = 0


class _Scanner:
    """Block-style YAML, one line at a time, with a stack of open mappings and sequences."""

    def __init__(self, lines: list[str], *, lenient: bool) -> None:
        self.lines = lines
        self.lenient = lenient
        self.frames: list[_Frame] = []
        self.path: list[str] = []  # the frames' keys, kept in step with them (read for every value)
        self.out: list[Assignment] = []
        self.content_lines: set[int] = set()  # block scalar lines: their `#` is text, not a comment
        self.document_started = False  # a second root node in one document is an error
        self.anchors: dict[str, Scalar] = {}  # scalar anchors, for their aliases
        self._anchor: str | None = None  # an anchor waiting for the scalar it names

    def run(self) -> None:
        lines = self.lines
        index, count = 0, len(lines)
        while index < count:
            line = lines[index]
            content = line.lstrip(" ")
            if not content or content[0] == "#" or content.isspace():
                index += 1
                continue
            indent = len(line) - len(content)
            try:
                index = self._line(index, indent, content)
            except _Unsupported:
                if not self.lenient:
                    raise
                index += 1
        self._close_all()

    def _line(self, index: int, col: int, content: str) -> int:
        line_number = index + 1
        if content[0] == "\t":
            raise _Unsupported("tab indentation")
        if col == 0 and content[0] in "-." and _DOC_MARK.fullmatch(content):
            self._close_all()
            return index + 1
        if content.startswith("{{"):
            raise _Template
        if col == 0 and content[0] == "%":
            raise _Unsupported("directive")
        after_dash = False
        while content[0] == "-" and (len(content) == 1 or content[1] in " \t"):
            self._seq_item(col, line_number)
            after_dash = True
            rest = content[1:].lstrip(" \t")
            if not rest or rest[0] == "#":
                return index + 1
            col += len(content) - len(rest)
            content = rest
        fast = _PLAIN_KEY.match(content)
        if fast is not None:
            key, value = fast.group(1), fast.group(2) or ""
            self._key(col, key, line_number)
            if not value:
                return index + 1
            if value[0] not in _SPECIAL_STARTS and "#" not in value and ": " not in value:
                value = value.rstrip(" \t")
                self.frames[-1].open = False
                self.out.append(Assignment(tuple(self.path), resolve_plain(value), value, line_number, line_number))
                return index + 1
            return self._value(index, value, col)
        key, value = _split_key(content)
        if key is not None:
            if self.lenient and key.startswith("{{"):
                raise _Unsupported("template key")
            self._key(col, key, line_number)
        elif not after_dash:
            raise _Unsupported("a scalar outside a mapping or sequence item")
        return self._value(index, value, self.frames[-1].indent)

    # ---- structure

    def _seq_item(self, col: int, line_number: int) -> None:
        frames = self.frames
        while frames:
            last = frames[-1]
            if last.indent > col or (last.indent == col and not last.is_seq and not last.open):
                self._pop()
                continue
            break
        top = frames[-1] if frames else None
        if top is not None and top.is_seq and top.indent == col:
            if top.open:
                self._emit_null(top)
            top.index += 1
            top.key, top.line, top.open = str(top.index), line_number, True
            self.path[-1] = top.key
        elif (top is None and not self.document_started) or (
                top is not None and top.open and (col > top.indent or not top.is_seq)):
            if top is not None:
                top.open = False
            self.document_started = True
            frames.append(_Frame(col, True, "0", line_number, True))
            self.path.append("0")
        else:
            self._structure_error(col, True, line_number, "a sequence item at an unexpected indentation")

    def _key(self, col: int, key: str, line_number: int) -> None:
        frames = self.frames
        while frames:
            last = frames[-1]
            if last.indent > col or (last.is_seq and last.indent >= col):
                self._pop()
                continue
            break
        top = frames[-1] if frames else None
        if top is not None and not top.is_seq and top.indent == col:
            if top.open:
                self._emit_null(top)
            top.key, top.line, top.open = key, line_number, True
            self.path[-1] = key
        elif (top is None and not self.document_started) or (top is not None and top.open and col > top.indent):
            if top is not None:
                top.open = False
            self.document_started = True
            frames.append(_Frame(col, False, key, line_number, True))
            self.path.append(key)
        else:
            self._structure_error(col, False, line_number, "a key at an unexpected indentation", key)

    def _structure_error(self, col: int, is_seq: bool, line_number: int, why: str, key: str = "0") -> None:
        if not self.lenient:
            raise _Unsupported(why)
        # Best effort: treat the line as a sibling of whatever is open at a lower indentation.
        frames = self.frames
        while frames and frames[-1].indent >= col:
            self._pop()
        if frames:
            frames[-1].open = False
        frames.append(_Frame(col, is_seq, key, line_number, True))
        self.path.append(key)

    def _pop(self) -> None:
        top = self.frames[-1]
        if top.open:
            self._emit_null(top)
        self.frames.pop()
        self.path.pop()

    def _close_all(self) -> None:
        while self.frames:
            self._pop()
        self.document_started = False

    # ---- values

    def _value(self, index: int, value: str, owner_indent: int) -> int:
        line_number = index + 1
        if not value or value[0] == "#":
            return index + 1
        first = value[0]
        if first == "&":
            anchor = _ANCHOR.match(value)
            if anchor is None:
                raise _Unsupported("anchor")
            value = value[anchor.end() :]
            if not value or value[0] == "#":
                return index + 1  # an anchored mapping or sequence: its aliases go to the composer
            self._anchor = anchor.group(1)
            first = value[0]
        if first == "*":
            alias = _ALIAS.fullmatch(value)
            target = self.anchors.get(alias.group(1)) if alias else None
            if target is None:
                if self.lenient:
                    self._emit(value, value, line_number)
                    return index + 1
                raise _Unsupported("alias of a mapping or sequence")
            self._emit(target, value.split("#")[0].rstrip(), line_number)
            return index + 1
        if first in "\"'":
            end = _quoted_end(value)
            rest = value[end:].lstrip(" \t") if end > 0 else ""
            if end < 0 or (rest and rest[0] != "#"):
                if self.lenient:
                    self._emit(value, value, line_number)
                    return index + 1
                raise _Unsupported("multi-line or malformed quoted scalar")
            raw = value[:end]
            decoded = _decode_quoted(raw)
            if decoded is None:
                raise _Unsupported("escape sequence")
            self._emit(decoded, raw, line_number)
            return index + 1
        if first in "|>":
            return self._block_scalar(index, value, owner_indent)
        if first in "[{":
            if value.startswith("{{"):
                if not self.lenient:
                    raise _Template
                self._emit(value, value, line_number)
                return index + 1
            self._flow(value, line_number)
            return index + 1
        if first in "*!%@`" or (first in "?:-" and (len(value) == 1 or value[1] in " \t")):
            if self.lenient:
                self._emit(value, value, line_number)
                return index + 1
            raise _Unsupported("alias, tag or reserved indicator")
        plain = _strip_plain_comment(value)
        if not self.lenient and _KEY_SEP.search(plain):
            raise _Unsupported("': ' inside a plain scalar")
        self._emit(resolve_plain(plain), plain, line_number)
        return index + 1

    def _block_scalar(self, index: int, header: str, owner_indent: int) -> int:
        match = _BLOCK_HEADER.fullmatch(header)
        if match is None:
            raise _Unsupported("block scalar header")
        style = match.group(1)
        chomp = match.group(2) or match.group(5) or ""
        explicit = match.group(3) or match.group(4)
        lines = self.lines
        content_indent = owner_indent + int(explicit) if explicit else -1
        body: list[str] = []
        end = index + 1
        while end < len(lines):
            line = lines[end]
            stripped = line.lstrip(" ")
            if not stripped:
                body.append("")
                end += 1
                continue
            indent = len(line) - len(stripped)
            if content_indent < 0:
                if indent <= owner_indent:
                    break
                content_indent = indent
            if indent < content_indent:
                if stripped.isspace():
                    body.append("")
                    end += 1
                    continue
                break
            body.append(line[content_indent:])
            end += 1
        kept = len(body)
        while kept and not body[kept - 1].strip():
            kept -= 1
        trailing = len(body) - kept
        text_lines = body[:kept]
        if style == "|":
            value = "\n".join(text_lines)
        else:
            if any(part[:1] in (" ", "\t") for part in text_lines):
                raise _Unsupported("more-indented lines in a folded scalar")
            value = _fold(text_lines)
        if chomp == "+":
            value += "\n" * (trailing + (1 if text_lines else 0))
        elif chomp == "" and text_lines:
            value += "\n"
        self.content_lines.update(range(index + 2, end + 1))
        last = index + 1 + kept
        raw = "\n".join([_strip_plain_comment(header), *lines[index + 1 : last]])
        self._emit(value, raw, index + 1, last)
        return end

    def _flow(self, value: str, line_number: int) -> None:
        end = _flow_end(value)
        rest = value[end:].lstrip(" \t") if end > 0 else ""
        if end < 0 or (rest and rest[0] != "#"):
            if self.lenient:
                self._emit(value, value, line_number)
                return
            raise _Unsupported("multi-line flow collection")
        snippet = value[:end]
        top = self.frames[-1]
        path = tuple(self.path)
        top.open = False
        try:
            node = yaml.compose(snippet, Loader=_Loader)
        except yaml.YAMLError:
            if not self.lenient:
                raise _Unsupported("flow collection") from None
            self.out.append(Assignment(path, snippet, snippet, line_number, line_number))
            return
        if node is not None:
            _Walker([snippet], line_number - 1, self.out, self.content_lines).walk(node, path, line_number)

    def _emit(self, value: Scalar, raw: str, line_number: int, end_line: int | None = None) -> None:
        if self._anchor is not None:
            self.anchors[self._anchor] = value
            self._anchor = None
        self.frames[-1].open = False
        self.out.append(Assignment(tuple(self.path), value, raw, line_number, end_line or line_number))

    def _emit_null(self, frame: _Frame) -> None:
        path = []
        for each in self.frames:
            path.append(each.key)
            if each is frame:
                break
        frame.open = False
        self.out.append(Assignment(tuple(path), None, "", frame.line, frame.line))


def _split_key(content: str) -> tuple[str | None, str]:
    """(`key`, `value part`) for `key: value`, or (None, content) when the line holds no key."""
    first = content[0]
    if first in "\"'":
        end = _quoted_end(content)
        if end < 0:
            return None, content
        rest = content[end:].lstrip(" \t")
        if rest[:1] == ":" and (len(rest) == 1 or rest[1] in " \t"):
            key = _decode_quoted(content[:end])
            if key is None:
                raise _Unsupported("escape sequence in a key")
            return key, rest[1:].strip(" \t")
        return None, content
    if first in "[{&*!|>%@`#":
        return None, content
    if first == "?" and (len(content) == 1 or content[1] in " \t"):
        raise _Unsupported("complex key")
    match = _KEY_SEP.search(content)
    if match is None:
        return None, content
    key = content[: match.start()].rstrip(" \t")
    if " #" in key or "\t#" in key:
        return None, content
    return key, content[match.end() :].strip(" \t")


def _quoted_end(text: str) -> int:
    """Index just past the closing quote of the quoted scalar starting text, or -1 if it is not closed."""
    quote = text[0]
    position = 1
    if quote == "'":
        while True:
            found = text.find("'", position)
            if found < 0:
                return -1
            if text[found + 1 : found + 2] == "'":
                position = found + 2
                continue
            return found + 1
    while True:
        found = text.find('"', position)
        if found < 0:
            return -1
        backslashes = 0
        scan = found - 1
        while scan > 0 and text[scan] == "\\":
            backslashes += 1
            scan -= 1
        if backslashes % 2 == 0:
            return found + 1
        position = found + 1


_YAML_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f",
                 "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0"}
_YAML_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)")


def _decode_quoted(raw: str) -> str | None:
    body = raw[1:-1]
    if raw[0] == "'":
        return body.replace("''", "'")
    if "\\" not in body:
        return body
    failed = False

    def replace(match: re.Match[str]) -> str:
        nonlocal failed
        code = match.group(1)
        if len(code) > 1:
            return chr(int(code[1:], 16))
        if code not in _YAML_ESCAPES:
            failed = True
        return _YAML_ESCAPES.get(code, code)

    decoded = _YAML_ESCAPE.sub(replace, body)
    return None if failed else decoded


def _strip_plain_comment(value: str) -> str:
    if "#" in value:
        for marker in (" #", "\t#"):
            found = value.find(marker)
            if found >= 0:
                value = value[:found]
    return value.rstrip(" \t")


def _flow_end(text: str) -> int:
    """Index just past the flow collection starting text (brackets matched outside quotes), or -1."""
    depth = 0
    position = 0
    length = len(text)
    while position < length:
        char = text[position]
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return position + 1
        elif char in "\"'" and text[position - 1] in " \t[{,:":
            end = _quoted_end(text[position:])
            if end < 0:
                return -1
            position += end
            continue
        elif char == "#" and text[position - 1] in " \t":
            return -1
        position += 1
    return -1


def _fold(lines: list[str]) -> str:
    parts: list[str] = []
    breaks = 0
    started = False
    for line in lines:
        if not line:
            breaks += 1
            continue
        if started:
            parts.append("\n" * breaks if breaks else " ")
        elif breaks:
            parts.append("\n" * breaks)
        parts.append(line)
        breaks = 0
        started = True
    return "".join(parts)


# ---------------------------------------------------------------------------------------------------- composer


def _compose(text: str, lines: list[str]) -> tuple[list[Assignment], set[int]]:
    out: list[Assignment] = []
    content_lines: set[int] = set()
    walker = _Walker(lines, 0, out, content_lines)
    for document in yaml.compose_all(text, Loader=_Loader):
        if document is not None:
            walker.walk(document, (), 1)
    return out, content_lines


class _Walker:
    """Nodes → assignments. `line_offset` places a snippet (a one-line flow collection) in its file."""

    def __init__(self, lines: list[str], line_offset: int, out: list[Assignment], content_lines: set[int]) -> None:
        self.lines = lines
        self.offset = line_offset
        self.out = out
        self.content_lines = content_lines
        self.budget = _NODE_BUDGET_BASE + _NODE_BUDGET_PER_LINE * len(lines)

    def walk(self, node: yaml.Node, path: tuple[str, ...], owner_line: int) -> None:
        self.budget -= 1
        if self.budget < 0:
            return
        if isinstance(node, yaml.ScalarNode):
            if path:
                self._scalar(node, path, owner_line)
        elif isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    continue  # complex keys (and `{{ }}` read as a flow mapping) name nothing a rule reads
                key_line = key_node.start_mark.line + 1 + self.offset
                if key_node.value == "<<" and key_node.tag == "tag:yaml.org,2002:merge":
                    merged = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                    for each in merged:
                        self.walk(each, path, key_line)
                    continue
                self.walk(value_node, (*path, key_node.value), key_line)
        elif isinstance(node, yaml.SequenceNode):
            for position, item in enumerate(node.value):
                self.walk(item, (*path, str(position)), item.start_mark.line + 1 + self.offset)

    def _scalar(self, node: yaml.ScalarNode, path: tuple[str, ...], owner_line: int) -> None:
        start, end = node.start_mark, node.end_mark
        line = start.line + 1 + self.offset
        style = node.style  # "" or None for plain, depending on the loader
        value: Scalar
        if not style:
            if node.value == "":
                self.out.append(Assignment(path, None, "", owner_line, owner_line))
                return
            value = resolve_plain(node.value) if node.tag.startswith("tag:yaml.org,2002:") else node.value
        else:
            value = node.value
        if style in ("|", ">"):
            last = end.line + self.offset if end.column == 0 else end.line + 1 + self.offset
            lines = self.lines
            while last > line and not lines[last - 1 - self.offset].strip():
                last -= 1
            self.content_lines.update(range(line + 1, last + 1))
            raw_lines = lines[start.line : last - self.offset]
            raw = "\n".join([raw_lines[0][start.column :].rstrip(), *raw_lines[1:]]) if raw_lines else ""
            raw = _strip_header_comment(_PROPERTIES.sub("", raw, count=1) if raw[:1] in ("&", "!") else raw)
            self.out.append(Assignment(path, value, raw, line, last))
            return
        end_line = end.line + 1 + self.offset
        if start.line == end.line:
            raw = self.lines[start.line][start.column : end.column]
        else:
            chunk = self.lines[start.line : end.line + 1]
            raw = "\n".join([chunk[0][start.column :], *chunk[1:-1], chunk[-1][: end.column]])
        if raw[:1] in ("&", "!"):
            raw = _PROPERTIES.sub("", raw, count=1)  # libyaml's mark includes the anchor and tag
        self.out.append(Assignment(path, value, raw, line, end_line))


def _strip_header_comment(raw: str) -> str:
    header, newline, rest = raw.partition("\n")
    return _strip_plain_comment(header) + newline + rest


# ---------------------------------------------------------------------------------------------------- comments


def _comments(lines: list[str], content_lines: set[int]) -> list[TextSpan]:
    spans: list[TextSpan] = []
    for number, line in enumerate(lines, 1):
        if "#" not in line or number in content_lines:
            continue
        start = comment_start(line)
        if start >= 0:
            comment = line[start + 1 :].strip()
            if comment:
                spans.append(TextSpan(number, comment, "comment"))
    return spans


def comment_start(line: str) -> int:
    """Index of the `#` that starts a comment, or -1. Quotes count only where a YAML scalar can start."""
    stripped = line.lstrip()
    if stripped.startswith("#"):
        return len(line) - len(stripped)
    if "'" not in line and '"' not in line:
        for marker in (" #", "\t#"):
            found = line.find(marker)
            if found >= 0:
                return found + 1
        return -1
    position, length = 0, len(line)
    while position < length:
        char = line[position]
        previous = line[position - 1] if position else " "
        if char == "#" and previous in " \t":
            return position
        if char in "\"'" and previous in " \t[{,":
            end = _quoted_end(line[position:])
            if end < 0:
                return -1
            position += end
            continue
        position += 1
    return -1
