"""Inline `align: ignore[rule-id] reason` comments: every comment syntax the formats know, the line or the
line above, honoured only when the base commit's align.yaml says `suppressions: allow`, listed in every
report; and baselines that leave out the findings a repository already had."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from align.findings import Finding, Severity
from align.suppressions import apply_suppressions, parse_line
from tests.gitrepo import commit_tree, git, init_repo
from tests.helpers import GH200_MANIFEST

ROOT = Path(__file__).resolve().parents[1]
ALLOW = GH200_MANIFEST + "suppressions: allow\n"


def _finding(path: str, line: int, rule: str = "gpu-model-mismatch") -> Finding:
    return Finding(rule=rule, severity=Severity.ERROR, path=path, line=line, end_line=line, message="m")


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("a.py", 'GPU = "H200"  # align: ignore[gpu-model-mismatch] benchmark box'),
        ("a.ts", 'const gpu = "H200"; // align: ignore[gpu-model-mismatch] benchmark box'),
        ("a.md", "Runs on H200 <!-- align: ignore[gpu-model-mismatch] benchmark box -->"),
        ("a.sql", "SELECT 'H200' -- align: ignore[gpu-model-mismatch] benchmark box"),
        ("a.c", 'char *gpu = "H200"; /* align: ignore[gpu-model-mismatch] benchmark box */'),
        ("a.tf", 'gpu = "H200" # align: ignore[arch-mismatch, gpu-model-mismatch] benchmark box'),
    ],
)
def test_every_comment_syntax_on_the_line(path: str, text: str) -> None:
    outcome = apply_suppressions([_finding(path, 1)], {path: text + "\n"}, allowed=True)
    [(_, suppression)] = outcome.suppressed
    assert suppression.reason == "benchmark box" and suppression.line == 1 and not outcome.kept


def test_line_above_only_when_the_comment_stands_alone() -> None:
    alone = "# align: ignore[gpu-model-mismatch] lab node\nGPU = 'H200'\n"
    assert apply_suppressions([_finding("a.py", 2)], {"a.py": alone}, allowed=True).suppressed
    trailing = "x = 1  # align: ignore[gpu-model-mismatch] lab node\nGPU = 'H200'\n"
    assert not apply_suppressions([_finding("a.py", 2)], {"a.py": trailing}, allowed=True).suppressed


def test_other_rule_missing_reason_and_not_allowed_suppress_nothing() -> None:
    text = 'GPU = "H200"  # align: ignore[cost-mismatch] not this rule\n'
    assert apply_suppressions([_finding("a.py", 1)], {"a.py": text}, allowed=True).kept
    bare = 'GPU = "H200"  # align: ignore[gpu-model-mismatch]\n'
    outcome = apply_suppressions([_finding("a.py", 1)], {"a.py": bare}, allowed=True)
    assert outcome.kept and "give no reason" in outcome.notes[0]
    refused = apply_suppressions([_finding("a.py", 1)], {"a.py": text.replace("cost", "gpu-model")}, allowed=False)
    assert refused.kept and "suppressions: allow" in refused.notes[0]
    assert parse_line("a.py", 1, "align: ignore[x] not in a comment") == (None, False)


def _align(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "align.cli", *args, "--repo", str(repo)], capture_output=True,
                          text=True, cwd=ROOT, env={"PATH": "/usr/bin:/bin", "HOME": str(repo)})


def _repo(tmp_path: Path, base_manifest: str, head_files: dict[str, str]) -> Path:
    repo = tmp_path / "repo"
    init_repo(repo)
    commit_tree(repo, files={"align.yaml": base_manifest})
    git(repo, "checkout", "-qb", "feature")
    commit_tree(repo, files=head_files)
    return repo


def test_allowed_by_the_base_manifest_suppresses_and_every_report_lists_it(tmp_path: Path) -> None:
    repo = _repo(tmp_path, ALLOW, {"stack.py": 'GPU = "H200"  # align: ignore[gpu-model-mismatch] bench box\n'})
    done = _align(repo, "check", "--format", "json", "--format", f"text={tmp_path / 'r.txt'}",
                  "--format", f"markdown={tmp_path / 'r.md'}", "--format", f"sarif={tmp_path / 'r.sarif'}",
                  "--format", f"github={tmp_path / 'r.gh'}", "--format", f"junit={tmp_path / 'r.xml'}")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["findings"] == [] and report["conclusion"] == "success"
    [suppressed] = report["suppressed"]
    assert suppressed["rule"] == "gpu-model-mismatch"
    assert suppressed["suppression"] == {"path": "stack.py", "line": 1, "rules": ["gpu-model-mismatch"],
                                         "reason": "bench box"}
    assert "1 suppressed" in (tmp_path / "r.txt").read_text() and "bench box" in (tmp_path / "r.txt").read_text()
    assert "Suppressed inline" in (tmp_path / "r.md").read_text()
    sarif = json.loads((tmp_path / "r.sarif").read_text())
    [result] = sarif["runs"][0]["results"]
    assert result["suppressions"] == [{"kind": "inSource", "status": "accepted", "justification": "bench box"}]
    assert "suppressed stack.py:1 gpu-model-mismatch" in (tmp_path / "r.gh").read_text()
    assert 'skipped message="suppressed inline: bench box"' in (tmp_path / "r.xml").read_text()


def test_a_change_cannot_allow_its_own_suppressions(tmp_path: Path) -> None:
    repo = _repo(tmp_path, GH200_MANIFEST, {
        "align.yaml": ALLOW, "stack.py": 'GPU = "H200"  # align: ignore[gpu-model-mismatch] trust me\n'})
    done = _align(repo, "check", "--format", "json")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert [f["rule"] for f in report["findings"] if f["rule"] != "manifest-changed"] == ["gpu-model-mismatch"]
    assert any("not honoured" in note for note in report["notes"])


def test_baseline_leaves_out_known_findings_and_reports_new_ones(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    init_repo(repo)
    commit_tree(repo, files={"align.yaml": GH200_MANIFEST, "old.py": 'GPU = "H200"\n'})
    written = _align(repo, "baseline")
    assert written.returncode == 0, written.stderr
    baseline = json.loads((repo / ".align-baseline.json").read_text())
    assert [e["path"] for e in baseline["findings"]] == ["old.py"]
    commit_tree(repo, files={}, message="baseline")
    scan = _align(repo, "scan", "--format", "json")
    assert scan.returncode == 0 and json.loads(scan.stdout)["baselined"] == 1
    git(repo, "checkout", "-qb", "feature")
    # The known line is re-indented under a new block, so it is in the diff again (fingerprints hold no line
    # numbers and ignore whitespace); a new finding appears beside it.
    commit_tree(repo, files={"old.py": 'if True:\n    GPU = "H200"\n', "new.py": 'NODE = "H100"\n'})
    check = _align(repo, "check", "--format", "json")
    report = json.loads(check.stdout)
    assert check.returncode == 1
    assert [f["path"] for f in report["findings"]] == ["new.py"] and report["baselined"] == 1
    everything = json.loads(_align(repo, "check", "--format", "json", "--no-baseline").stdout)
    assert sorted(f["path"] for f in everything["findings"]) == ["new.py", "old.py"]


def test_baseline_edited_by_the_change_does_not_count(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    init_repo(repo)
    commit_tree(repo, files={"align.yaml": GH200_MANIFEST})
    git(repo, "checkout", "-qb", "feature")
    commit_tree(repo, files={"new.py": 'NODE = "H100"\n'})
    assert _align(repo, "baseline").returncode == 0  # written from the head: the change's own finding
    commit_tree(repo, files={}, message="baseline my own finding")
    check = _align(repo, "check", "--format", "json")
    assert check.returncode == 1 and json.loads(check.stdout)["baselined"] == 0  # read from the base commit
    explicit = _align(repo, "check", "--format", "json", "--baseline", str(repo / ".align-baseline.json"))
    assert explicit.returncode == 0  # unless it is asked for by name
    bad = _align(repo, "check", "--baseline", str(repo / "align.yaml"))
    assert bad.returncode == 2 and bad.stderr.startswith("align: ") and len(bad.stderr.splitlines()) == 1
