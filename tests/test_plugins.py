"""Third-party rules through the `align.rules` entry-point group: loaded, and a broken one reported, not fatal."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from align.rule_api import load_rules

EXAMPLE_PLUGIN = Path(__file__).resolve().parents[1] / "examples" / "plugin"


@pytest.fixture
def installed_plugins(tmp_path: Path) -> Iterator[None]:
    """A real distribution on sys.path (a .dist-info with entry_points.txt), as pip would leave it."""
    dist = tmp_path / "align_example_rule-0.1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: align-example-rule\nVersion: 0.1.0\n")
    (dist / "entry_points.txt").write_text(
        "[align.rules]\n"
        "todo-gpu = align_example_rule:TodoGpu\n"
        "broken = align_missing_module:Rule\n"
        "not-a-rule = os.path:join\n"
    )
    sys.path[:0] = [str(tmp_path), str(EXAMPLE_PLUGIN)]
    yield
    sys.path.remove(str(tmp_path))
    sys.path.remove(str(EXAMPLE_PLUGIN))
    sys.modules.pop("align_example_rule", None)


def test_plugin_rule_is_loaded_and_broken_ones_are_reported(installed_plugins: None) -> None:
    loaded = load_rules()
    ids = [rule.id for rule in loaded.rules]
    assert "todo-gpu" in ids
    assert ids.count("gpu-model-mismatch") == 1
    assert len(loaded.errors) == 2
    assert any("broken" in e and "align_missing_module" in e for e in loaded.errors)
    assert any("not-a-rule" in e and "Rule protocol" in e for e in loaded.errors)


def test_plugin_rule_runs_in_the_engine(installed_plugins: None) -> None:
    from align.engine import run_rules
    from tests.helpers import make_context

    ctx = make_context({"train.py": "batch = 8  # TODO-GPU tune\nlr = 0.1\n"})
    findings = [f for f in run_rules(ctx, load_rules().rules) if f.rule == "todo-gpu"]
    assert [(f.path, f.line, f.severity.value) for f in findings] == [("train.py", 1, "notice")]


def test_without_plugins_only_builtins() -> None:
    assert len(load_rules(include_plugins=False).rules) == 12
