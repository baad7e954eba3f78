"""File formats: turn a file's text into facts rules can read (key/value assignments and text spans).

INTERFACE CONTRACT (implementation owned by the formats work). Keep these names.
Rules never parse files themselves; they call `extract` (through `SourceFile.facts`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Literal

FormatName = Literal[
    "yaml", "python", "typescript", "javascript", "hcl", "dockerfile", "markdown", "env", "shell", "json",
    "toml", "clike", "text",
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
    name = path.replace("\\", "/").rsplit("/", 1)[-1].lower()
    suffix = name.rsplit(".", 1)[-1] if "." in name else ""
    by_suffix = _SUFFIXES.get(suffix)
    # `Dockerfile.gpu`, `.env.production`: a variant name, unless it ends like code (`dockerfile.py`).
    if name in ("dockerfile", "containerfile") or name.endswith(".dockerfile") or (
            by_suffix is None and name.startswith(("dockerfile.", "containerfile."))):
        return "dockerfile"
    if name == ".envrc" or _MAKE_OR_KCONFIG.match(name):
        return "shell"  # `#` comments and `NAME=value` lines: Makefiles and Kconfig read like shell
    if name == ".env" or name.endswith(".env") or (by_suffix is None and name.startswith(".env.")):
        return "env"
    if by_suffix is not None:
        return by_suffix
    return _by_shebang(text)


def extract(path: str, text: str) -> FileFacts:
    """Facts of one file. Never raises on bad input: a file that does not parse gets `parse_error` set
    and falls back to one `code`/`prose` span per line."""
    fmt = detect_format(path, text)
    return extract_as(fmt, text, jsx=path.lower().endswith((".tsx", ".jsx")))


def extract_as(fmt: FormatName, text: str, *, jsx: bool = False) -> FileFacts:
    """Facts of `text` read as `fmt` (Markdown uses it for fenced code blocks). `jsx`: TSX/JSX syntax."""
    try:
        if jsx:
            from align.formats.typescript import extract_tsx

            return extract_tsx(text, fmt)
        return _extractors()[fmt](text)
    except Exception as exc:  # a parser bug must cost one file's structure, never the review
        kind: SpanKind = "prose" if fmt == "markdown" else "code"
        spans = tuple(TextSpan(n, line, kind) for n, line in enumerate(text.splitlines(), 1) if line.strip())
        return FileFacts(fmt, (), spans, f"internal error reading {fmt}: {type(exc).__name__}: {exc}")


_SUFFIXES: dict[str, FormatName] = {
    "yaml": "yaml", "yml": "yaml",
    "py": "python", "pyi": "python",
    "ts": "typescript", "tsx": "typescript", "mts": "typescript", "cts": "typescript",
    "js": "javascript", "jsx": "javascript", "mjs": "javascript", "cjs": "javascript",
    "tf": "hcl", "tfvars": "hcl", "hcl": "hcl",
    "md": "markdown", "mdx": "markdown", "markdown": "markdown", "rst": "markdown", "txt": "markdown",
    "sh": "shell", "bash": "shell", "zsh": "shell", "ksh": "shell",
    "json": "json", "jsonc": "json", "json5": "json",
    "toml": "toml",
    **{ext: "clike" for ext in ("go", "rs", "java", "kt", "kts", "scala", "c", "cc", "cpp", "cxx", "h", "hh", "hpp",
                                "cu", "cuh", "cs", "swift", "dart", "php", "groovy", "gradle", "proto", "zig")},
}

_MAKE_OR_KCONFIG = re.compile(r"^(?:makefile|gnumakefile|kconfig(?:\..*)?|.*\.mk|.*defconfig.*)$")

_SHEBANGS: tuple[tuple[str, FormatName], ...] = (
    ("python", "python"), ("node", "javascript"), ("deno", "typescript"), ("ts-node", "typescript"),
    ("tsx", "typescript"), ("bash", "shell"), ("zsh", "shell"), ("ksh", "shell"), ("dash", "shell"),
    ("sh", "shell"),
)


def _by_shebang(text: str) -> FormatName:
    if not text.startswith("#!"):
        return "text"
    first = text[2 : text.find("\n") if "\n" in text else len(text)]
    words = first.replace("/", " ").split()
    for word in words:
        for prefix, fmt in _SHEBANGS:
            if word == prefix or (word.startswith(prefix) and word[len(prefix):].replace(".", "").isdigit()):
                return fmt
    return "text"


Extractor = Callable[[str], FileFacts]


@cache
def _extractors() -> dict[FormatName, Extractor]:
    """Format modules are imported on first use: they import this module's types."""
    from align.formats import (
        clike,
        dockerfile,
        envfile,
        hcl,
        jsonfile,
        markdown,
        pythonfile,
        shell,
        textfile,
        tomlfile,
        typescript,
        yamlfile,
    )

    return {
        "yaml": yamlfile.extract_yaml,
        "python": pythonfile.extract_python,
        "typescript": typescript.extract_typescript,
        "javascript": typescript.extract_javascript,
        "hcl": hcl.extract_hcl,
        "dockerfile": dockerfile.extract_dockerfile,
        "markdown": markdown.extract_markdown,
        "env": envfile.extract_env,
        "shell": shell.extract_shell,
        "json": jsonfile.extract_json,
        "toml": tomlfile.extract_toml,
        "clike": clike.extract_clike,
        "text": textfile.extract_text,
    }
