"""The repository profile is worked out while the rules read the changed files (spec §1b): the same
decisions as a profile read before them, from the changed files, the rest of the tree, or both, in one
process or in worker processes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from align.engine import run_rules
from align.git_source import GitSource
from align.review import review_change
from align.rule_api import builtin_rules
from align.scope.profile import PendingProfile
from tests.gitrepo import commit_tree, git, init_repo
from tests.helpers import GH200_MANIFEST, make_context

# Product code that handles many GPU models: the repository is not about one deployment.
MANY_MODELS = 'PRESETS = {"a100": 80, "h100": 80}\nLEGACY = ["V100", "T4"]\n'
OTHER_TARGET = 'GPU = "H100"\nREPLICAS = 2\n'  # a block that names only another GPU


def _review(
    tmp_path: Path, base: dict[str, str], head: dict[str, str], *, audit: bool = False
) -> list[tuple[str, str]]:
    repo = tmp_path / "repo"
    init_repo(repo)
    base_sha = commit_tree(repo, files={"align.yaml": GH200_MANIFEST, **base})
    git(repo, "checkout", "-qb", "pr")
    head_sha = commit_tree(repo, files=head)
    result = review_change(GitSource(repo), base_sha, head_sha, audit=audit)
    return [(f.path, f.bound_by or "") for f in result.findings if f.rule == "gpu-model-mismatch"]


def test_a_block_for_another_gpu_counts_in_a_repository_of_one_deployment(tmp_path: Path) -> None:
    assert [p for p, _ in _review(tmp_path, {"serve.py": "WORKERS = 2\n"}, {"deploy/h100.py": OTHER_TARGET})] \
        == ["deploy/h100.py"]


def test_models_named_by_the_rest_of_the_tree_make_it_another_target(tmp_path: Path) -> None:
    assert _review(tmp_path, {"presets.py": MANY_MODELS}, {"deploy/h100.py": OTHER_TARGET}) == []


def test_models_named_by_the_changed_files_themselves_count_too(tmp_path: Path) -> None:
    assert _review(tmp_path, {}, {"presets.py": MANY_MODELS, "deploy/h100.py": OTHER_TARGET}) == []


def test_documents_do_not_make_a_repository_multi_target(tmp_path: Path) -> None:
    found = _review(tmp_path, {"docs/gpus.md": "We tested A100, H100, V100 and T4.\n"},
                    {"deploy/h100.py": OTHER_TARGET})
    assert [p for p, _ in found] == ["deploy/h100.py"]


def test_an_audit_keeps_the_other_targets_finding_as_a_notice_that_says_why(tmp_path: Path) -> None:
    found = _review(tmp_path, {"presets.py": MANY_MODELS}, {"deploy/h100.py": OTHER_TARGET}, audit=True)
    reasons = [reason for path, reason in found if path == "deploy/h100.py"]
    assert reasons and reasons[0].startswith("unbound: another target: the repository names 4 or more other GPU")
    assert "this block names only H100" in reasons[0]


def _pending(rest: dict[str, str]) -> PendingProfile:
    ctx = make_context({})
    return PendingProfile(ctx.catalog, (ctx.deployments[0].gpu,), lambda _path, _text: True,
                          lambda: iter(rest.items()))


_IN_WORKERS = """
import json, sys
from dataclasses import replace
from align import engine
from align.rule_api import builtin_rules
from align.scope.profile import PendingProfile
from tests.helpers import make_context

files = json.loads(sys.argv[1])
ctx = make_context(files)
pending = PendingProfile(ctx.catalog, (ctx.deployments[0].gpu,), lambda _path, _text: True, lambda: iter(()))
assert engine._worker_count(ctx, 2) == 2  # a fresh process: the batches do go to worker processes
found = engine.run_rules(replace(ctx, profile=pending), builtin_rules(), workers=2)
print(json.dumps(sorted({f.path for f in found if f.rule == "gpu-model-mismatch"})))
"""


def _mismatched_in_workers(files: dict[str, str]) -> list[str]:
    """Paths with a model mismatch, reviewed by worker processes (forked from a fresh interpreter: this
    one may have threads running, and then the engine rightly does not fork)."""
    done = subprocess.run([sys.executable, "-c", _IN_WORKERS, json.dumps(files)], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent, check=True)
    return list(json.loads(done.stdout))


def test_worker_processes_name_the_models_of_their_batches() -> None:
    files = {f"deploy/svc{n}.py": "WORKERS = 2\n" for n in range(70)}  # three batches
    files["deploy/svc69.py"] = MANY_MODELS  # named in the last batch, the block in another
    files["deploy/h100.py"] = OTHER_TARGET
    assert _mismatched_in_workers(files) == []
    ctx = make_context(files)
    found = run_rules(replace(ctx, profile=_pending({})), builtin_rules(), workers=1)
    assert not [f for f in found if f.path == "deploy/h100.py"]
    files["deploy/svc69.py"] = "WORKERS = 3\n"
    assert _mismatched_in_workers(files) == ["deploy/h100.py"]


def test_the_rest_of_the_tree_is_read_only_when_the_changed_files_name_too_few_models() -> None:
    read: list[str] = []

    def rest() -> Iterator[tuple[str, str]]:
        read.append("rest")
        yield "presets.py", MANY_MODELS

    ctx = make_context({})
    catalog = ctx.catalog
    pending = PendingProfile(catalog, (ctx.deployments[0].gpu,), lambda _p, _t: True, rest)
    named = [g for name in ("A100", "H100", "V100", "T4") if (g := catalog.resolve(name)) is not None]
    assert pending.finish(named).multi_target and read == []
    assert pending.finish(named[:1]).multi_target and read == ["rest"]
