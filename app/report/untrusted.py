"""Untrusted text (anything a repository or a comment controls) made safe for Markdown that GitHub renders.

File names, `align.yaml` values, the code a finding quotes, command text and waiver reasons all reach
reports, check runs, review comments and replies. Every reporter puts them through these functions, which
guarantee, whatever the input:

- one line: newlines and other whitespace collapse to one space, so a value cannot start a heading, a
  list, a table row or a new paragraph, nor end a table cell or a list item;
- no raw HTML: outside code spans `&`, `<` and `>` become entities; inside them `<!--` is broken by a
  zero-width joiner. So `<!--` never appears in the output, and nothing rendered can open an HTML
  comment (hiding the rest of a report) or pass for one of Align's hidden markers; `<img>` and
  `</details>` are shown, never interpreted;
- no Markdown structure: `` \\ ` * [ ] ~ | `` (and `_` where it could emphasise) are backslash-escaped,
  as is a leading block marker; links and images cannot be formed;
- no notifications: outside code a zero-width joiner follows `@` and `#` before a name or a number, so
  nobody is mentioned and no issue is cross-referenced by text from a pull request;
- code spans cannot be closed early: their backtick fence is longer than any backtick run inside;
- no bidirectional overrides or control characters (they make text read differently than it is).
"""

from __future__ import annotations

import re

ZWJ = "\u200d"
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_BACKTICKS = re.compile("`+")
_ESCAPED = re.compile(r"[\\`*\[\]~|]")
_UNDERSCORES = re.compile("_+")
_REFERENCE = re.compile(r"@(?=\w)|#(?=\d)")
_LEADING = re.compile(r"^(?:[#+=-]|\d+(?=[.)]))")
_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?")


def _one_line(value: str, limit: int | None) -> str:
    line = " ".join(_CONTROLS.sub("", value).split())
    if limit is not None and len(line) > limit:
        line = line[: max(limit - 1, 0)].rstrip() + "…"
    return line


def _no_comment(value: str) -> str:
    return value.replace("<!--", f"<{ZWJ}!--")


def _underscores(match: re.Match[str]) -> str:
    """`_` between two letters or digits cannot emphasise (CommonMark's flanking rules): kept as written,
    so `gpu_1x_gh200` stays readable in the raw text."""
    line, start, end = match.string, match.start(), match.end()
    inside = start > 0 and end < len(line) and line[start - 1].isalnum() and line[end].isalnum()
    return match.group() if inside else "\\_" * len(match.group())


def _escape(line: str, at_start: bool) -> str:
    line = line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    line = _ESCAPED.sub(lambda m: "\\" + m.group(), line)
    line = _UNDERSCORES.sub(_underscores, line)
    line = _REFERENCE.sub(lambda m: m.group() + ZWJ, line)
    if at_start:
        line = _LEADING.sub(lambda m: m.group() + "\\" if m.group()[0].isdigit() else "\\" + m.group(), line)
    return line


def _span(content: str, table: bool) -> str:
    content = _no_comment(content)
    if table:
        content = content.replace("|", "\\|")  # GitHub splits table cells on `|` even inside code spans
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(content)), default=0) + 1)
    pad = " " if content.startswith("`") or content.endswith("`") else ""
    return f"{fence}{pad}{content}{pad}{fence}"


def text(value: str, limit: int | None = None, *, mid_line: bool = False) -> str:
    """`value` as inline Markdown text that shows exactly what it says (on one line, at most `limit`
    characters before escaping). Safe in a paragraph, a list item, a heading and a table cell.
    `mid_line`: something of the caller's precedes it on the line, so a leading `#`, `-` or `1.` cannot
    start a block and is left as written."""
    return _escape(_one_line(value, limit), at_start=not mid_line)


def code(value: str, limit: int | None = None, *, table: bool = False, empty: str = "(empty)") -> str:
    """`value` as one inline code span, whatever backticks it holds; `empty` when there is nothing to show.
    `table`: the span sits in a table cell (its `|` are escaped, as GitHub requires there)."""
    line = _one_line(value, limit)
    return _span(line, table) if line else empty


def message(value: str, limit: int | None = None, *, table: bool = False) -> str:
    """A finding message, note or reason as a rule wrote it: the code spans it opens and closes
    (`` `H200` is not the deployment's GPU ``) stay code spans, re-fenced so the quoted code cannot close
    them; everything else is `text`. A backtick run without its closing twin is shown as a backtick."""
    line = _one_line(value, limit)
    runs = list(_BACKTICKS.finditer(line))
    closer: dict[int, int] = {}  # run index -> index of the next run of the same length
    following: dict[int, int] = {}
    for index in range(len(runs) - 1, -1, -1):
        length = len(runs[index].group())
        if length in following:
            closer[index] = following[length]
        following[length] = index
    parts: list[str] = []
    done, index = 0, 0
    while index < len(runs):
        end = closer.get(index)
        content = line[runs[index].end() : runs[end].start()].strip() if end is not None else ""
        if end is None or not content:
            index += 1
            continue
        parts.append(_escape(line[done : runs[index].start()], at_start=not parts and done == 0))
        parts.append(_span(content, table))
        done, index = runs[end].end(), end + 1
    parts.append(_escape(line[done:], at_start=not parts and done == 0))
    return "".join(parts)


def mention(login: str) -> str:
    """`@login` for a GitHub login (the person who ran a command or waived a finding: meant to be
    notified); anything that is not a login's syntax (a team, a bot, a forged name) as `text`."""
    return f"@{login}" if _LOGIN.fullmatch(login) else text(f"@{login}")


def block(value: str, info: str = "text") -> str:
    """`value` as a fenced code block: lines kept, the fence longer than any backtick run inside, no
    `<!--`. For display only: a suggestion, whose text must apply unchanged, uses `fence_for`."""
    body = _no_comment(_CONTROLS.sub("", value.replace("\r\n", "\n").replace("\r", "\n")))
    fence = fence_for(body)
    return f"{fence}{info}\n{body}\n{fence}"


def fence_for(value: str) -> str:
    """A backtick fence longer than any backtick run in `value`, so a block of it cannot be closed early."""
    return "`" * max(3, max((len(run) for run in _BACKTICKS.findall(value)), default=0) + 1)


def plain(value: str, limit: int | None = None) -> str:
    """Text GitHub shows as it is (check run titles, annotation messages): lines kept, control characters
    and bidirectional overrides removed, `<!--` broken, at most `limit` characters."""
    cleaned = _no_comment(_CONTROLS.sub("", value.replace("\r\n", "\n")))
    if limit is not None and len(cleaned) > limit:
        cleaned = cleaned[: max(limit - 1, 0)] + "…"
    return cleaned


def no_comments(markdown: str) -> str:
    """A last guard over a whole rendered report: whatever a reporter forgot to escape, no `<!--` (so no
    hidden marker) survives in it."""
    return _no_comment(markdown)
