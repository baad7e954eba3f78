"""`align check` / `align scan` as a user runs them: exit statuses, formats, errors without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.gitrepo import commit_tree, git, init_repo
from tests.helpers import GH200_MANIFEST


def _align(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}  # also when run under Actions
    return subprocess.run([sys.executable, "-m", "align.cli", *args], capture_output=True, text=True, cwd=cwd, env=env)


@pytest.fixture
def pr_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    init_repo(repo)
    commit_tree(repo, files={"align.yaml": GH200_MANIFEST})
    git(repo, "checkout", "-qb", "feature")
    commit_tree(repo, files={"stack.py": 'GPU = "H200"\n'})
    return repo


def test_check_fails_with_exit_1_and_json_shape(pr_repo: Path) -> None:
    done = _align("check", "--repo", str(pr_repo), "--format", "json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert list(report)[:6] == ["version", "conclusion", "base", "head", "deployments", "findings"]
    assert report["conclusion"] == "failure"
    assert report["deployments"] == [{"name": "production", "gpu": "GH200", "gpu_memory_gb": 96, "count": 3,
                                      "price_per_gpu_hour": 1.49, "arch": "arm64"}]
    [finding] = report["findings"]
    assert set(finding) == {"rule", "severity", "path", "line", "end_line", "message", "suggestion", "deployment",
                            "in_diff", "fingerprint", "bound_by", "column", "end_column"}
    assert finding["suggestion"] == 'GPU = "GH200"'
    assert (finding["column"], finding["end_column"]) == (8, 12)  # `H200` in `GPU = "H200"`
    assert finding["bound_by"] == "default scope: the repository root"


def test_check_clean_change_exits_0(pr_repo: Path) -> None:
    commit_tree(pr_repo, files={"stack.py": 'GPU = "GH200"\n'})
    done = _align("check", "--repo", str(pr_repo))
    assert done.returncode == 0, done.stdout + done.stderr


def test_text_output_and_output_file(pr_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    done = _align("check", "--repo", str(pr_repo), "--format", "markdown", "--output", str(out))
    assert done.returncode == 1 and done.stdout == ""
    assert "GH200" in out.read_text()
    text = _align("check", "--repo", str(pr_repo)).stdout
    assert "stack.py" in text and "gpu-model-mismatch" in text


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["check", "--base", "no-such-ref"], "unknown revision 'no-such-ref'"),
        (["check", "--head", "nope"], "unknown revision 'nope'"),
    ],
)
def test_usage_errors_exit_2_with_one_line(pr_repo: Path, args: list[str], reason: str) -> None:
    done = _align(*args, "--repo", str(pr_repo))
    assert done.returncode == 2
    assert done.stderr.strip() == f"align: {reason}"


def test_not_a_git_repository_exits_2(tmp_path: Path) -> None:
    done = _align("check", "--repo", str(tmp_path))
    assert done.returncode == 2
    assert "not a git repository" in done.stderr and "Traceback" not in done.stderr


def test_rules_and_catalog_listings() -> None:
    rules = _align("rules")
    assert rules.returncode == 0
    for rule_id in ("gpu-model-mismatch", "gpu-memory-overcommit", "stale-reference", "manifest-invalid"):
        assert rule_id in rules.stdout
    one = _align("rules", "gpu-memory-overcommit")
    assert "Example" in one.stdout or "example" in one.stdout
    catalog = _align("catalog")
    assert "GH200" in catalog.stdout and "arm64" in catalog.stdout


def test_example_repository_reproduces_the_reference_report(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    repo = tmp_path / "example"
    subprocess.run([sys.executable, str(root / "examples/lambda-gh200/build.py"), str(repo)], check=True)
    done = _align("check", "--repo", str(repo), "--format", "markdown")
    assert done.returncode == 1
    report = done.stdout
    for must in ("H200", "GH200", "141", "96", "$2.49", "$1.49", "0.68", "288", "LAMBDA_API_KEY", "GGH200"):
        assert must in report, must
