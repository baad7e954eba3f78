"""Peak memory of `align scan` when a repository holds files above the size cap (issue 8, item 10).

    python bench/bench_scan_memory.py [--small 2000] [--big 25] [--big-mb 8]

Two repositories are built in a temporary directory: `--small` small Python files, and the same plus `--big`
data files of `--big-mb` MB each (over the 1 MB cap: skipped as too large). Each is scanned in a fresh
process (`scan_commit` over a GitSource, the CLI's path) and its peak RSS read from getrusage. The figure is
the ratio of the two peaks: files that are skipped must not be read whole, so it should stay near 1.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.gitrepo import commit_tree, init_repo  # noqa: E402
from tests.helpers import GH200_MANIFEST  # noqa: E402

SCAN = """
import resource, sys
from align.git_source import GitSource
from align.review import scan_commit
result = scan_commit(GitSource(sys.argv[1]), "HEAD")
print(result.files_reviewed, len(result.skipped), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def scan_peak(repo: Path) -> tuple[int, int, int]:
    out = subprocess.run([sys.executable, "-c", SCAN, str(repo)], cwd=ROOT, capture_output=True, text=True,
                         check=True, timeout=600).stdout.split()
    reviewed, skipped, peak = (int(x) for x in out)
    return reviewed, skipped, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--big", type=int, default=25)
    parser.add_argument("--big-mb", type=int, default=8)
    args = parser.parse_args()
    small = {f"src/mod{i}.py": f'GPU = "GH200"\nCOUNT = {i}\n' for i in range(args.small)}
    row = "value,1.49,GH200,128,some words for a data file\n"
    big = {f"data/big{i}.csv": row * (args.big_mb * 1_000_000 // len(row)) + f"{i}\n" for i in range(args.big)}
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for name, files in (("small files only", small), (f"plus {args.big} x {args.big_mb} MB", {**small, **big})):
            repo = Path(tmp) / name.replace(" ", "_")
            init_repo(repo)
            commit_tree(repo, files={"align.yaml": GH200_MANIFEST, **files})
            rows.append((name, *scan_peak(repo)))
    print("| repository | files reviewed | skipped | peak RSS |")
    print("|---|---:|---:|---:|")
    for name, reviewed, skipped, peak in rows:
        print(f"| {name} | {reviewed:,} | {skipped} | {peak} MB |")
    print(f"ratio of the peaks: {rows[1][3] / rows[0][3]:.2f}x")


if __name__ == "__main__":
    main()
