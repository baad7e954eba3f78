"""Baselines: the fingerprints of the findings a repository already has, so that `align check` and
`align scan` report only new ones (like Semgrep's `--baseline-commit` or Checkov's baseline file).

`align baseline` writes the file (default `.align-baseline.json` at the repository root). Without
`--baseline FILE`, `check` reads that file from the base commit (a pull request cannot baseline its own
new findings by editing it; the same rule as align.yaml's settings) and `scan` from the scanned commit.
Fingerprints never hold line numbers, so findings that only move stay baselined.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace

from align.findings import Finding
from align.result import ReviewResult, conclusion_for

DEFAULT_BASELINE = ".align-baseline.json"
BASELINE_VERSION = 1


class BaselineError(ValueError):
    """The file is not a baseline this version can read: a usage error (exit 2)."""


@dataclass(frozen=True)
class Baseline:
    fingerprints: frozenset[str]
    source: str  # where it was read, for the report's note


def baseline_json(findings: Iterable[Finding], *, ref: str) -> str:
    entries = sorted(
        ({"fingerprint": f.fingerprint, "rule": f.rule, "path": f.path, "line": f.line} for f in findings),
        key=lambda e: (str(e["path"]), int(str(e["line"])), str(e["rule"])),
    )
    document = {"version": BASELINE_VERSION, "tool": "align", "ref": ref, "findings": entries}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def parse_baseline(text: str, source: str) -> Baseline:
    try:
        data = json.loads(text)
    except ValueError as error:
        raise BaselineError(f"{source} is not JSON: {error}") from None
    if not isinstance(data, dict) or data.get("version") != BASELINE_VERSION or not isinstance(
        data.get("findings"), list
    ):
        raise BaselineError(f"{source} is not an align baseline (version {BASELINE_VERSION}); "
                            "`align baseline` writes one")
    prints = {str(e["fingerprint"]) for e in data["findings"] if isinstance(e, dict) and e.get("fingerprint")}
    return Baseline(frozenset(prints), source)


def apply_baseline(result: ReviewResult, baseline: Baseline) -> ReviewResult:
    """The result without the findings the baseline lists (kept in `baselined`), its conclusion again."""
    kept = tuple(f for f in result.findings if f.fingerprint not in baseline.fingerprints)
    known = tuple(f for f in result.findings if f.fingerprint in baseline.fingerprints)
    if not known:
        return result
    conclusion = result.conclusion if result.conclusion == "skipped" else conclusion_for(kept, result.fail_on)
    note = f"{len(known):,} finding(s) already in the baseline ({baseline.source}) are not reported."
    return replace(result, findings=kept, baselined=known, conclusion=conclusion, notes=(*result.notes, note))
