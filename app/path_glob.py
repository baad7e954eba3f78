"""Path globs of `align.yaml` (`paths:`, `ignore:`), matched in linear time.

gitignore-like: `**` crosses directories, `*` and `?` do not; a pattern without a slash matches at any
depth; a pattern also matches everything below a directory it names.

Why not one regex per pattern: a pull request writes these patterns, and `*a*a*a*b` as a backtracking
regex takes exponential time on a long path. Here a path is matched folder by folder: `**` (any number of
folders) by the classic two-pointer wildcard walk over folders, each folder by a regex in which every
`*` but the last is an atomic lazy group (`(?>.*?chunk)`: the earliest place the chunk fits is always a
safe choice when the chunk has a fixed length), so no step is ever retried. Patterns the folder walk
cannot express (`**` inside a name, a `[...]` holding a `/`) and odd paths (empty folders) go to a
linear NFA instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from align.linear_match import Nfa, any_but, chars

# Tokens of a pattern: ("dirs/",) for `**/`, ("dirs",) for `**`, ("star",), ("one", regex) for `?` or a
# `[...]` class, ("lit", char).
_Token = tuple[str, str]
_ANY_FOLDERS = "**"  # unit: zero or more whole folders
_ONE_FOLDER = ""  # unit: exactly one folder, whatever its name


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    i = 0
    while i < len(text):
        if text.startswith("**/", i):
            out.append(("dirs/", ""))
            i += 3
        elif text.startswith("**", i):
            out.append(("dirs", ""))
            i += 2
        elif text[i] == "*":
            out.append(("star", ""))
            i += 1
        elif text[i] == "?":
            out.append(("one", "[^/]"))
            i += 1
        elif text[i] == "[" and "]" in text[i + 2 :]:
            close = text.index("]", i + 2)
            body = text[i + 1 : close]
            out.append(("one", "[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]"))
            i = close + 1
        else:
            out.append(("lit", text[i]))
            i += 1
    return out


@dataclass(frozen=True)
class PathGlob:
    units: tuple[str | re.Pattern[str], ...] | None  # folder by folder, or None: only the NFA can tell
    nfa: Nfa

    def matches(self, path: str) -> bool:
        if self.units is None or not path or "//" in path or path.endswith("/"):
            return self.nfa.fullmatch(path)
        return _match_folders(self.units, path.split("/"))


def _match_folders(units: tuple[str | re.Pattern[str], ...], folders: list[str]) -> bool:
    """Two-pointer wildcard match with `**` units as the wildcard: on a mismatch, the last `**` takes one
    more folder. Linear in folders x units."""
    unit = folder = 0
    star, star_folder = -1, 0
    while folder < len(folders):
        here = units[unit] if unit < len(units) else None
        if here == _ANY_FOLDERS:
            star, star_folder = unit, folder
            unit += 1
        elif here is not None and (here == _ONE_FOLDER or (
                here == folders[folder] if isinstance(here, str) else here.fullmatch(folders[folder]))):
            unit += 1
            folder += 1
        elif star >= 0:
            unit, star_folder = star + 1, star_folder + 1
            folder = star_folder
        else:
            return False
    return all(u == _ANY_FOLDERS for u in units[unit:])


def _folder_regex(tokens: list[_Token]) -> str | re.Pattern[str]:
    """One folder's pattern: the plain name, or a regex whose stars never backtrack (see the module)."""
    if all(kind == "lit" for kind, _ in tokens):
        return "".join(value for _, value in tokens)
    chunks: list[list[str]] = [[]]
    for kind, value in tokens:
        if kind == "star":
            if chunks[-1] or len(chunks) == 1:
                chunks.append([])
            continue  # `**`-free here: a run of `*` is one `*`
        chunks[-1].append(re.escape(value) if kind == "lit" else value)
    out = "".join(chunks[0])
    for index, chunk in enumerate(chunks[1:], 1):
        body = "".join(chunk)
        out += f".*{body}" if index == len(chunks) - 1 else f"(?>.*?{body})"
    return re.compile(out, re.DOTALL)


def _units(tokens: list[_Token], anchored: bool) -> tuple[str | re.Pattern[str], ...] | None:
    if not tokens:
        return None  # `/` or `./`: nothing but the separator
    units: list[str | re.Pattern[str]] = [] if anchored else [_ANY_FOLDERS]
    folder: list[_Token] = []
    for index, (kind, value) in enumerate(tokens):
        if kind == "lit" and value == "/":
            if not folder:
                return None  # an empty folder ("a//b")
            units.append(_folder_regex(folder))
            folder = []
        elif kind == "dirs/":
            if folder:
                return None  # `a**/b`: `**` inside a name
            units.append(_ANY_FOLDERS)
        elif kind == "dirs":
            if folder or index != len(tokens) - 1:
                return None  # `**.py`, `a**`: `**` inside a name
            units += [_ONE_FOLDER, _ANY_FOLDERS]  # a trailing `/**`: at least one more folder
        elif kind == "one" and re.fullmatch(value, "/", re.DOTALL):
            return None  # a class that matches `/` (`[!a]`) crosses folders
        else:
            folder.append((kind, value))
    if folder:
        units.append(_folder_regex(folder))
    units.append(_ANY_FOLDERS)  # everything below a directory the pattern names
    return tuple(units)


def _nfa(tokens: list[_Token], anchored: bool) -> Nfa:
    anything = any_but("")
    nfa = Nfa()

    def any_folders_then_slash() -> None:
        begin = nfa.last
        nfa.star(anything).one(chars("/")).skip_from(begin)

    if not anchored:
        any_folders_then_slash()
    for kind, value in tokens:
        if kind == "dirs/":
            any_folders_then_slash()
        elif kind == "dirs":
            nfa.star(anything)
        elif kind == "star":
            nfa.star(any_but("/"))
        elif kind == "one":
            single = re.compile(value, re.DOTALL)  # one character class: nothing to backtrack
            nfa.one(lambda c, single=single: single.fullmatch(c) is not None)  # type: ignore[misc]
        else:
            nfa.one(chars(value))
    begin = nfa.last
    nfa.one(chars("/")).star(anything).skip_from(begin)
    return nfa


@lru_cache(maxsize=1024)
def compile_glob(pattern: str) -> PathGlob:
    text = pattern.strip().removeprefix("./")
    anchored = "/" in text.rstrip("/")
    tokens = _tokens(text.strip("/"))
    return PathGlob(_units(tokens, anchored), _nfa(tokens, anchored))
