"""Build real git repositories for tests, examples and benchmarks."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

_ENV = {
    "GIT_AUTHOR_NAME": "Align Test",
    "GIT_AUTHOR_EMAIL": "test@align.invalid",
    "GIT_COMMITTER_NAME": "Align Test",
    "GIT_COMMITTER_EMAIL": "test@align.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **_ENV, "HOME": str(repo)}
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def init_repo(repo: Path) -> None:
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")


def commit_tree(repo: Path, tree: Path | None = None, files: Mapping[str, str | bytes] | None = None,
                deleted: Iterable[str] = (), message: str = "change") -> str:
    """Copy `tree` and/or write `files` over the work tree, delete `deleted`, commit everything; return the SHA."""
    if tree is not None:
        shutil.copytree(tree, repo, dirs_exist_ok=True)
    for path, content in (files or {}).items():
        target = repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
    for path in deleted:
        (repo / path).unlink()
    # Re-hash everything: a copied file of the same size and modification time as the one it replaces
    # would otherwise look unchanged to git's stat check, and the change would be lost.
    git(repo, "rm", "-r", "-q", "--cached", "--ignore-unmatch", ".")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")
