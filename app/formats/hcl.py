"""HCL (Terraform `.tf` / `.tfvars`, other `.hcl`): attributes with their block path, comments.

python-hcl2 gives values but no line numbers and reads ~5k lines/s, so the primary reader is a line
scanner that tracks block and object nesting by braces; hcl2 is consulted only when the scanner finds the
file suspicious, to confirm the syntax error and word it.
`resource "aws_instance" "gpu" { instance_type = "p5e.48xlarge" }` →
("resource", "aws_instance", "gpu", "instance_type").
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

from align.formats import Assignment, FileFacts, Scalar, TextSpan
from align.formats.common import build_facts, embedded_facts, line_spans, unescape

# A string (interpolations `${...}` may hold quotes), a comment start, or a heredoc opener.
_LEX = re.compile(r'"(?:[^"\\$]|\\.|\$\{[^}]*\}|\$)*("?)|#|//|/\*|<<(-?)[ \t]*([A-Za-z_][\w-]*)')
_BLOCK = re.compile(r'([A-Za-z_][\w-]*)((?:[ \t]+(?:"[^"]*"|[A-Za-z_][\w-]*))*)[ \t]*\{[ \t]*$')
_ONE_LINE_BLOCK = re.compile(r'([A-Za-z_][\w-]*)((?:[ \t]+(?:"[^"]*"|[A-Za-z_][\w-]*))*)[ \t]*\{(.*)\}$')
_LABEL = re.compile(r'"([^"]*)"|([A-Za-z_][\w-]*)')
_ATTRIBUTE = re.compile(r'("[^"]*"|[A-Za-z_][\w.-]*)[ \t]*(=(?![=>])|:)[ \t]*(.*)$')
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
_OPENERS = {"{": 1, "[": 1, "(": 1, "}": -1, "]": -1, ")": -1}
_MASK = "\x00"  # stands for string contents, so braces in strings never count


@dataclass(slots=True)
class _Frame:
    path: tuple[str, ...]
    is_list: bool
    index: int = 0


def extract_hcl(text: str) -> FileFacts:
    lines = text.splitlines()
    scanner = _Scanner(lines)
    scanner.run()
    spans = line_spans(lines)
    spans.extend(scanner.comments)
    if "<<" in text:
        _embedded_heredocs(lines, scanner.assignments, spans)
    parse_error = _confirm_error(text, scanner.problem) if scanner.problem else None
    return build_facts("hcl", scanner.assignments, spans, parse_error)


_HEREDOC_OPEN = re.compile(r"<<(-?)[ \t]*([A-Za-z_][\w-]*)[ \t]*\)?[ \t]*$")


def _embedded_heredocs(lines: list[str], assignments: list[Assignment], spans: list[TextSpan]) -> None:
    """`manifest = yamldecode(<<-EOT ... EOT)`, `values = [<<EOF ... EOF]`: heredocs of YAML or JSON are
    documents; their keys and values are read on the lines where they are written."""
    index = 0
    while index < len(lines):
        match = _HEREDOC_OPEN.search(lines[index])
        index += 1
        if match is None:
            continue
        tag, indented = match.group(2), match.group(1) == "-"
        start = index
        while index < len(lines) and (lines[index].strip() if indented else lines[index]) != tag:
            index += 1
        body = textwrap.dedent("\n".join(lines[start:index])) if indented else "\n".join(lines[start:index])
        found, found_spans = embedded_facts(body, start + 1)
        assignments.extend(found)
        spans.extend(found_spans)
        index += 1


def _confirm_error(text: str, problem: str) -> str | None:
    """The scanner's doubt, checked against the real parser (slow, so only for suspicious files)."""
    try:
        import hcl2

        hcl2.loads(text)
    except Exception as exc:  # hcl2 raises lark's and its own exception types
        detail = " ".join(str(exc).split())[:300]
        return f"HCL syntax error: {detail or problem}"
    return None


class _Scanner:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.frames: list[_Frame] = []
        self.assignments: list[Assignment] = []
        self.comments: list[TextSpan] = []
        self.problem: str | None = None
        self._in_comment = False
        self._expression_depth = 0  # inside a multi-line expression (function call, for expression)

    def run(self) -> None:
        lines = self.lines
        index, count = 0, len(lines)
        while index < count:
            masked, heredoc = self._code(index + 1, lines[index])
            code = masked.lstrip()
            index = self._statement(index, code.rstrip(), len(masked) - len(code), heredoc)
        if self.frames or self._expression_depth > 0:
            self._doubt("unclosed block or expression at the end of the file")
        if self._in_comment:
            self._doubt("unterminated /* comment")

    def _doubt(self, problem: str) -> None:
        if self.problem is None:
            self.problem = problem

    # ---- lexing: comments out, string contents masked

    def _code(self, number: int, line: str) -> tuple[str, str | None]:
        """The line with comments removed (and recorded) and string contents masked; a heredoc tag."""
        if self._in_comment:
            end = line.find("*/")
            if end < 0:
                self._comment(number, line)
                return "", None
            self._comment(number, line[:end])
            self._in_comment = False
            line = " " * (end + 2) + line[end + 2 :]
        if '"' not in line and "#" not in line and "/" not in line and "<<" not in line:
            return line, None
        parts: list[str] = []
        position = 0
        heredoc: str | None = None
        for match in _LEX.finditer(line):
            token = match.group(0)
            if token[0] == '"':
                if not match.group(1):
                    self._doubt(f"unterminated string on line {number}")
                parts.append(line[position : match.start()])
                inner = len(token) - (2 if match.group(1) else 1)
                parts.append('"' + _MASK * inner + ('"' if match.group(1) else ""))
                position = match.end()
                continue
            if token.startswith("<<"):
                heredoc = match.group(2) + match.group(3)  # "-EOT": indented heredoc
                continue
            parts.append(line[position : match.start()])
            if token == "/*":
                end = line.find("*/", match.end())
                if end < 0:
                    self._comment(number, line[match.end() :])
                    self._in_comment = True
                    return "".join(parts), heredoc
                self._comment(number, line[match.end() : end])
                rest_code, rest_heredoc = self._code(number, " " * (end + 2) + line[end + 2 :])
                return "".join(parts) + rest_code[match.start() :], heredoc or rest_heredoc
            self._comment(number, line[match.end() :])
            return "".join(parts), heredoc
        parts.append(line[position:])
        return "".join(parts), heredoc

    def _comment(self, number: int, text: str) -> None:
        text = text.strip().lstrip("*").strip()
        if text:
            self.comments.append(TextSpan(number, text, "comment"))

    # ---- statements

    def _statement(self, index: int, code: str, col: int, heredoc: str | None) -> int:
        """One line of code (`col`: its column in the original line, which masking keeps)."""
        number = index + 1
        if not code:
            return index + 1
        if self._expression_depth > 0:
            self._expression_depth += _depth(code)
            return index + 1
        frames = self.frames
        top = frames[-1] if frames else None
        if top is not None and top.is_list:
            return self._list_line(index, code, col, top)
        if code[0] in "}":
            if not frames:
                self._doubt(f"unmatched closing brace on line {number}")
            else:
                frames.pop()
            rest = code[1:].lstrip(" \t,)")
            return self._statement(index, rest, col + len(code) - len(rest), heredoc) if rest else index + 1
        block = _BLOCK.match(code)
        if block is not None and "=" not in code:
            labels = tuple(a or b for a, b in _LABEL.findall(self._original(index, col + block.start(2),
                                                                                col + block.end(2))))
            frames.append(_Frame((*self._path(), block.group(1), *labels), False))
            return index + 1
        attribute = _ATTRIBUTE.match(code)
        if attribute is None:
            one_line = _ONE_LINE_BLOCK.match(code)
            if one_line is None:
                self._doubt(f"unexpected text on line {number}")
                return index + 1
            # `variable "gpu_count" { default = 8 }`
            labels = tuple(a or b for a, b in _LABEL.findall(self._original(index, col + one_line.start(2),
                                                                                col + one_line.end(2))))
            path = (*self._path(), one_line.group(1), *labels)
            body = self._original(index, col + one_line.start(3), col + one_line.end(3))
            self._inline_object(number, path, one_line.group(3), body)
            return index + 1
        key = self._original(index, col + attribute.start(1), col + attribute.end(1)).strip('"')
        value_code = attribute.group(3).rstrip(" \t,")
        return self._attribute(index, (*self._path(), key), value_code, col + attribute.start(3), heredoc)

    def _attribute(self, index: int, path: tuple[str, ...], value_code: str, start: int,
                   heredoc: str | None) -> int:
        number = index + 1
        if heredoc is not None and value_code.startswith("<<"):
            return self._heredoc(index, path, heredoc)
        if not value_code:
            self._doubt(f"missing value on line {number}")
            return index + 1
        if value_code == "{":
            self.frames.append(_Frame(path, False))
            return index + 1
        if value_code == "[":
            self.frames.append(_Frame(path, True))
            return index + 1
        depth = _depth(value_code)
        raw = self._original(index, start, start + len(value_code))
        if depth > 0:
            self._expression_depth = depth
            return index + 1
        if value_code[0] == "{" and value_code.endswith("}"):
            self._inline_object(number, path, value_code[1:-1], raw[1:-1])
        elif value_code[0] == "[" and value_code.endswith("]"):
            self._inline_list(number, path, value_code[1:-1], raw[1:-1])
        else:
            self._emit(path, raw, value_code, number)
        return index + 1

    def _list_line(self, index: int, code: str, col: int, top: _Frame) -> int:
        number = index + 1
        if code[0] == "]":
            self.frames.pop()
            rest = code[1:].lstrip(" \t,)")
            return self._statement(index, rest, col + len(code) - len(rest), None) if rest else index + 1
        if code.startswith("{"):
            path = (*top.path, str(top.index))
            top.index += 1
            if code.rstrip(",").endswith("}"):
                inner = code.rstrip(",")
                self._inline_object(number, path, inner[1:-1], self._original(index, col + 1, col + len(inner) - 1))
            else:
                self.frames.append(_Frame(path, False))
            return index + 1
        closes = code.endswith("]") and _depth(code) < 0
        body = code[:-1] if closes else code
        raw = self._original(index, col, col + len(body))
        for element_code, element_raw in _split_top_level(body, raw):
            if element_code:
                self._emit((*top.path, str(top.index)), element_raw, element_code, number)
                top.index += 1
        if closes:
            self.frames.pop()
        return index + 1

    def _inline_object(self, number: int, path: tuple[str, ...], code: str, raw: str) -> None:
        for item_code, item_raw in _split_top_level(code, raw):
            match = _ATTRIBUTE.match(item_code)
            if match is None:
                continue
            key = item_raw[match.start(1) : match.end(1)].strip('"')
            value_code = match.group(3).strip()
            value_raw = item_raw[match.start(3) : match.start(3) + len(value_code)]
            if value_code.startswith("{") and value_code.endswith("}"):
                self._inline_object(number, (*path, key), value_code[1:-1], value_raw[1:-1])
            elif value_code.startswith("[") and value_code.endswith("]"):
                self._inline_list(number, (*path, key), value_code[1:-1], value_raw[1:-1])
            elif value_code:
                self._emit((*path, key), value_raw, value_code, number)

    def _inline_list(self, number: int, path: tuple[str, ...], code: str, raw: str) -> None:
        position = 0
        for element_code, element_raw in _split_top_level(code, raw):
            if not element_code:
                continue
            if element_code.startswith("{") and element_code.endswith("}"):
                self._inline_object(number, (*path, str(position)), element_code[1:-1], element_raw[1:-1])
            else:
                self._emit((*path, str(position)), element_raw, element_code, number)
            position += 1

    def _heredoc(self, index: int, path: tuple[str, ...], tag: str) -> int:
        lines = self.lines
        indented = tag.startswith("-")
        tag = tag.lstrip("-")
        end = index + 1
        while end < len(lines) and lines[end].strip() != tag:
            end += 1
        if end >= len(lines):
            self._doubt(f"unterminated heredoc <<{tag}")
        raw = "\n".join(lines[index + 1 : end])
        value = textwrap.dedent(raw) if indented else raw
        self.assignments.append(Assignment(path, value, raw, index + 1, max(index + 1, end)))
        return end + 1

    def _emit(self, path: tuple[str, ...], raw: str, code: str, number: int) -> None:
        self.assignments.append(Assignment(path, _value(raw, code), raw, number, number))

    def _path(self) -> tuple[str, ...]:
        return self.frames[-1].path if self.frames else ()

    def _original(self, index: int, start: int, end: int) -> str:
        """Unmask: the same columns of the original line (masking keeps columns)."""
        return self.lines[index][start:end]


def _depth(code: str) -> int:
    return sum(_OPENERS.get(char, 0) for char in code if char in _OPENERS)


def _split_top_level(code: str, raw: str) -> list[tuple[str, str]]:
    """Comma-separated items of an inline object or list, split outside brackets (strings are masked)."""
    items: list[tuple[str, str]] = []
    depth = 0
    start = 0
    for position, char in enumerate(code):
        if char in "{[(":
            depth += 1
        elif char in "}])":
            depth -= 1
        elif char == "," and depth == 0:
            items.append((code[start:position].strip(), raw[start:position].strip()))
            start = position + 1
    items.append((code[start:].strip(), raw[start:].strip()))
    return items


def _value(raw: str, code: str) -> Scalar:
    if code[0] == '"' and code.endswith('"') and code.count('"') == 2:
        return unescape(raw[1:-1])
    if _NUMBER.fullmatch(code):
        return float(code) if any(c in code for c in ".eE") else int(code)
    if code == "true":
        return True
    if code == "false":
        return False
    if code == "null":
        return None
    return raw
