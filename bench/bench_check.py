"""Benchmark `align check` on a large generated pull request against the floor for reading the text.

    python bench/bench_check.py [--files 3000] [--lines 100] [--runs 3] [--baseline-tree DIR]

Prints wall time and peak memory of the whole `align check` process, and the ratio to
`git grep -E` of the catalog's names over the same files in the same run (machines here are noisy, so the
ratio is the figure to compare across runs). `--baseline-tree DIR`: also time the `align check` of another
source tree (a `git worktree add DIR <commit>` of an earlier version) on the same pull request, interleaved
with this one's runs, and print this version's time as a ratio to it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_large_pr import generate


class Run(NamedTuple):
    wall: float  # seconds
    cpu: float  # seconds of the process and its workers (steadier than wall time on a busy machine)
    peak_mb: int  # the process's own peak RSS (wait4)
    code: int
    stdout: bytes


def _timed(cmd: list[str], cwd: Path) -> Run:
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        out.seek(0)
        return Run(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024,
                   os.waitstatus_to_exitcode(status), out.read())


def _checked(cmd: list[str], cwd: Path, what: str) -> Run:
    """An `align check` run, which must have ended with 0 or 1 (findings), else the benchmark stops."""
    run = _timed(cmd, cwd)
    if run.code not in (0, 1):
        raise SystemExit(f"{what} exited {run.code}")
    return run


def _catalog_pattern() -> str:
    from align.catalog import Catalog

    names = {gpu.name for gpu in Catalog.builtin().gpus} | {a for g in Catalog.builtin().gpus for a in g.aliases}
    return "|".join(sorted((re.escape(n) for n in names), key=len, reverse=True))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--lines", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline-tree", type=Path, help="an earlier version's source tree to compare with")
    args = parser.parse_args()
    align = str(Path(sys.executable).with_name("align"))
    with tempfile.TemporaryDirectory() as tmp:
        repo = generate(Path(tmp) / "large-pr", args.files, args.lines)
        changed = int(subprocess.run(["git", "diff", "--shortstat", "main", "HEAD"], cwd=repo, capture_output=True,
                                     text=True, check=True).stdout.split(" insertions")[0].split(",")[-1])
        pattern = _catalog_pattern()
        grep_cmd = ["git", "grep", "-E", "-i", "-c", pattern, "HEAD", "--", "."]
        check_cmd = [align, "check", "--repo", str(repo), "--base", "main", "--format", "json"]
        baseline_cmd = None
        if args.baseline_tree is not None:
            # Trees from before the package was named `align` import as `app` from their own folder.
            if "from align" in (args.baseline_tree / "app" / "cli.py").read_text():
                parser.error("--baseline-tree: a tree that imports as `align` must be installed; give an earlier one")
            code = "import sys; from app.cli import main; sys.exit(main())"
            baseline_cmd = ["env", f"PYTHONPATH={args.baseline_tree.resolve()}", sys.executable, "-c", code,
                            *check_cmd[1:]]
        grep_runs: list[Run] = []
        check_runs: list[Run] = []
        baseline_runs: list[Run] = []
        for _ in range(args.runs):
            grep_runs.append(_timed(grep_cmd, repo))
            if baseline_cmd is not None:
                baseline_runs.append(_checked(baseline_cmd, repo, "the baseline's align check"))
            check_runs.append(_checked(check_cmd, repo, "align check"))
    findings = len(json.loads(check_runs[-1].stdout)["findings"])
    check_s, grep_s = statistics.median(r.wall for r in check_runs), statistics.median(r.wall for r in grep_runs)
    check_cpu = statistics.median(r.cpu for r in check_runs)
    print(f"pull request: {args.files} files, {changed} changed lines, {findings} findings")
    print(f"align check:  {check_s:.2f} s wall (median of {args.runs}), peak RSS "
          f"{max(r.peak_mb for r in check_runs)} MB, {check_cpu:.2f} s CPU with its workers")
    print(f"git grep -E:  {grep_s:.3f} s wall (catalog names, same files)")
    print(f"ratio:        {check_s / grep_s:.1f}x git grep")
    if baseline_runs:
        base_s = statistics.median(r.wall for r in baseline_runs)
        base_cpu = statistics.median(r.cpu for r in baseline_runs)
        baseline_findings = len(json.loads(baseline_runs[-1].stdout)["findings"])
        print(f"baseline:     {base_s:.2f} s wall (median of {args.runs}) for {args.baseline_tree}, "
              f"{baseline_findings} findings")
        print(f"baseline CPU: {base_cpu:.2f} s with its workers")
        print(f"vs baseline:  {check_s / base_s:.2f}x wall, {check_cpu / base_cpu:.2f}x CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
