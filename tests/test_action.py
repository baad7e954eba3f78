"""The GitHub Action under a simulated Actions environment: an event file, the GITHUB_* and INPUT_*
variables, and a shallow checkout made the way actions/checkout makes one (`git fetch --depth=1` of the
pull request's merge ref) from a local "remote" repository. The entry point runs as the action runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from align.report.sarif import SCHEMA_PATH
from tests.gitrepo import commit_tree, git, init_repo
from tests.helpers import GH200_MANIFEST

ROOT = Path(__file__).resolve().parents[1]


class Remote:
    def __init__(self, path: Path) -> None:
        self.path = path
        init_repo(path)
        git(path, "config", "uploadpack.allowAnySHA1InWant", "true")  # github.com serves commits by SHA
        self.base = commit_tree(path, files={"align.yaml": GH200_MANIFEST, "README.md": "Runs on GH200.\n"})
        git(path, "checkout", "-qb", "feature")
        self.head = commit_tree(path, files={"stack.py": 'GPU = "H200"\n'}, message="wrong GPU")
        git(path, "checkout", "-q", "main")
        # The base branch moved on after the pull request was opened; GitHub's merge ref merges both.
        self.base = commit_tree(path, files={"docs/ops.md": "Operations.\n"}, message="docs")
        git(path, "checkout", "-q", "--detach", "main")
        git(path, "merge", "-q", "--no-ff", "-m", "Merge feature into main", "feature")
        self.merge = git(path, "rev-parse", "HEAD")
        git(path, "update-ref", "refs/pull/1/merge", self.merge)
        git(path, "checkout", "-q", "main")

    @property
    def url(self) -> str:
        return f"file://{self.path}"


def checkout_pull_request(remote: Remote, workspace: Path) -> None:
    """What actions/checkout does for a pull_request event with the default fetch-depth: 1."""
    init_repo(workspace)
    git(workspace, "remote", "add", "origin", remote.url)
    git(workspace, "fetch", "-q", "--no-tags", "--depth=1", "origin", "+refs/pull/1/merge:refs/remotes/pull/1/merge")
    git(workspace, "checkout", "-q", "--detach", "refs/remotes/pull/1/merge")


def actions_env(tmp_path: Path, workspace: Path, event: dict[str, object], event_name: str = "pull_request",
                **inputs: str) -> dict[str, str]:
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(event))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))}
    env.update({
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        "GITHUB_EVENT_NAME": event_name,
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(tmp_path),
    })
    if event_name == "pull_request":
        env["GITHUB_BASE_REF"] = "main"
    env.update({f"INPUT_{key.upper()}": value for key, value in inputs.items()})
    return env


def pull_request_event(remote: Remote) -> dict[str, object]:
    return {"number": 1, "pull_request": {"number": 1, "base": {"sha": remote.base, "ref": "main"},
                                          "head": {"sha": remote.head, "ref": "feature"}},
            "repository": {"default_branch": "main"}}


def run_action(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "align.action"], env={**env, "PYTHONPATH": str(ROOT)}, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def outputs(tmp_path: Path) -> dict[str, str]:
    lines = (tmp_path / "output").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines)


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    return Remote(tmp_path / "remote")


def test_shallow_pull_request_checkout_fetches_the_base_and_annotates(remote: Remote, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    checkout_pull_request(remote, workspace)
    assert git(workspace, "rev-parse", "--is-shallow-repository") == "true"
    env = actions_env(tmp_path, workspace, pull_request_event(remote), sarif="align.sarif")
    done = run_action(env, workspace)
    assert done.returncode == 1, done.stderr
    # One workflow command, on the line and columns of the wrong GPU; the base branch's own change is not in it.
    [command] = [line for line in done.stdout.splitlines() if line.startswith("::")]
    assert command.startswith("::error file=stack.py,line=1,endLine=1,col=8,endColumn=12,title=Align%3A "
                              "gpu-model-mismatch::")
    assert "docs/ops.md" not in done.stdout
    assert outputs(tmp_path) == {"conclusion": "failure", "findings": "1", "sarif": "align.sarif"}
    sarif = json.loads((workspace / "align.sarif").read_text())
    jsonschema.validate(sarif, json.loads(SCHEMA_PATH.read_text()))
    assert sarif["runs"][0]["properties"]["base"] == remote.base
    assert "gpu-model-mismatch" in (tmp_path / "summary.md").read_text()


def test_fail_on_input_overrides_the_manifest(remote: Remote, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    checkout_pull_request(remote, workspace)
    done = run_action(actions_env(tmp_path, workspace, pull_request_event(remote), fail_on="never"), workspace)
    assert done.returncode == 0, done.stderr
    assert outputs(tmp_path)["conclusion"] == "failure"  # the report still says so; the step does not fail


def test_unreachable_remote_exits_2_naming_fetch_depth(remote: Remote, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    checkout_pull_request(remote, workspace)
    git(workspace, "remote", "set-url", "origin", f"file://{tmp_path}/gone")
    done = run_action(actions_env(tmp_path, workspace, pull_request_event(remote)), workspace)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("align: the base commit") and "set `fetch-depth: 0` on actions/checkout" in line


def test_depth_1_clone_of_the_head_deepens_to_the_merge_base(remote: Remote, tmp_path: Path) -> None:
    """`actions/checkout` with `ref: head.sha`, or `git clone --depth 1`: the merge-base needs history."""
    workspace = tmp_path / "ws"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", "feature", remote.url, str(workspace)],
                   check=True, env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1"})
    env = actions_env(tmp_path, workspace, pull_request_event(remote))
    done = run_action(env, workspace)
    assert done.returncode == 1, done.stderr
    assert "::error file=stack.py,line=1" in done.stdout and "docs/ops.md" not in done.stdout


def test_same_commit_says_nothing_to_review(remote: Remote, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    subprocess.run(["git", "clone", "-q", "--depth", "1", remote.url, str(workspace)], check=True,
                   env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1"})
    event = {"before": remote.base, "after": remote.base, "repository": {"default_branch": "main"}}
    done = run_action(actions_env(tmp_path, workspace, event, event_name="push"), workspace)
    assert done.returncode == 0, done.stderr
    assert "::notice title=Align::Align skipped: base and head are the same commit" in done.stdout
    assert outputs(tmp_path)["conclusion"] == "skipped"


def test_single_branch_clone_origin_head_is_not_the_default_branch(remote: Remote, tmp_path: Path) -> None:
    """Outside Actions: a single-branch clone whose origin/HEAD points at the cloned branch itself must not
    make `align check` compare the branch with itself and report a clean review."""
    workspace = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--single-branch", "--branch", "feature", remote.url, str(workspace)],
                   check=True, env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1"})
    git(workspace, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/feature")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    done = subprocess.run([sys.executable, "-m", "align.cli", "check", "--repo", str(workspace)], env=env,
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2
    assert "single-branch clone" in done.stderr and "--base" in done.stderr


def test_action_yml_runs_the_entry_point_with_every_input() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    install, review = action["runs"]["steps"]
    assert "pip install" in install["run"] and "github.action_path" in str(install["env"])
    assert review["run"].endswith("-m align.action'") or review["run"].endswith("-m align.action")
    passed = {key.removeprefix("INPUT_").lower() for key in review["env"]}
    assert passed == {name.replace("-", "_") for name in action["inputs"]} - {"python"}
    assert set(action["outputs"]) == {"conclusion", "findings", "sarif"}


def test_push_whose_before_is_gone_reviews_against_the_default_branch(remote: Remote, tmp_path: Path) -> None:
    """A force-push: `before` no longer exists anywhere, so the branch is compared with the default branch."""
    workspace = tmp_path / "ws"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", "feature", remote.url, str(workspace)],
                   check=True, env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1"})
    event = {"before": "1" * 40, "after": remote.head, "repository": {"default_branch": "main"}}
    done = run_action(actions_env(tmp_path, workspace, event, event_name="push"), workspace)
    assert done.returncode == 1, done.stderr
    assert "::error file=stack.py,line=1" in done.stdout and "docs/ops.md" not in done.stdout


def test_event_parsing(tmp_path: Path) -> None:
    from align.actions import ZERO_SHA, ActionsEvent, read_event

    def event(name: str, payload: object, **env: str) -> ActionsEvent:
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(payload) if not isinstance(payload, str) else payload)
        found = read_event({"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": name, "GITHUB_EVENT_PATH": str(path), **env})
        assert found is not None
        return found

    assert read_event({"GITHUB_EVENT_NAME": "push"}) is None  # not under Actions
    pull = event("pull_request", {"pull_request": {"number": 7, "base": {"sha": "a" * 40, "ref": "main"},
                                                   "head": {"sha": "b" * 40}}})
    assert (pull.base_sha, pull.head_sha, pull.base_ref, pull.number) == ("a" * 40, "b" * 40, "main", 7)
    new_branch = event("push", {"before": ZERO_SHA, "after": "c" * 40, "repository": {"default_branch": "trunk"}})
    assert new_branch.base_sha is None and new_branch.default_branch == "trunk"
    queue = event("merge_group", {"merge_group": {"base_sha": "d" * 40, "head_sha": "e" * 40}})
    assert queue.base_sha == "d" * 40 and not queue.is_pull_request
    broken = event("workflow_dispatch", "{not json", GITHUB_BASE_REF="release")
    assert broken.base_ref == "release" and broken.base_sha is None
