"""`align.yaml`: parsing with line numbers, strict validation, and base/head precedence.

INTERFACE CONTRACT (implementation owned by the catalog/manifest work). Keep these names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from app.catalog import Catalog, GpuSpec

MANIFEST_PATHS = ("align.yaml", ".github/align.yaml")
SeverityName = Literal["error", "warning", "notice", "off"]
FailOn = Literal["error", "warning", "notice", "never"]


@dataclass(frozen=True, slots=True)
class ManifestIssue:
    path: str
    line: int
    field: str  # dotted, e.g. "deployments[0].gpu"
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.field}: {self.message}"


class ManifestError(Exception):
    def __init__(self, issues: list[ManifestIssue]) -> None:
        super().__init__("; ".join(str(i) for i in issues))
        self.issues = issues


@dataclass(frozen=True)
class Deployment:
    name: str
    gpu: GpuSpec
    count: int
    price_per_gpu_hour: float
    gpu_memory_gb: float  # declared, else the catalog's
    arch: Literal["arm64", "x86_64"]  # declared, else the catalog's
    provider: str | None = None
    instance_type: str | None = None
    paths: tuple[str, ...] = ("**",)
    memory_pools_gb: tuple[tuple[str, float], ...] = ()
    retired_secrets: tuple[str, ...] = ()
    line: int = 0  # line of this deployment in align.yaml

    @property
    def total_memory_gb(self) -> float:
        return self.count * self.gpu_memory_gb

    @property
    def monthly_cost(self) -> float:
        """USD per month at 730 hours for the whole deployment."""
        return self.count * self.price_per_gpu_hour * 730

    def governs(self, path: str) -> bool:
        """True when `path` matches one of `paths` (gitignore-style globs, `**` crosses directories)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Manifest:
    path: str
    deployments: tuple[Deployment, ...]
    rules: tuple[tuple[str, SeverityName], ...] = ()
    fail_on: FailOn = "error"
    ignore: tuple[str, ...] = ()
    catalog: Catalog = field(default_factory=Catalog)

    def severity_override(self, rule_id: str) -> SeverityName | None:
        return dict(self.rules).get(rule_id)

    def deployment_for(self, path: str) -> Deployment | None:
        """The first deployment whose `paths` govern `path`."""
        return next((d for d in self.deployments if d.governs(path)), None)

    def is_ignored(self, path: str) -> bool:
        raise NotImplementedError


def parse_manifest(text: str, path: str, catalog: Catalog) -> Manifest:
    """Parse and strictly validate one align.yaml. Raises ManifestError naming file, line and field."""
    raise NotImplementedError


ManifestOrigin = Literal["both", "added", "base_only"]


@dataclass(frozen=True)
class EffectiveManifest:
    """What a review runs against: settings from base, deployments from head (spec section 1)."""

    manifest: Manifest
    base: Manifest | None  # for manifest-changed / stale-reference deltas
    origin: ManifestOrigin


def effective_manifest(
    base_text: str | None, head_text: str | None, path: str, catalog: Catalog
) -> EffectiveManifest | None:
    """Combine base and head align.yaml texts. None when neither side has one.

    `rules`, `fail_on`, `ignore`, `catalog` from base; `deployments` from head (resolved with the base's
    catalog). Added by the PR: head's file wholly. Raises ManifestError when the file that counts is invalid.
    """
    raise NotImplementedError
