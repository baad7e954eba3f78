"""JSON (and JSON with comments: tsconfig, devcontainer): leaves with key paths and the line they are on.

`json.loads` checks the syntax (C speed); a token scan, tolerant of comments and trailing commas, gives
the key paths and lines in one linear pass.
"""

from __future__ import annotations

import json
import re

from align.formats import Assignment, FileFacts, Scalar, TextSpan
from align.formats.common import LineIndex, build_facts, env_aliases, line_spans

_TOKEN = re.compile(
    r'\s*(?:("(?:[^"\\\n]|\\.)*")|(-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?)|(true|false|null)'
    r"|([{}\[\]:,])|(//[^\n]*|/\*.*?\*/))",
    re.DOTALL,
)
_LITERALS: dict[str, Scalar] = {"true": True, "false": False, "null": None}


class _Broken(Exception):
    pass


def extract_json(text: str) -> FileFacts:
    lines = text.splitlines()
    spans = line_spans(lines)
    strict_error: str | None = None
    try:
        json.loads(text)
    except ValueError as exc:
        strict_error = f"JSON syntax error: {exc}"
    except RecursionError:
        strict_error = "JSON nested too deeply"
    scan = _Scan(text)
    try:
        scan.run()
        parse_error = strict_error if strict_error and not scan.lenient_syntax else None
    except _Broken as exc:
        parse_error = strict_error or f"JSON syntax error: {exc}"
    spans.extend(scan.comments)
    assignments = scan.assignments
    assignments.extend(env_aliases(assignments))
    return build_facts("json", assignments, spans, parse_error)


class _Scan:
    def __init__(self, text: str) -> None:
        self.text = text
        self.index = LineIndex(text)
        self.assignments: list[Assignment] = []
        self.comments: list[TextSpan] = []
        self.lenient_syntax = False  # comments or trailing commas: JSONC, not an error worth reporting

    def run(self) -> None:
        text, line_of = self.text, self.index.line_of
        # Each frame: [is_object, current key or index, expecting a key (objects only)]
        frames: list[list[object]] = []
        position, end = 0, len(text)
        previous = ""
        while position < end:
            match = _TOKEN.match(text, position)
            if match is None:
                if text[position:].strip():
                    raise _Broken(f"unexpected character at line {line_of(position)}")
                break
            position = match.end()
            string, number, literal, punct, comment = match.groups()
            if comment is not None:
                self.lenient_syntax = True
                self._comment(comment, line_of(match.start(5)))
                continue
            if punct is not None:
                previous = self._punctuation(punct, frames, previous, line_of(match.start(4)))
                continue
            top = frames[-1] if frames else None
            if string is not None and top is not None and top[0] and top[2]:
                top[1] = _decode(string)
                top[2] = False
                previous = "key"
                continue
            raw = string or number or literal or ""
            value: Scalar
            if string is not None:
                value = _decode(string)
            elif number is not None:
                value = float(number) if any(c in number for c in ".eE") else int(number)
            else:
                value = _LITERALS[raw]
            if top is not None:
                line = line_of(match.start(1) if string else match.start(2) if number else match.start(3))
                path = tuple(str(frame[1]) for frame in frames)
                self.assignments.append(Assignment(path, value, raw, line, line))
            previous = "value"
        if frames:
            raise _Broken("unclosed { or [ at the end of the file")

    def _punctuation(self, punct: str, frames: list[list[object]], previous: str, line: int) -> str:
        if punct == "{":
            frames.append([True, "", True])
        elif punct == "[":
            frames.append([False, 0, False])
        elif punct in "}]":
            if not frames or frames[-1][0] != (punct == "}"):
                raise _Broken(f"unmatched {punct} at line {line}")
            if previous == ",":
                self.lenient_syntax = True
            frames.pop()
            return "value"
        elif punct == ",":
            if not frames:
                raise _Broken(f"unexpected , at line {line}")
            top = frames[-1]
            if top[0]:
                top[2] = True
            else:
                top[1] = int(top[1]) + 1  # type: ignore[call-overload]
        return punct

    def _comment(self, comment: str, line: int) -> None:
        body = comment[2:-2] if comment.startswith("/*") else comment[2:]
        for offset, part in enumerate(body.split("\n")):
            part = part.strip().lstrip("*").strip()
            if part:
                self.comments.append(TextSpan(line + offset, part, "comment"))


def _decode(token: str) -> str:
    if "\\" not in token:
        return token[1:-1]
    try:
        value = json.loads(token)
    except ValueError:
        return token[1:-1]
    return value if isinstance(value, str) else token[1:-1]
