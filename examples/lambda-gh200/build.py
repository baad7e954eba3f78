"""Build this example into a git repository: `python examples/lambda-gh200/build.py DIR`.

Commits `base/` on `main`, then `head/` on the branch `enhanced-infrastructure` (the pull request).
Then: `align check --repo DIR` (base: the merge-base with main)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=Align Example", "-c", "user.email=example@align.invalid", *args],
                   cwd=repo, check=True, capture_output=True)


def build(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    _git(target, "init", "-q", "-b", "main")
    shutil.copytree(HERE / "base", target, dirs_exist_ok=True)
    _git(target, "add", "-A")
    _git(target, "commit", "-q", "-m", "Production on 3 x GH200")
    _git(target, "checkout", "-q", "-b", "enhanced-infrastructure")
    shutil.copytree(HERE / "head", target, dirs_exist_ok=True)
    _git(target, "add", "-A")
    _git(target, "commit", "-q", "-m", "Infrastructure enhancement for H200 nodes")
    return target


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: build.py DIR")
    print(build(Path(sys.argv[1])))
