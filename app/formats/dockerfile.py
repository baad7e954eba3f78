"""Dockerfiles: ENV / ARG / LABEL pairs, FROM platform, image and stage, comments.

Continuation lines (`\\`) are joined into one instruction, but each value keeps the line it is written on.
`FROM --platform=linux/amd64 nvcr.io/nvidia/pytorch:24.01-py3` → ("FROM", "platform") = "linux/amd64" and
("FROM", "image") = "nvcr.io/nvidia/pytorch:24.01-py3".
"""

from __future__ import annotations

import re

from align.formats import Assignment, FileFacts, TextSpan
from align.formats.common import build_facts, line_spans, number_or_str, unquote

_INSTRUCTION = re.compile(r"\s*([A-Za-z]+)(?:\s+|$)")
_WORD = re.compile(r"""(?:[^\s"'\\]|\\.|"(?:[^"\\]|\\.)*"?|'[^']*'?)+""", re.DOTALL)
_HEREDOC = re.compile(r"<<-?[\"']?([A-Za-z_]\w*)[\"']?")
_PAIR_INSTRUCTIONS = frozenset({"ENV", "ARG", "LABEL"})
_KEYWORDS = frozenset({"FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
                       "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"})


def extract_dockerfile(text: str) -> FileFacts:
    lines = text.splitlines()
    spans = line_spans(lines)
    assignments: list[Assignment] = []
    problems: list[str] = []
    index = 0
    while index < len(lines):
        stripped = lines[index].strip()
        if not stripped:
            index += 1
            continue
        if stripped.startswith("#"):
            if stripped[1:].strip():
                spans.append(TextSpan(index + 1, stripped[1:].strip(), "comment"))
            index += 1
            continue
        index = _instruction(lines, index, assignments, spans, problems)
    return build_facts("dockerfile", assignments, spans, problems[0] if problems else None)


def _instruction(lines: list[str], start: int, assignments: list[Assignment], spans: list[TextSpan],
                 problems: list[str]) -> int:
    """Read one instruction from `start` (joining continuations); return the index after it."""
    pieces: list[tuple[int, str]] = []  # (line number, text) of each physical line, without the `\`
    index = start
    while index < len(lines):
        line = lines[index]
        index += 1
        if pieces and line.lstrip().startswith("#"):
            comment = line.strip()[1:].strip()
            if comment:
                spans.append(TextSpan(index, comment, "comment"))
            continue
        continued = line.rstrip().endswith("\\")
        pieces.append((index, line.rstrip()[:-1] if continued else line))
        if not continued:
            break
    first = pieces[0][1]
    heredoc = _HEREDOC.search(first)
    match = _INSTRUCTION.match(first)
    keyword = match.group(1).upper() if match else ""
    if match is None or keyword not in _KEYWORDS:
        problems.append(f"line {start + 1}: not a Dockerfile instruction: {first.strip()[:60]}")
        return index
    if heredoc is not None and keyword in ("RUN", "COPY"):
        index = _skip_heredoc(lines, index, heredoc.group(1))
    if keyword == "FROM":
        _from(pieces, match.end(), assignments)
    elif keyword in _PAIR_INSTRUCTIONS:
        _pairs(keyword, pieces, match.end(), assignments)
    return index


def _skip_heredoc(lines: list[str], index: int, tag: str) -> int:
    while index < len(lines) and lines[index].strip() != tag:
        index += 1
    return index + 1


def _words(pieces: list[tuple[int, str]], first_offset: int) -> list[tuple[int, str]]:
    """Shell-like words of the instruction's arguments, each with the line it starts on."""
    words: list[tuple[int, str]] = []
    for position, (number, text) in enumerate(pieces):
        body = text[first_offset:] if position == 0 else text
        words.extend((number, match.group(0)) for match in _WORD.finditer(body))
    return words


def _from(pieces: list[tuple[int, str]], offset: int, assignments: list[Assignment]) -> None:
    words = _words(pieces, offset)
    image_seen = False
    for position, (number, word) in enumerate(words):
        if word.startswith("--"):
            name, _, value = word[2:].partition("=")
            if name:
                assignments.append(Assignment(("FROM", name), unquote(value), value, number, number))
        elif not image_seen:
            image_seen = True
            assignments.append(Assignment(("FROM", "image"), unquote(word), word, number, number))
        elif word.upper() == "AS" and position + 1 < len(words):
            stage_line, stage = words[position + 1]
            assignments.append(Assignment(("FROM", "stage"), stage, stage, stage_line, stage_line))
            break


def _pairs(keyword: str, pieces: list[tuple[int, str]], offset: int, assignments: list[Assignment]) -> None:
    """`ENV A=1 B="x y"`, the legacy `ENV A 1 2` (value = the rest), `ARG X` (no default: no value)."""
    words = _words(pieces, offset)
    if not words:
        return
    first_line, first = words[0]
    if "=" not in first:
        if keyword == "ARG" or len(words) == 1:
            return
        raw = " ".join(word for _, word in words[1:])
        assignments.append(Assignment((keyword, first), number_or_str(unquote(raw)), raw, first_line,
                                      words[-1][0]))
        return
    for number, word in words:
        name, separator, raw = word.partition("=")
        if separator and name:
            value = unquote(raw) if raw[:1] in "\"'" else raw.replace("\\ ", " ")
            assignments.append(Assignment((keyword, unquote(name)), number_or_str(value), raw, number, number))
