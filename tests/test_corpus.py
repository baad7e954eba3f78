"""The labelled corpus: every expected finding appears, nothing else does (recall and precision 100 %)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.corpus_harness import scenarios, score_scenario, summarize


@pytest.mark.parametrize("scenario", scenarios(), ids=lambda p: p.name)
def test_scenario(scenario: Path, tmp_path: Path) -> None:
    score = score_scenario(scenario, tmp_path)
    assert not score.missing, f"missing findings: {score.missing}"
    assert not score.false_positives, f"false positives: {score.false_positives}"
    assert not score.quiet_violations, f"fired on quiet lines: {score.quiet_violations}"


def test_corpus_is_large_enough_and_scored(tmp_path: Path) -> None:
    found = scenarios()
    assert len(found) >= 12, f"only {len(found)} scenarios"
    summary = summarize([score_scenario(s, tmp_path) for s in found])
    assert summary["expected"] >= 40
    assert summary["recall"] == 1.0
    assert summary["precision"] == 1.0
