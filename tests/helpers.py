"""Test helpers: build review contexts from inline text, without git or GitHub."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from align.catalog import Catalog
from align.context import ReviewContext, SourceFile
from align.engine import run_rules
from align.findings import Finding
from align.manifest import effective_manifest
from align.rule_api import Rule, builtin_rules

GH200_MANIFEST = """\
version: 1
deployments:
  - name: production
    gpu: GH200
    count: 3
    price_per_gpu_hour: 1.49
    provider: lambda
    instance_type: gpu_1x_gh200
    memory_pools_gb:
      active_models: 40
      inference_cache: 30
      vector_cache: 20
      buffer: 6
    retired_secrets: [LAMBDA_API_KEY]
"""


def make_context(
    files: Mapping[str, str],
    *,
    manifest: str = GH200_MANIFEST,
    base_manifest: str | None = None,
    changed: Mapping[str, Iterable[int]] | None = None,
    repository: Mapping[str, str] | None = None,
) -> ReviewContext:
    """`files` are the changed files at head; every line counts as changed unless `changed` says which.
    `base_manifest` defaults to the same manifest (no deployment change). `repository` adds unchanged
    files that only repository-wide rules (stale-reference) read."""
    catalog = Catalog.builtin()
    effective = effective_manifest(base_manifest if base_manifest is not None else manifest, manifest,
                                   "align.yaml", catalog)
    assert effective is not None
    source_files = []
    for path, text in files.items():
        lines = changed.get(path) if changed and path in changed else range(1, text.count("\n") + 2)
        source_files.append(SourceFile(path, text, frozenset(lines or ())))
    everything = [SourceFile(p, t, frozenset()) for p, t in {**(repository or {}), **files}.items()]
    return ReviewContext(
        catalog=effective.manifest.catalog,
        effective=effective,
        files=tuple(source_files),
        repository_files=lambda: iter(everything),
    )


def findings_of(rule: Rule | str, ctx: ReviewContext) -> list[Finding]:
    """Findings of one rule after the engine (severities, fingerprints, verified suggestions)."""
    rules = builtin_rules()
    rule_id = rule if isinstance(rule, str) else rule.id
    return [f for f in run_rules(ctx, rules) if f.rule == rule_id]
