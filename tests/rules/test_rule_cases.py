"""Rule tests as data: every `cases/<rule-id>.yaml` case states what must fire and where nothing may.

Case format (see any file in cases/):

    rule: gpu-model-mismatch
    cases:
      - name: H200 in a node selector
        files: {k8s/deploy.yaml: "..."}      # changed files at head (every line changed unless `changed`)
        changed: {k8s/deploy.yaml: [3]}       # optional: only these lines are added by the change
        manifest: "..."                       # optional: align.yaml text (default: tests.helpers.GH200_MANIFEST)
        base_manifest: "..."                  # optional: the base's align.yaml (default: same as manifest)
        repository: {docs/x.md: "..."}        # optional: unchanged files (stale-reference reads them)
        fire:                                 # exactly these findings of this rule; [] means must not fire
          - {path: k8s/deploy.yaml, line: 3, contains: "GH200", suggestion: "    gpu: GH200"}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.helpers import GH200_MANIFEST, findings_of, make_context

CASES_DIR = Path(__file__).parent / "cases"


def _load_cases() -> list[Any]:
    params = []
    for case_file in sorted(CASES_DIR.glob("*.yaml")):
        data = YAML(typ="safe").load(case_file.read_text())
        for case in data["cases"]:
            params.append(pytest.param(data["rule"], case, id=f"{data['rule']}::{case['name']}"))
    return params


@pytest.mark.parametrize(("rule_id", "case"), _load_cases())
def test_rule_case(rule_id: str, case: dict[str, Any]) -> None:
    manifest = case.get("manifest", GH200_MANIFEST)
    ctx = make_context(
        case["files"],
        manifest=manifest,
        base_manifest=case.get("base_manifest", manifest),
        changed=case.get("changed"),
        repository=case.get("repository"),
    )
    found = findings_of(rule_id, ctx)
    expected = case.get("fire") or []
    got = sorted((f.path, f.line) for f in found)
    want = sorted((e["path"], e["line"]) for e in expected)
    assert got == want, "\n".join(f"{f.path}:{f.line}: {f.message}" for f in found) or "no findings"
    by_place = {(f.path, f.line): f for f in found}
    for e in expected:
        finding = by_place[(e["path"], e["line"])]
        if "contains" in e:
            assert e["contains"] in finding.message, finding.message
        if "suggestion" in e:
            assert finding.suggestion == e["suggestion"], finding.suggestion
        if "in_diff" in e:
            assert finding.in_diff is e["in_diff"]


def test_every_builtin_rule_has_fire_and_quiet_cases() -> None:
    from align.rules import BUILTIN_RULES

    for rule_class in BUILTIN_RULES:
        case_file = CASES_DIR / f"{rule_class.id}.yaml"
        if rule_class.id == "manifest-invalid":
            continue  # produced by the orchestrator from ManifestError; tested in tests/test_review.py
        assert case_file.exists(), f"no cases for {rule_class.id}"
        cases = YAML(typ="safe").load(case_file.read_text())["cases"]
        assert any(c.get("fire") for c in cases), f"{rule_class.id}: no must-fire case"
        assert any(not c.get("fire") for c in cases), f"{rule_class.id}: no must-not-fire case"
