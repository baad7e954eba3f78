"""How long `align` takes to start, as a ratio to `python -c pass` measured in the same run (this machine
is noisy: the ratio is the figure to compare across runs).

    python bench/bench_cli_startup.py [--runs 21]

Scenarios, each a fresh process of the installed `align` script (as a user or a pre-commit hook runs it):
- `check` on an empty diff: HEAD is the default branch, so base and head are the same commit
  (text and JSON output) -> "nothing to review" without loading the engine;
- `check --staged` with nothing staged (what a pre-commit hook pays on a commit that touches no file);
- `check` of a one-line change (the engine, the manifest and the catalog load: the floor of a real review);
- `--version`.
Each scenario and the baseline alternate, `--runs` times; medians are reported.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.gitrepo import commit_tree, git, init_repo  # noqa: E402
from tests.helpers import GH200_MANIFEST  # noqa: E402


def _align_command() -> list[str]:
    script = Path(sys.executable).with_name("align")
    return [str(script)] if script.exists() else [sys.executable, "-m", "align.cli"]


def _time(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "NO_COLOR", "FORCE_COLOR"))}
    workdir = Path(tempfile.mkdtemp(prefix="align-startup-"))
    try:
        main_repo = workdir / "main"
        init_repo(main_repo)
        commit_tree(main_repo, files={"align.yaml": GH200_MANIFEST, "README.md": "Runs on 3 × GH200.\n"})
        change_repo = workdir / "change"
        shutil.copytree(main_repo, change_repo)
        git(change_repo, "checkout", "-qb", "feature")
        commit_tree(change_repo, files={"README.md": "Runs on 3 × GH200 (96 GB each).\n"})
        align = _align_command()
        scenarios = {
            "check, empty diff (text)": ([*align, "check"], main_repo),
            "check, empty diff (--format json)": ([*align, "check", "--format", "json"], main_repo),
            "check --staged, nothing staged": ([*align, "check", "--staged"], main_repo),
            "check, one-line change (--format json)": ([*align, "check", "--format", "json"], change_repo),
            "--version": ([*align, "--version"], main_repo),
        }
        baseline_cmd = [sys.executable, "-c", "pass"]
        for cmd, cwd in scenarios.values():  # warm the bytecode caches and the page cache
            _time(cmd, cwd, env)
        _time(baseline_cmd, main_repo, env)
        times: dict[str, list[float]] = {name: [] for name in scenarios}
        base: list[float] = []
        for _ in range(args.runs):
            for name, (cmd, cwd) in scenarios.items():
                base.append(_time(baseline_cmd, cwd, env))
                times[name].append(_time(cmd, cwd, env))
        floor = statistics.median(base)
        print(f"python -c pass: {floor * 1000:.1f} ms (median of {len(base)})")
        print(f"{'scenario':<42} {'median':>9} {'ratio':>7}")
        for name, values in times.items():
            median = statistics.median(values)
            print(f"{name:<42} {median * 1000:>7.1f}ms {median / floor:>6.1f}x")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
