"""Shell scripts: `KEY=value` / `export KEY=value` assignments, comments; every line is also a code span.

Quotes are tracked across lines (a string may span several), heredoc bodies are data, not commands
(their `#` comments are still comments: the YAML of `kubectl apply -f - <<EOF` has them).
An unterminated quote or heredoc is the parse error.
"""

from __future__ import annotations

import re

from align.formats import Assignment, FileFacts, TextSpan
from align.formats.common import build_facts, comment_start, embedded_facts, line_spans, number_or_str, unescape

# Tokens: quoted strings (possibly unterminated), escapes, words, comment starts, separators.
_TOKEN = re.compile(r"""'[^']*'?|"(?:[^"\\]|\\.)*"?|\\.?|[^\s'"\\#;&|()]+|#|[;&|()]+|\s+""", re.DOTALL)
_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", re.DOTALL)
_DECLARERS = frozenset({"export", "readonly", "local", "declare", "typeset"})
_COMMAND_STARTERS = frozenset({"then", "do", "else", "elif", "if", "while", "until", "{", "!", "time"})
_MAX_STRING_LINES = 200  # a quote still open after this many lines is a mistake, not a string
_HEREDOC = re.compile(r"<<(-?)\s*(['\"]?)([A-Za-z_][\w-]*)\2")


def extract_shell(text: str) -> FileFacts:
    lines = text.splitlines()
    reader = _Reader()
    index = 0
    while index < len(lines):
        index = reader.statement(lines, index)
    spans = line_spans(lines)
    spans.extend(reader.comments)
    return build_facts("shell", reader.assignments, spans, reader.problem)


class _Reader:
    def __init__(self) -> None:
        self.assignments: list[Assignment] = []
        self.comments: list[TextSpan] = []
        self.problem: str | None = None

    def statement(self, lines: list[str], start: int) -> int:
        """Read from line `start` up to the end of its last open quote; return the next line index."""
        index = start
        text = lines[index]
        index += 1
        if not text or text.isspace():
            return index  # nothing to read (and many such lines where a review emptied data)
        open_quote = _open_quote(text)
        while open_quote and index < len(lines) and index - start < _MAX_STRING_LINES:
            text += "\n" + lines[index]
            index += 1
            open_quote = _open_quote(text)
        if open_quote:
            self.problem = self.problem or f"line {start + 1}: unterminated quote"
            text, index = lines[start], start + 1  # read on, line by line
        code, comment = _split(text)
        if comment is not None:
            comment_line = start + 1 + text[: len(text) - len(comment)].count("\n")
            if comment[1:].strip():
                self.comments.append(TextSpan(comment_line, comment[1:].strip(), "comment"))
        if "=" in code:
            self._assignments(code, start + 1)
        heredoc = _HEREDOC.search(code) if "<<" in code else None
        if heredoc is not None:
            tag, indented = heredoc.group(3), heredoc.group(1) == "-"
            body_start = index
            while index < len(lines) and (lines[index].strip() if indented else lines[index]) != tag:
                self._data_comment(lines[index], index + 1)
                index += 1
            if index >= len(lines):
                self.problem = self.problem or f"line {start + 1}: unterminated heredoc <<{tag}"
            # `kubectl apply -f - <<EOF` and `cat > values.yaml <<EOF`: the body is a document to read.
            found, spans = embedded_facts("\n".join(lines[body_start:index]), body_start + 1)
            self.assignments.extend(found)
            self.comments.extend(span for span in spans if span.kind != "comment")  # read above, line by line
            index += 1
        return index

    def _data_comment(self, line: str, number: int) -> None:
        """A `#` comment in a heredoc body (the YAML of `kubectl apply -f - <<EOF`, a config file written
        out): data, but what follows the `#` is still text a person wrote."""
        at = comment_start(line, ("#",)) if "#" in line else -1
        if at >= 0 and line[at + 1 :].strip():
            self.comments.append(TextSpan(number, line[at + 1 :].strip(), "comment"))

    def _assignments(self, code: str, first_line: int) -> None:
        """`NAME=value` words where a command starts (also `export`-ed ones and env prefixes `A=1 cmd`)."""
        command_start = True
        position = 0
        while position < len(code):
            match = _TOKEN.match(code, position)
            if match is None:
                return
            token = match.group(0)
            if token.isspace():
                position = match.end()
                continue
            if token[0] in ";&|()":  # `)` also ends a `case` pattern: a command starts after it
                command_start = True
                position = match.end()
                continue
            if command_start and (token in _DECLARERS or token in _COMMAND_STARTERS):
                position = match.end()
                continue
            word, end = _word(code, position)
            found = _ASSIGNMENT.fullmatch(word) if command_start else None
            if found is not None:
                raw = found.group(2)
                line = first_line + code[:position].count("\n")
                self.assignments.append(Assignment((found.group(1),), number_or_str(_unquote_word(raw)), raw,
                                                   line, line + raw.count("\n")))
            else:
                command_start = False
            position = max(end, match.end())  # always move on, whatever the word turned out to be


def _word(code: str, start: int) -> tuple[str, int]:
    """The shell word starting at `start` (adjacent quoted and unquoted parts join): (word, end)."""
    position = start
    while position < len(code):
        match = _TOKEN.match(code, position)
        if match is None:
            break
        token = match.group(0)
        if token.isspace() or token[0] in ";&|()":
            break
        position = match.end()
    return code[start:position], position


def _unquote_word(raw: str) -> str:
    parts: list[str] = []
    for match in _TOKEN.finditer(raw):
        token = match.group(0)
        if token[:1] == "'":
            parts.append(token[1:-1] if token.endswith("'") and len(token) > 1 else token[1:])
        elif token[:1] == '"':
            parts.append(unescape(token[1:-1] if token.endswith('"') and len(token) > 1 else token[1:]))
        elif token[:1] == "\\" and len(token) == 2:
            parts.append(token[1])
        else:
            parts.append(token)
    return "".join(parts)


def _open_quote(text: str) -> bool:
    if "'" not in text and '"' not in text:
        return False
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token == "#" and (match.start() == 0 or text[match.start() - 1].isspace()):
            return False  # the rest is a comment
        if token[0] == "'" and (len(token) == 1 or not token.endswith("'")):
            return True
        if token[0] == '"' and (len(token) == 1 or not token.endswith('"') or _escaped_end(token)):
            return True
    return False


def _escaped_end(token: str) -> bool:
    backslashes = len(token) - 1 - len(token[:-1].rstrip("\\"))
    return backslashes % 2 == 1


def _split(text: str) -> tuple[str, str | None]:
    """(code, comment starting with `#`): a `#` starts a comment at the start of a word, outside quotes."""
    if "#" not in text:
        return text, None
    for match in _TOKEN.finditer(text):
        if match.group(0) == "#":
            start = match.start()
            if start == 0 or text[start - 1].isspace() or text[start - 1] in ";&|(":
                return text[:start], text[start:]
    return text, None
