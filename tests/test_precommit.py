"""`align check --staged` / `--worktree`, and the hooks in .pre-commit-hooks.yaml run by pre-commit itself
on a temporary repository (`git commit` through the installed hook). The hooks are used as the file
defines them, with `language: system` so that no network is needed: `align` comes from this environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.gitrepo import commit_tree, git, init_repo
from tests.helpers import GH200_MANIFEST

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _align(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "align.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "GITHUB_ACTIONS": ""})


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    init_repo(path)
    commit_tree(path, files={"align.yaml": GH200_MANIFEST, "stack.py": 'GPU = "GH200"\n'})
    return path


def _findings(done: subprocess.CompletedProcess[str]) -> list[tuple[str, int, str]]:
    report = json.loads(done.stdout)
    return [(f["path"], f["line"], f["rule"]) for f in report["findings"]]


def test_check_staged_sees_the_index_not_the_working_tree(repo: Path) -> None:
    (repo / "stack.py").write_text('GPU = "H200"\n')
    git(repo, "add", "stack.py")
    (repo / "stack.py").write_text('GPU = "GH200"\n')  # fixed in the working tree, not staged
    staged = _align("check", "--staged", "--format", "json", cwd=repo)
    assert staged.returncode == 1, staged.stderr
    assert _findings(staged) == [("stack.py", 1, "gpu-model-mismatch")]
    assert json.loads(staged.stdout)["head"] == "(index)"
    worktree = _align("check", "--worktree", "--format", "json", cwd=repo)
    assert worktree.returncode == 0 and _findings(worktree) == []


def test_check_worktree_includes_untracked_files_and_plain_check_does_not(repo: Path) -> None:
    (repo / "deploy.py").write_text('NODES = "H200"\n')
    assert _align("check", "--worktree", "--format", "json", cwd=repo).returncode == 1
    plain = _align("check", "--format", "json", cwd=repo)
    assert plain.returncode == 0 and json.loads(plain.stdout)["conclusion"] == "skipped"  # HEAD vs main


def test_nothing_staged_says_so(repo: Path) -> None:
    done = _align("check", "--staged", cwd=repo)
    assert done.returncode == 0
    assert "nothing is staged: nothing to review" in done.stdout


def test_staged_first_commit_reviews_against_the_empty_tree(tmp_path: Path) -> None:
    path = tmp_path / "new"
    init_repo(path)
    (path / "align.yaml").write_text(GH200_MANIFEST)
    (path / "stack.py").write_text('GPU = "H200"\n')
    git(path, "add", "-A")
    done = _align("check", "--staged", "--format", "json", cwd=path)
    assert done.returncode == 1, done.stderr
    assert ("stack.py", 1, "gpu-model-mismatch") in _findings(done)


def _hooks() -> list[dict[str, object]]:
    hooks: list[dict[str, object]] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    return hooks


def test_hook_definitions_run_align_on_the_staged_change() -> None:
    by_id = {hook["id"]: hook for hook in _hooks()}
    assert by_id["align"]["entry"] == "align check --staged"
    assert by_id["align"]["pass_filenames"] is False and by_id["align"]["language"] == "python"
    assert str(by_id["align-validate"]["entry"]).startswith("align validate")


def test_pre_commit_blocks_a_commit_that_stages_the_wrong_gpu(repo: Path, tmp_path: Path) -> None:
    hooks = [{**hook, "language": "system"} for hook in _hooks()]  # no network: `align` from this environment
    config = {"repos": [{"repo": "local", "hooks": hooks}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "PRE_COMMIT_HOME": str(tmp_path / "pc"),
           "PYTHONPATH": str(ROOT), "GITHUB_ACTIONS": "", "HOME": str(tmp_path),
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t.invalid", "GIT_CONFIG_NOSYSTEM": "1"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(args), cwd=repo, env=env, capture_output=True, text=True, timeout=120)

    installed = run(sys.executable, "-m", "pre_commit", "install")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    run("git", "add", ".pre-commit-config.yaml")
    assert run("git", "commit", "-qm", "pre-commit config").returncode == 0

    (repo / "stack.py").write_text('GPU = "H200"\n')
    run("git", "add", "stack.py")
    blocked = run("git", "commit", "-m", "wrong GPU")
    assert blocked.returncode != 0
    said = blocked.stdout + blocked.stderr  # git runs the hook with its output on standard error
    assert "gpu-model-mismatch" in said and "stack.py:1" in said and "Failed" in said

    # Staged content fixed, the unstaged working tree still wrong: pre-commit checks what is committed.
    (repo / "stack.py").write_text('GPU = "GH200"  # production\n')
    run("git", "add", "stack.py")
    (repo / "stack.py").write_text('GPU = "H200"\n')
    passed = run("git", "commit", "-m", "right GPU")
    assert passed.returncode == 0, passed.stdout + passed.stderr

    (repo / "align.yaml").write_text(GH200_MANIFEST.replace("count:", "cout:"))
    run("git", "add", "align.yaml")
    invalid = run("git", "commit", "-m", "typo")
    assert invalid.returncode != 0
    assert "did you mean 'count'?" in invalid.stdout + invalid.stderr
