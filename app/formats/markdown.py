"""Markdown (and reStructuredText / plain text docs): prose, tables, fenced code, HTML comments.

Prose lines lose light markup (headings, emphasis, links, backticks) but keep numbers and units. A table row
is a `table` span and each cell an Assignment ("table", <column header>, <first cell of the row>), so
"| Memory/GPU | 141GB |" is readable as data. Fenced code (and YAML front matter) is delegated to its own
format, with line numbers shifted into the document.
"""

from __future__ import annotations

import re

from align.formats import Assignment, FileFacts, FormatName, TextSpan
from align.formats.common import build_facts, number_or_str

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*([^\s`{]*)")
_RST_CODE = re.compile(r"\s*\.\. (?:code-block|code|sourcecode)::[ \t]*(\S*)")
_TABLE_SEPARATOR = re.compile(r"\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_MAX_MARKUP_LINE = 2_000  # longer lines (minified HTML, data) are kept as they are: the regexes are not linear
_MARKUP = re.compile(r"[#>*_\[`<~!+-]")
_LEAD = re.compile(r"\s*(?:#{1,6}\s+|>\s?|[-*+]\s+(?:\[[ xX]\]\s+)?|\d{1,3}[.)]\s+)+")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\[[^\]]*\])")
_STRONG = re.compile(r"(\*\*|__|~~)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS = re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?!\w)")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_TRAILING_HASHES = re.compile(r"\s+#+\s*$")
_LANGUAGES: dict[str, FormatName] = {
    "yaml": "yaml", "yml": "yaml", "python": "python", "py": "python", "python3": "python", "ts": "typescript",
    "typescript": "typescript", "tsx": "typescript", "js": "javascript", "javascript": "javascript",
    "jsx": "javascript", "mjs": "javascript", "hcl": "hcl", "terraform": "hcl", "tf": "hcl",
    "dockerfile": "dockerfile", "docker": "dockerfile", "containerfile": "dockerfile", "bash": "shell",
    "sh": "shell", "shell": "shell", "zsh": "shell", "env": "env", "dotenv": "env", "json": "json",
    "jsonc": "json", "toml": "toml",
}


def extract_markdown(text: str) -> FileFacts:
    reader = _Reader(text.splitlines())
    reader.run()
    return build_facts("markdown", reader.assignments, reader.spans)


def plain(line: str) -> str:
    """Light markup removal for prose: `## **H200** (141 GB)` → `H200 (141 GB)`."""
    if _MARKUP.search(line) is None or len(line) > _MAX_MARKUP_LINE:
        return line.strip()
    text = _LEAD.sub("", line, count=1) if line.lstrip()[:1] in "#>-*+0123456789" else line
    if "[" in text:
        text = _LINK.sub(r"\1", _IMAGE.sub(r"\1", text))
    if "*" in text or "_" in text or "~" in text:
        text = _EMPHASIS.sub(r"\1", _STRONG.sub(r"\2", text))
    if "<" in text:
        text = _TAG.sub("", text)
    if line.lstrip().startswith("#"):
        text = _TRAILING_HASHES.sub("", text)
    return text.replace("`", "").strip()


def _is_separator(line: str, header: str) -> bool:
    """GFM delimiter row (`|---|:--:|`) with as many cells as the header row."""
    if "-" not in line or "|" not in line or _TABLE_SEPARATOR.fullmatch(line) is None:
        return False
    return len(_CELL_SPLIT.split(line.strip().strip("|"))) == len(_CELL_SPLIT.split(header.strip().strip("|")))


def _cells(row: str) -> list[str]:
    body = row.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    return [plain(cell.replace("\\|", "|")) for cell in _CELL_SPLIT.split(body)]


def _is_underline(line: str, previous: str) -> bool:
    """A reStructuredText section title's underline (`Steps` over `~~~~~`), not a fence: tildes alone, right
    under a line of text at least as long."""
    stripped = line.strip()
    return (stripped[:1] == "~" and not stripped.strip("~") and bool(previous.strip())
            and len(stripped) >= len(previous.strip()) and _FENCE.match(previous) is None)


class _Reader:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.spans: list[TextSpan] = []
        self.assignments: list[Assignment] = []

    def run(self) -> None:
        lines = self.lines
        index = self._front_matter()
        count = len(lines)
        while index < count:
            line = lines[index]
            if not line or line.isspace():
                index += 1
                continue
            if "`" in line or "~" in line:
                fence = _FENCE.match(line)
                if fence is not None and not _is_underline(line, lines[index - 1] if index else ""):
                    index = self._fenced(index, fence.group(1), fence.group(2))
                    continue
            if ".." in line:
                rst = _RST_CODE.match(line)
                if rst is not None:
                    index = self._rst_code(index, rst.group(1))
                    continue
            if "|" in line and index + 1 < count and _is_separator(lines[index + 1], line):
                index = self._table(index)
                continue
            if "<!--" in line:
                index = self._html_comment(index)
                continue
            self._prose(index + 1, line)
            index += 1

    def _prose(self, number: int, line: str) -> None:
        text = plain(line)
        self.spans.append(TextSpan(number, text or line.strip(), "prose"))

    def _front_matter(self) -> int:
        lines = self.lines
        if not lines or lines[0].strip() != "---":
            return 0
        for end in range(1, min(len(lines), 500)):
            if lines[end].strip() in ("---", "..."):
                self._code_lines(0, end + 1)
                self._delegate("yaml", 1, lines[1:end])
                return end + 1
        return 0

    def _fenced(self, start: int, fence: str, info: str) -> int:
        lines = self.lines
        end = start + 1
        while end < len(lines):
            stripped = lines[end].strip()
            if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
                break
            end += 1
        self._code_lines(start, min(end + 1, len(lines)))
        language = info.lower().split(",")[0].removeprefix("{.").removeprefix(".")
        fmt = _LANGUAGES.get(language)
        if fmt is not None:
            self._delegate(fmt, start + 1, lines[start + 1 : end], jsx=language in ("tsx", "jsx"))
        return end + 1

    def _rst_code(self, start: int, language: str) -> int:
        lines = self.lines
        end = start + 1
        while end < len(lines) and (not lines[end].strip() or lines[end][:1] in " \t"):
            end += 1
        while end > start + 1 and not lines[end - 1].strip():
            end -= 1
        self._prose(start + 1, lines[start])
        self._code_lines(start + 1, end)
        fmt = _LANGUAGES.get(language.lower())
        if fmt is not None:
            body = lines[start + 1 : end]
            indent = min((len(line) - len(line.lstrip()) for line in body if line.strip()), default=0)
            self._delegate(fmt, start + 1, [line[indent:] for line in body])
        return end

    def _code_lines(self, start: int, end: int) -> None:
        for index in range(start, end):
            line = self.lines[index]
            if line and not line.isspace():
                self.spans.append(TextSpan(index + 1, line, "code"))

    def _delegate(self, fmt: FormatName, offset: int, body: list[str], *, jsx: bool = False) -> None:
        """Facts of an embedded snippet, moved to the snippet's lines (its own parse errors are ignored:
        documentation often shows fragments)."""
        from align.formats import extract_as

        facts = extract_as(fmt, "\n".join(body), jsx=jsx)
        for item in facts.assignments:
            self.assignments.append(Assignment(item.key_path, item.value, item.raw, item.line + offset,
                                               item.end_line + offset))
        for span in facts.spans:
            if span.kind != "code":
                self.spans.append(TextSpan(span.line + offset, span.text, span.kind))

    def _table(self, start: int) -> int:
        lines = self.lines
        headers = _cells(lines[start])
        self._prose(start + 1, lines[start])
        self.spans.append(TextSpan(start + 1, lines[start].strip(), "table"))
        self._prose(start + 2, lines[start + 1])
        index = start + 2
        while index < len(lines) and "|" in lines[index] and lines[index].strip():
            row = lines[index]
            number = index + 1
            self._prose(number, row)
            self.spans.append(TextSpan(number, row.strip(), "table"))
            cells = _cells(row)
            name = cells[0] if cells else ""
            for column, cell in enumerate(cells[1:], 1):
                if cell and column < len(headers):
                    path = ("table", headers[column], name)
                    self.assignments.append(Assignment(path, number_or_str(cell), cell, number, number))
            index += 1
        return index

    def _html_comment(self, start: int) -> int:
        lines = self.lines
        index = start
        text = lines[start][lines[start].find("<!--") + 4 :]
        while True:
            close = text.find("-->")
            body = text if close < 0 else text[:close]
            self._prose(index + 1, lines[index])
            if body.strip():
                self.spans.append(TextSpan(index + 1, body.strip(), "comment"))
            if close >= 0 or index + 1 >= len(lines):
                return index + 1
            index += 1
            text = lines[index]
