"""What happens to the engine's findings before they are reported: columns where the text tells them,
and inline `align: ignore[...]` suppressions where the manifest allows them. Also: a manifest's own
errors placed on the lines a change touched, so they become inline comments."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from align.columns import with_columns
from align.context import SourceFile
from align.findings import Finding
from align.manifest import EffectiveManifest
from align.source import FileChange
from align.suppressions import SuppressionOutcome, apply_suppressions

ReadMany = Callable[[list[str]], Mapping[str, bytes]]


def finish_findings(
    findings: Iterable[Finding],
    files: Sequence[SourceFile],
    read_many: ReadMany,
    effective: EffectiveManifest,
    mode: str,
) -> SuppressionOutcome:
    """Columns, then suppressions. Suppressions count only when the manifest whose settings apply says
    `suppressions: allow`: the base commit's in a change (never one the change itself adds), the
    scanned commit's in a scan."""
    findings = list(findings)
    texts = {f.path: f.text for f in files}
    missing = sorted({f.path for f in findings} - set(texts))
    if missing:
        for path, data in read_many(missing).items():
            texts[path] = data.decode("utf-8", errors="replace")
    findings = with_columns(findings, texts)
    allowed = effective.manifest.suppressions == "allow" and (mode == "scan" or effective.origin != "added")
    return apply_suppressions(findings, texts, allowed=allowed, manifest_path=effective.manifest.path)


def manifest_errors_in_diff(findings: Iterable[Finding], changes: Sequence[FileChange]) -> list[Finding]:
    """manifest-invalid findings on lines the change added are in the diff: they get inline comments.
    Issues about the base commit's version stay out of it (the change did not write them)."""
    added = {c.path: c.added_lines for c in changes}
    result = []
    for finding in findings:
        lines = added.get(finding.path, frozenset())
        ours = "(in the base commit's version)" not in finding.message
        result.append(replace(finding, in_diff=True) if ours and finding.line in lines else finding)
    return result
