"""`--format json`: the object of spec section 4, keys in the spec's order, then what else the run knows:
findings suppressed inline or waived with `/align ignore` (with their reasons), how many a baseline left
out, why a run was skipped, and notes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from align.report._common import deployments_of, skipped_reason, sorted_findings
from align.result import ReviewResult

if TYPE_CHECKING:
    from align.manifest import Deployment

JSON_VERSION = 1


def _number(value: float) -> float | int:
    """Catalog figures are floats; 96.0 is written 96 as in the spec."""
    return int(value) if float(value).is_integer() else value


def deployment_json(deployment: Deployment) -> dict[str, object]:
    return {
        "name": deployment.name,
        "gpu": deployment.gpu.name,
        "gpu_memory_gb": _number(deployment.gpu_memory_gb),
        "count": deployment.count,
        "price_per_gpu_hour": deployment.price_per_gpu_hour,
        "arch": deployment.arch,
    }


def to_json(result: ReviewResult) -> dict[str, object]:
    return {
        "version": JSON_VERSION,
        "conclusion": result.conclusion,
        "base": result.base,
        "head": result.head,
        "deployments": [deployment_json(d) for d in deployments_of(result)],
        "findings": [f.to_json() for f in sorted_findings(result.findings)],
        "suppressed": [{**f.to_json(), "suppression": s.to_json()} for f, s in result.suppressed],
        "waived": [{**f.to_json(), "waiver": {"target": w.target, "author": w.author, "reason": w.reason}}
                   for f, w in result.waived],
        "baselined": len(result.baselined),
        "skipped_reason": skipped_reason(result),
        "notes": list(result.notes),
    }


def render(result: ReviewResult) -> str:
    return json.dumps(to_json(result), indent=2, ensure_ascii=False) + "\n"
