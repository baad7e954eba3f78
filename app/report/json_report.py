"""`--format json`: exactly the object of spec section 4, keys in the spec's order."""

from __future__ import annotations

import json

from app.manifest import Deployment
from app.report._common import deployments_of, sorted_findings
from app.review import ReviewResult

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
    }


def render(result: ReviewResult) -> str:
    return json.dumps(to_json(result), indent=2, ensure_ascii=False) + "\n"
