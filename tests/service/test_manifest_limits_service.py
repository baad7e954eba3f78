"""The service against the simulator: an align.yaml past a limit of issue 8, item 8 ends the review as a
`manifest-invalid` failure naming the limit, never "could not complete", never a file silently cut; input
that made the engine's work explode (items 7 and 9) is reviewed to the end."""

from __future__ import annotations

import pytest

from align.rule_findings import MAX_FINDINGS_PER_FILE
from tests.helpers import GH200_MANIFEST
from tests.test_bounded_globs import PATHOLOGICAL
from tests.test_bounded_globs import _manifest as catalog_glob_manifest
from tests.test_manifest_limits import alias_bomb, deeply_nested

from .stack import Stack


def _invalid(stack: Stack, align_yaml: str) -> str:
    _number, head = stack.open({"align.yaml": align_yaml})
    run = stack.last_run(head)
    assert run.conclusion == "failure", run.output["summary"][:500]
    assert "could not complete" not in run.output["title"] + run.output["summary"]
    assert any(a["title"].startswith("manifest-invalid") for a in run.annotations) or \
        "manifest-invalid" in run.output["summary"]
    return str(run.output["summary"])


def test_a_nested_align_yaml_is_manifest_invalid_with_the_depth_limit(stack: Stack) -> None:
    assert "nested more than 20 levels deep" in _invalid(stack, deeply_nested(5_000))


def test_an_alias_bomb_is_manifest_invalid_with_the_expansion_limit(stack: Stack) -> None:
    assert "more than 100,000 values once aliases are expanded" in _invalid(stack, alias_bomb(10))


def test_an_align_yaml_over_one_megabyte_is_manifest_invalid_not_cut(stack: Stack) -> None:
    padding = "".join(f"# note {n:07d} about the deployment below, kept for the record\n" for n in range(16_000))
    second = GH200_MANIFEST.split("deployments:\n")[1].replace("production", "second")
    assert "1,000,000-byte limit" in _invalid(stack, GH200_MANIFEST + padding + second)


@pytest.mark.timeout(120)
def test_a_pathological_catalog_glob_does_not_hold_the_review(stack: Stack) -> None:
    _number, head = stack.open({"align.yaml": catalog_glob_manifest(PATHOLOGICAL),
                                "docs/nodes.md": "Node: x" + "a" * 5_000 + "\n\nWe run on the H100.\n"})
    run = stack.last_run(head)
    assert run.status == "completed"
    assert any(a["path"] == "docs/nodes.md" and a["title"].startswith("gpu-model-mismatch") for a in run.annotations)


@pytest.mark.timeout(120)
def test_a_file_with_a_suggestion_on_every_line_is_reviewed_up_to_the_limit_and_says_so(stack: Stack) -> None:
    lines = "".join(f'GPU_{n} = "H200"\n' for n in range(2_900))  # one review took 184 s (a re-parse per fix)
    _number, head = stack.open({"deploy/gpus.py": lines})
    run = stack.last_run(head)
    assert run.status == "completed" and run.conclusion == "failure"
    assert run.output["title"] == f"{MAX_FINDINGS_PER_FILE} errors, 1 notice in 1 file"
    assert "stopped reading this file here" in run.output["summary"]
