"""How many real files have lines longer than a review reads (align.source.MAX_LINE_CHARS), and what they are.

    python -m bench.realworld.long_lines --mirrors /work/.mirror [--limit 4096]

For every repository of bench/realworld/repos at its pinned commit: the text files under 1 MB, those with a line
over `--limit` characters (path, longest line), and whether that line names a GPU of the catalog. The measure
behind treating such lines as data (2026-12-04: 155 of 35,390 files, all data; 4 of those lines name a GPU,
all in generated launch files under tests/).
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

import yaml

from align.catalog import Catalog
from align.source import MAX_FILE_BYTES, MAX_LINE_CHARS

REPOS = Path(__file__).resolve().parent / "repos"


def _blobs(git_dir: Path, commit: str) -> list[tuple[str, str]]:
    """(sha, path) of the commit's blobs under MAX_FILE_BYTES (sizes from `ls-tree -l`; absent ones skipped)."""
    listing = subprocess.run(["git", "--git-dir", str(git_dir), "ls-tree", "-r", "-l", commit],
                             capture_output=True, text=True, check=True).stdout
    found = []
    for line in listing.splitlines():
        meta, path = line.split("\t", 1)
        _mode, kind, sha, size = meta.split()
        if kind == "blob" and size.isdigit() and int(size) < MAX_FILE_BYTES:
            found.append((sha, path))
    return found


def _texts(git_dir: Path, blobs: list[tuple[str, str]]) -> dict[str, str]:
    done = subprocess.run(["git", "--git-dir", str(git_dir), "cat-file", "--batch"], check=True,
                          input=b"".join(sha.encode() + b"\n" for sha, _ in blobs), capture_output=True)
    out, position, texts = done.stdout, 0, {}
    for _sha, path in blobs:
        end = out.index(b"\n", position)
        header = out[position:end].split()
        if header[-1] == b"missing":
            position = end + 1
            continue
        size = int(header[2])
        data = out[end + 1 : end + 1 + size]
        position = end + 1 + size + 1
        if b"\0" in data[:8192]:
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
    for manifest in sorted(REPOS.glob("*.yaml")):
        entry = yaml.safe_load(manifest.read_text())
        git_dir = args.mirrors / entry["repo"].replace("/", "+") / "repo"
        texts = _texts(git_dir, _blobs(git_dir, entry["commit"]))
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
