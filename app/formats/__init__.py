"""File formats: turn a file's text into facts rules can read (key/value assignments and text spans).

INTERFACE CONTRACT (implementation owned by the formats work). Keep these names.
Rules never parse files themselves; they call `extract` (through `SourceFile.facts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FormatName = Literal[
    "yaml", "python", "typescript", "javascript", "hcl", "dockerfile", "markdown", "env", "shell", "json",
    "toml", "text",
]
SpanKind = Literal["code", "comment", "string", "prose", "table"]
Scalar = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Assignment:
    """One `key = value` found in structured content (YAML mapping, Python/TS assignment or dict/object
    entry, HCL attribute, Dockerfile ENV/ARG, .env / shell variable, Markdown table cell with its header)."""

    key_path: tuple[str, ...]  # from the document root, e.g. ("spec", "resources", "limits", "nvidia.com/gpu")
    value: Scalar  # parsed scalar (numbers as int/float, "60GB" stays a string)
    raw: str  # the value as written
    line: int  # 1-based line of the value
    end_line: int

    @property
    def key(self) -> str:
        return self.key_path[-1] if self.key_path else ""

    @property
    def parent(self) -> tuple[str, ...]:
        return self.key_path[:-1]


@dataclass(frozen=True, slots=True)
class TextSpan:
    """A piece of human text or code on one line: prose, a comment, a string literal, a table row."""

    line: int
    text: str
    kind: SpanKind


@dataclass(frozen=True)
class FileFacts:
    format: FormatName
    assignments: tuple[Assignment, ...] = ()
    spans: tuple[TextSpan, ...] = ()
    # Why structured parsing failed (the file is then read as plain text spans, never a traceback).
    parse_error: str | None = None


def detect_format(path: str, text: str) -> FormatName:
    """By name and extension first (Dockerfile*, *.tf, .env*, *.md ...), then by a shebang."""
    raise NotImplementedError


def extract(path: str, text: str) -> FileFacts:
    """Facts of one file. Never raises on bad input: a file that does not parse gets `parse_error` set
    and falls back to one `code`/`prose` span per line."""
    raise NotImplementedError
