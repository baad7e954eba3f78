"""`--format sarif`: SARIF 2.1.0 for GitHub code scanning (`github/codeql-action/upload-sarif`).

Validated in tests against the official schema vendored beside this file (see SCHEMA-ORIGIN.md).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from align import __version__
from align.findings import Finding, Severity
from align.report._common import skipped_reason, sorted_findings
from align.result import ReviewResult

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SCHEMA_PATH = Path(__file__).with_name("sarif-schema-2.1.0.json")
DEFAULT_INFORMATION_URI = "https://github.com/align-bot/align"
FINGERPRINT_KEY = "alignFingerprint/v1"
SRCROOT = "%SRCROOT%"

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTICE: "note"}


def _rule_name(rule_id: str) -> str:
    """SARIF `name` is an identifier-like label: gpu-model-mismatch -> GpuModelMismatch."""
    return "".join(part.capitalize() for part in rule_id.split("-"))


def _rule_doc(rule: Any) -> str:
    doc = getattr(rule, "doc", None)
    if callable(doc):
        return str(doc())
    return inspect.cleandoc(getattr(rule, "__doc__", None) or getattr(rule, "summary", "") or "")


def rule_descriptor(rule: Any, help_uri: str | None = None) -> dict[str, Any]:
    """A reportingDescriptor from a rule class or instance (id, default_severity, summary, fix_safe, docstring)."""
    rule_id = str(rule.id)  # rules may be classes or instances alike
    severity = Severity(getattr(rule, "default_severity", Severity.WARNING))
    summary = str(getattr(rule, "summary", "") or rule_id)
    doc = _rule_doc(rule) or summary
    tags = ["align", "deployment-alignment"]
    if getattr(rule, "fix_safe", False):
        tags.append("autofix")
    descriptor: dict[str, Any] = {
        "id": rule_id,
        "name": _rule_name(rule_id),
        "shortDescription": {"text": summary},
        "fullDescription": {"text": doc},
        "help": {"text": doc, "markdown": doc},
        "defaultConfiguration": {"level": _LEVEL[severity]},
        "properties": {"tags": tags},
    }
    if help_uri:
        descriptor["helpUri"] = help_uri.format(rule=rule_id)
    return descriptor


def _fallback_descriptor(finding: Finding) -> dict[str, Any]:
    """For a finding whose rule is not in the list (an unloadable plugin): ruleIndex must still resolve."""
    return {
        "id": finding.rule,
        "name": _rule_name(finding.rule),
        "shortDescription": {"text": finding.rule},
        "defaultConfiguration": {"level": _LEVEL[finding.severity]},
        "properties": {"tags": ["align"]},
    }


def _location(finding: Finding) -> dict[str, Any]:
    return {"uri": quote(finding.path), "uriBaseId": SRCROOT}


def _region(finding: Finding, *, columns: bool = True) -> dict[str, int]:
    # SARIF lines are 1-based; a manifest that does not parse may report line 0.
    start = max(finding.line, 1)
    region = {"startLine": start, "endLine": max(finding.end_line, start)}
    if columns and finding.column is not None:
        region["startColumn"] = finding.column
        if finding.end_column is not None and finding.end_column > finding.column:
            region["endColumn"] = finding.end_column
    return region


def _result(
    finding: Finding, index: int, waiver_reason: str | None = None, *, kind: str = "external"
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": index,
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": {"artifactLocation": _location(finding), "region": _region(finding)}}],
    }
    if finding.fingerprint:
        result["partialFingerprints"] = {FINGERPRINT_KEY: finding.fingerprint}
    if finding.suggestion is not None:
        result["fixes"] = [
            {
                "description": {"text": f"Apply the suggested change for {finding.rule}"},
                "artifactChanges": [
                    {
                        "artifactLocation": _location(finding),
                        "replacements": [
                            {
                                "deletedRegion": _region(finding, columns=False),
                                "insertedContent": {"text": finding.suggestion},
                            }
                        ],
                    }
                ],
            }
        ]
    properties: dict[str, Any] = {"inDiff": finding.in_diff}
    if finding.deployment:
        properties["deployment"] = finding.deployment
    result["properties"] = properties
    if waiver_reason is not None:
        result["suppressions"] = [{"kind": kind, "status": "accepted", "justification": waiver_reason}]
    return result


def _default_rules() -> Sequence[object]:
    try:
        from align.rule_api import load_rules

        return load_rules().rules
    except Exception:  # the built-in rules may be unavailable; findings still get fallback descriptors
        return ()


def to_sarif(
    result: ReviewResult,
    *,
    rules: Sequence[object] | None = None,
    information_uri: str = DEFAULT_INFORMATION_URI,
    help_uri: str | None = None,
) -> dict[str, Any]:
    """`help_uri` may contain `{rule}`, replaced by each rule id."""
    descriptors: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for rule in _default_rules() if rules is None else rules:
        descriptor = rule_descriptor(rule, help_uri)
        if descriptor["id"] not in index:
            index[descriptor["id"]] = len(descriptors)
            descriptors.append(descriptor)
    entries: list[tuple[Finding, str | None, str]] = [(f, None, "external") for f in sorted_findings(result.findings)]
    entries += [(finding, waiver.reason, "external") for finding, waiver in result.waived]
    entries += [(finding, suppression.reason, "inSource") for finding, suppression in result.suppressed]
    entries += [(finding, "in the baseline file", "external") for finding in result.baselined]
    for finding, _, _ in entries:
        if finding.rule not in index:
            index[finding.rule] = len(descriptors)
            descriptors.append(_fallback_descriptor(finding))
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "Align",
                "informationUri": information_uri,
                "version": __version__,
                "semanticVersion": __version__,
                "rules": descriptors,
            }
        },
        "results": [_result(f, index[f.rule], reason, kind=kind) for f, reason, kind in entries],
        "columnKind": "unicodeCodePoints",
    }
    if result.head:
        run["properties"] = {"base": result.base, "head": result.head, "conclusion": result.conclusion}
    reason = skipped_reason(result)
    notes = ([reason] if reason else []) + [n for n in result.notes if n.splitlines()[0] != reason]
    run["invocations"] = [{
        "executionSuccessful": True,
        "toolExecutionNotifications": [{"level": "note", "message": {"text": note}} for note in notes],
    }]
    if reason is not None:
        run.setdefault("properties", {})["skippedReason"] = reason
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def render(
    result: ReviewResult,
    *,
    rules: Sequence[object] | None = None,
    information_uri: str = DEFAULT_INFORMATION_URI,
    help_uri: str | None = None,
) -> str:
    sarif = to_sarif(result, rules=rules, information_uri=information_uri, help_uri=help_uri)
    return json.dumps(sarif, indent=2, ensure_ascii=False) + "\n"
