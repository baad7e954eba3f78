"""The gate cannot be narrowed by the pull request it judges (issue 8, items 2-4): a change may widen what
is checked, never narrow it, and a file GitHub shows no patch for is reviewed like any other."""

from __future__ import annotations

from align.simulator.diff import MAX_PATCH_BYTES
from tests.helpers import GH200_MANIFEST

from .stack import Stack


def test_a_pull_request_cannot_narrow_its_deployment_to_no_files(stack: Stack) -> None:
    narrowed = GH200_MANIFEST.replace("    retired_secrets:", "    paths: ['nowhere/**']\n    retired_secrets:")
    _number, head = stack.open({"align.yaml": narrowed, "deploy/config.py": 'GPU_MODEL = "H200"\n'})
    run = stack.last_run(head)
    assert run.conclusion == "failure"
    assert any(a["path"] == "deploy/config.py" for a in run.annotations)


def test_a_secret_retired_at_base_stays_retired_when_the_pull_request_empties_the_list(stack: Stack) -> None:
    emptied = GH200_MANIFEST.replace("retired_secrets: [LAMBDA_API_KEY]", "retired_secrets: []")
    _number, head = stack.open({"align.yaml": emptied,
                                "deploy/client.py": 'import os\nKEY = os.environ["LAMBDA_API_KEY"]\n'})
    run = stack.last_run(head)
    assert run.conclusion == "failure"
    assert any(a["title"].startswith("retired-secret") for a in run.annotations)


def test_a_mismatch_in_a_file_without_a_patch_is_found(stack: Stack) -> None:
    filler = "".join(f"# padding line {n} with some words so that the diff is large\n"
                     for n in range(MAX_PATCH_BYTES // 50 + 10))
    _number, head = stack.open({"deploy/big_config.py": filler + 'GPU_MODEL = "H200"\n'})
    run = stack.last_run(head)
    assert run.conclusion == "failure", run.output["summary"][:500]
    assert any(a["path"] == "deploy/big_config.py" and a["title"].startswith("gpu-model-mismatch")
               for a in run.annotations)
