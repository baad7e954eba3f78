"""Run rules over a review context: severities, ignores, fingerprints and verified suggestions."""

from __future__ import annotations

import difflib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace

from app.context import ReviewContext, SourceFile
from app.findings import Finding, Severity
from app.rule_api import Rule


def run_rules(ctx: ReviewContext, rules: Sequence[Rule], *, verify_suggestions: bool = True) -> list[Finding]:
    findings = _collect(ctx, rules)
    findings = _assign_fingerprints(findings)
    if verify_suggestions:
        findings = _merge_and_verify_suggestions(ctx, rules, findings)
    return sorted(findings, key=lambda f: f.sort_key)


def _collect(ctx: ReviewContext, rules: Sequence[Rule]) -> list[Finding]:
    manifest = ctx.manifest
    findings: list[Finding] = []
    for rule in rules:
        override = manifest.severity_override(rule.id)
        if override == "off":
            continue
        for finding in rule.check(ctx):
            if manifest.is_ignored(finding.path) and finding.path != manifest.path:
                continue
            if override is not None:
                finding = replace(finding, severity=Severity(override))
            findings.append(finding)
    return findings


def _assign_fingerprints(findings: Iterable[Finding]) -> list[Finding]:
    """Identical offending text repeated in one file gets an occurrence number, never a line number."""
    seen: Counter[tuple[str, str, str]] = Counter()
    result = []
    for finding in sorted(findings, key=lambda f: f.sort_key):
        key = (finding.rule, finding.path, finding.evidence or finding.message)
        result.append(finding.with_fingerprint(seen[key]))
        seen[key] += 1
    return result


def _merge_and_verify_suggestions(ctx: ReviewContext, rules: Sequence[Rule], findings: list[Finding]) -> list[Finding]:
    """Findings on the same lines get one combined suggestion, kept only if applying it leaves those lines clean.

    Two rules may each fix part of a line ("H200 (141GB)"): their edits are merged so that accepting the
    one suggestion GitHub shows fixes both. A suggestion that would leave or create any finding on the
    replaced lines (a "GGH200", a new mismatch) is dropped rather than offered.
    """
    files = {f.path: f for f in ctx.files}
    groups: dict[tuple[str, int, int], list[int]] = defaultdict(list)
    for index, finding in enumerate(findings):
        if finding.suggestion is not None and finding.path in files:
            groups[(finding.path, finding.line, finding.end_line)].append(index)
    result = list(findings)
    for (path, start, end), indexes in groups.items():
        source_file = files[path]
        original = "\n".join(source_file.lines[start - 1 : end])
        combined = _combine_edits(original, [findings[i].suggestion or "" for i in indexes])
        if combined is None or combined == original or not _fix_is_clean(ctx, rules, source_file, start, end, combined):
            combined = None
        for i in indexes:
            result[i] = replace(result[i], suggestion=combined)
    return result


def _combine_edits(original: str, suggestions: list[str]) -> str | None:
    if len(suggestions) == 1:
        return suggestions[0]
    edits: list[tuple[int, int, str]] = []
    for suggestion in suggestions:
        matcher = difflib.SequenceMatcher(a=original, b=suggestion, autojunk=False)
        for tag, a0, a1, b0, b1 in matcher.get_opcodes():
            if tag != "equal":
                edits.append((a0, a1, suggestion[b0:b1]))
    edits.sort()
    merged: list[tuple[int, int, str]] = []
    for edit in edits:
        if merged and edit == merged[-1]:
            continue  # two rules proposing the same edit (also a zero-width insert: "H200" → "GH200")
        if merged and edit[0] < merged[-1][1]:
            return None  # overlapping, different edits: no safe combination
        merged.append(edit)
    out, cursor = [], 0
    for a0, a1, text in merged:
        out.append(original[cursor:a0])
        out.append(text)
        cursor = a1
    out.append(original[cursor:])
    return "".join(out)


def _fix_is_clean(
    ctx: ReviewContext, rules: Sequence[Rule], source_file: SourceFile, start: int, end: int, replacement: str
) -> bool:
    lines = source_file.lines
    new_lines = replacement.split("\n")
    fixed_text = "\n".join([*lines[: start - 1], *new_lines, *lines[end:]])
    if source_file.text.endswith("\n"):
        fixed_text += "\n"
    new_end = start + len(new_lines) - 1
    fixed = SourceFile(
        path=source_file.path,
        text=fixed_text,
        changed_lines=frozenset(range(start, new_end + 1)),
        status=source_file.status,
    )
    fixed_ctx = replace(ctx, files=(fixed,), repository_files=lambda: iter(()))
    for finding in _collect(fixed_ctx, rules):
        if finding.path == fixed.path and finding.line <= new_end and finding.end_line >= start:
            return False
    return True
