"""How many real files have lines longer than a review reads (align.source.MAX_LINE_CHARS), and what they are.

    python -m bench.realworld.long_lines --mirrors /work/.mirror [--limit 4096]

For every repository of bench/realworld/repos at its pinned commit: the text files under 1 MB, those with a line
over `--limit` characters (path, longest line), and whether that line names a GPU of the catalog. The measure
behind treating such lines as data (2026-12-04: 155 of 35,085 files, all data; 4 of those lines name a GPU,
all in generated launch files under tests/).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import yaml

from align.catalog import Catalog
from align.git_source import GitSource
from align.source import MAX_FILE_BYTES, MAX_LINE_CHARS
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirrors", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=MAX_LINE_CHARS)
    args = parser.parse_args()
    catalog = Catalog.builtin()
    files = long_files = naming = 0
    with tempfile.TemporaryDirectory() as scratch:
        for manifest in sorted(REPOS.glob("*.yaml")):
            entry = yaml.safe_load(manifest.read_text())
            mirror = args.mirrors / entry["repo"].replace("/", "+") / "repo"
            workspace = Workspace(mirror, Path(scratch) / manifest.stem)
            texts = _texts(GitSource(workspace.path), entry["commit"])
            files += len(texts)
            for path, text in sorted(texts.items()):
                longest = max(text.split("\n"), key=len)
                if len(longest) <= args.limit:
                    continue
                long_files += 1
                names = bool(catalog.find_mentions(longest))
                naming += names
                print(f"{entry['repo']}  {path}  {len(longest):,} characters{'  names a GPU' if names else ''}")
    print(f"{long_files} of {files} text files have a line over {args.limit:,} characters; "
          f"{naming} of those lines name a GPU")


if __name__ == "__main__":
    main()
