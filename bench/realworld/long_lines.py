"""How many real files hold more than a review reads (align.source.as_read), and what they are.

    python -m bench.realworld.long_lines --mirrors /work/.mirror [--limit 4096]
    python -m bench.realworld.long_lines --mirrors /work/.mirror --numbers [--limit 30000]
    python -m bench.realworld.long_lines --mirrors /work/.mirror --mentions [--limit 64]

For every repository of bench/realworld/repos at its pinned commit, of the text files under 1 MB:

- those with a line over `--limit` characters (path, longest line), and whether that line names a GPU of the
  catalog. The measure behind treating such lines as data (2026-12-04: 155 of 35,085 files, all data; 4 of
  those lines name a GPU, all in generated launch files under tests/);
- with `--numbers`: those holding more than `--limit` numbers (MAX_FILE_NUMBERS), whether they name a GPU, and
  the most numbers a file that names a GPU holds. The measure behind reading a file only up to its
  30,000th number;
- with `--mentions`: the lines (as a review reads them) naming more than `--limit` GPUs, and the most any line
  names. The measure behind reading no claim in a line that names more than 64 (MAX_MENTIONS_OF_A_CLAIM).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import yaml

from align.catalog import Catalog
from align.git_source import GitSource
from align.rules._text import MAX_MENTIONS_OF_A_CLAIM
from align.source import MAX_FILE_BYTES, MAX_FILE_NUMBERS, MAX_LINE_CHARS, NUMBER, as_read, without_long_lines
from bench.realworld.evaluate import Workspace

REPOS = Path(__file__).resolve().parent / "repos"


def _texts(source: GitSource, commit: str) -> dict[str, str]:
    """The commit's UTF-8 text files up to MAX_FILE_BYTES, as they are (before any line is emptied)."""
    texts = {}
    for path, data in source.read_many(commit, source.list_files(commit)).items():
        if len(data) > MAX_FILE_BYTES or b"\0" in data[:8192]:
            continue
        try:
            texts[path] = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
    return texts


def _all_texts(mirrors: Path, scratch: Path) -> dict[tuple[str, str], str]:
    texts = {}
    for manifest in sorted(REPOS.glob("*.yaml")):
        entry = yaml.safe_load(manifest.read_text())
        mirror = mirrors / entry["repo"].replace("/", "+") / "repo"
        workspace = Workspace(mirror, scratch / manifest.stem)
        for path, text in _texts(GitSource(workspace.path), entry["commit"]).items():
            texts[(entry["repo"], path)] = text
    return texts


def _long_lines(texts: dict[tuple[str, str], str], catalog: Catalog, limit: int) -> None:
    long_files = naming = 0
    for (repo, path), text in sorted(texts.items()):
        longest = max(text.split("\n"), key=len)
        if len(longest) <= limit:
            continue
        long_files += 1
        names = bool(catalog.find_mentions(longest))
        naming += names
        print(f"{repo}  {path}  {len(longest):,} characters{'  names a GPU' if names else ''}")
    print(f"{long_files} of {len(texts)} text files have a line over {limit:,} characters; "
          f"{naming} of those lines name a GPU")


def _numbers(texts: dict[tuple[str, str], str], catalog: Catalog, limit: int) -> None:
    """Numbers are counted in the text as read so far (long lines emptied), as `as_read` does."""
    dense = naming = 0
    densest_naming: list[tuple[int, str, str, list[str]]] = []
    for (repo, path), text in sorted(texts.items()):
        text = without_long_lines(text)[0]
        numbers = len(NUMBER.findall(text))
        names = sorted({m.text for m in catalog.find_mentions(text)}) if numbers > 1_000 else []
        if names:
            densest_naming.append((numbers, repo, path, names))
        if numbers > limit:
            dense += 1
            naming += bool(names)
            print(f"{repo}  {path}  {numbers:,} numbers{'  names a GPU' if names else ''}")
    print(f"{dense} of {len(texts)} text files hold more than {limit:,} numbers; {naming} of those name a GPU")
    print("The files that name a GPU (or a GPU-like token) and hold the most numbers:")
    for numbers, repo, path, names in sorted(densest_naming, reverse=True)[:12]:
        print(f"  {numbers:,}  {repo}  {path}  ({', '.join(names[:6])}{', ...' if len(names) > 6 else ''})")


def _mentions(texts: dict[tuple[str, str], str], catalog: Catalog, limit: int) -> None:
    most: tuple[int, str, str, int] = (0, "", "", 0)
    over = 0
    for (repo, path), text in sorted(texts.items()):
        read = as_read(text).text
        if not catalog.find_mentions(read):
            continue
        for number, line in enumerate(read.split("\n"), 1):
            count = len(catalog.find_mentions(line))
            most = max(most, (count, repo, path, number))
            if count > limit:
                over += 1
                print(f"{repo}  {path}:{number}  {count} GPU names")
    print(f"{over} lines name more than {limit} GPUs; the most on one line: {most[0]} ({most[1]} {most[2]}:{most[3]})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirrors", type=Path, required=True)
    parser.add_argument("--numbers", action="store_true", help="count numbers per file instead of line lengths")
    parser.add_argument("--mentions", action="store_true", help="count GPU names per line instead of its length")
    parser.add_argument("--limit", type=int, help=f"default {MAX_LINE_CHARS} characters, {MAX_FILE_NUMBERS} numbers "
                        f"or {MAX_MENTIONS_OF_A_CLAIM} GPU names")
    args = parser.parse_args()
    catalog = Catalog.builtin()
    with tempfile.TemporaryDirectory() as scratch:
        texts = _all_texts(args.mirrors, Path(scratch))
    if args.numbers:
        _numbers(texts, catalog, args.limit or MAX_FILE_NUMBERS)
    elif args.mentions:
        _mentions(texts, catalog, args.limit or MAX_MENTIONS_OF_A_CLAIM)
    else:
        _long_lines(texts, catalog, args.limit or MAX_LINE_CHARS)


if __name__ == "__main__":
    main()
