"""Score the engine against the labelled corpus (tests/corpus/*/scenario.yaml): recall and precision."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from align.findings import Finding
from align.git_source import GitSource
from align.review import review_change
from tests.gitrepo import commit_tree, git, init_repo

CORPUS = Path(__file__).parent / "corpus"


@dataclass
class ScenarioScore:
    name: str
    expected: int = 0
    found: int = 0  # expected findings that appeared
    missing: list[str] = field(default_factory=list)
    false_positives: list[str] = field(default_factory=list)
    quiet_violations: list[str] = field(default_factory=list)
    total_findings: int = 0


def scenarios() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if (p / "scenario.yaml").exists())


def build_scenario(scenario: Path, workdir: Path) -> tuple[Path, str, str]:
    labels = YAML(typ="safe").load((scenario / "scenario.yaml").read_text())
    repo = workdir / scenario.name
    init_repo(repo)
    base = commit_tree(repo, scenario / "base", message="base")
    git(repo, "checkout", "-q", "-b", "pr")
    head_tree = scenario / "head"
    head = commit_tree(repo, head_tree if head_tree.exists() else None, deleted=labels.get("deleted") or (),
                       message="pull request")
    return repo, base, head


def _matches(finding: Finding, expected: dict[str, Any]) -> bool:
    return (
        finding.rule == expected["rule"]
        and finding.path == expected["path"]
        and finding.line == expected["line"]
        and expected.get("contains", "") in finding.message
        and ("in_diff" not in expected or finding.in_diff is expected["in_diff"])
    )


def score_scenario(scenario: Path, workdir: Path) -> ScenarioScore:
    labels = YAML(typ="safe").load((scenario / "scenario.yaml").read_text())
    repo, base, head = build_scenario(scenario, workdir)
    result = review_change(GitSource(repo), base, head)
    findings = list(result.findings)
    score = ScenarioScore(scenario.name, total_findings=len(findings))
    unmatched = list(findings)
    for expected in labels.get("expect") or []:
        score.expected += 1
        hit = next((f for f in unmatched if _matches(f, expected)), None)
        if hit is None:
            score.missing.append(f"{expected['rule']} {expected['path']}:{expected['line']}")
        else:
            score.found += 1
            unmatched.remove(hit)
    score.false_positives = [f"{f.rule} {f.path}:{f.line} {f.message}" for f in unmatched]
    for quiet in labels.get("quiet") or []:
        for f in findings:
            if f.path == quiet["path"] and f.line in quiet["lines"] and quiet.get("rule", f.rule) == f.rule:
                score.quiet_violations.append(f"{f.rule} {f.path}:{f.line} ({quiet.get('why', '')})")
    return score


def summarize(scores: list[ScenarioScore]) -> dict[str, float]:
    expected = sum(s.expected for s in scores)
    found = sum(s.found for s in scores)
    total = sum(s.total_findings for s in scores)
    true_positives = total - sum(len(s.false_positives) for s in scores)
    return {
        "scenarios": len(scores),
        "expected": expected,
        "recall": found / expected if expected else 1.0,
        "precision": true_positives / total if total else 1.0,
        "false_positives": total - true_positives,
    }


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        results = [score_scenario(s, Path(tmp)) for s in scenarios()]
    for s in results:
        status = "ok" if not (s.missing or s.false_positives or s.quiet_violations) else "FAIL"
        print(f"{status:4} {s.name}: {s.found}/{s.expected} found, {len(s.false_positives)} false positives")
        for line in s.missing:
            print(f"       missing: {line}")
        for line in s.false_positives + s.quiet_violations:
            print(f"       unexpected: {line}")
    summary = summarize(results)
    print(f"recall {summary['recall']:.1%}  precision {summary['precision']:.1%}  "
          f"({summary['scenarios']} scenarios, {summary['expected']} labelled findings)")
