"""The catalog is read with PyYAML's C loader for speed; gpus.yaml stays the source of truth and must read
the same under ruamel's YAML 1.2 loader (no `yes`/`no`, octal or sexagesimal surprises)."""

from __future__ import annotations

from ruamel.yaml import YAML

from align.catalog.data import CATALOG_FILE, read_yaml


def test_gpus_yaml_reads_the_same_with_both_yaml_loaders() -> None:
    text = CATALOG_FILE.read_text(encoding="utf-8")
    assert read_yaml(text) == YAML(typ="safe").load(text)
