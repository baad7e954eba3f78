"""The GPU catalog: what GPUs exist, how they are spelled, and how to find them in text.

INTERFACE CONTRACT (implementation owned by the catalog work): the names below are used by rules,
the manifest loader and the CLI. Keep them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

MentionKind = Literal["name", "product_label", "node_label", "instance_type"]


@dataclass(frozen=True, slots=True)
class Source:
    key: str  # e.g. "S1", "G1", or "user" for entries from align.yaml
    ref: str  # repository + path, or URL
    date: str  # ISO date the figure was read


@dataclass(frozen=True, slots=True)
class ReferencePrice:
    provider: str
    instance_type: str
    usd_per_gpu_hour: float
    date: str
    source: str


@dataclass(frozen=True, slots=True)
class GpuSpec:
    name: str  # canonical, e.g. "GH200", "A100 80GB", "H100 SXM"
    family: str  # model family shared by variants, e.g. "GH200", "A100", "H100"
    memory_gb: float
    arch: Literal["arm64", "x86_64"]
    vendor: str = "nvidia"
    aliases: tuple[str, ...] = ()  # other spellings: "GH200 96GB", "Grace Hopper", "H100-SXM5"...
    product_labels: tuple[str, ...] = ()  # nvidia.com/gpu.product values, e.g. NVIDIA-GH200-480GB
    node_labels: tuple[str, ...] = ()  # GKE accelerator / Karpenter instance-gpu-name values
    instance_types: tuple[str, ...] = ()  # exact names or glob patterns ("g5.*", "gpu_1x_gh200")
    reference_prices: tuple[ReferencePrice, ...] = ()
    sources: tuple[Source, ...] = ()
    generic: bool = False  # True for a family-level entry ("A100") that any variant satisfies

    def same_model(self, other: GpuSpec) -> bool:
        """True when a mention of `self` is consistent with a deployment of `other`."""
        if self.name == other.name:
            return True
        return self.family == other.family and (self.generic or other.generic)


@dataclass(frozen=True, slots=True)
class GpuMention:
    start: int  # character offsets in the searched text
    end: int
    text: str  # the text as written
    gpu: GpuSpec
    kind: MentionKind


@dataclass(frozen=True)
class Catalog:
    gpus: tuple[GpuSpec, ...] = field(default=())

    @classmethod
    def builtin(cls) -> Catalog:
        """The catalog shipped in the package data file (cached)."""
        raise NotImplementedError

    def extend(self, entries: list[dict[str, object]]) -> Catalog:
        """A new catalog with user entries (align.yaml `catalog:`) added or overriding by name."""
        raise NotImplementedError

    def resolve(self, name: str) -> GpuSpec | None:
        """Exact, case-insensitive lookup of a name, alias, label or instance type."""
        raise NotImplementedError

    def find_mentions(self, text: str) -> list[GpuMention]:
        """Every GPU named in `text`: token-bounded, longest first, case-insensitive, non-overlapping."""
        raise NotImplementedError

    def nearest(self, token: str) -> str | None:
        """The canonical name closest to an unknown GPU-like token ("GGH200" -> "GH200"), or None."""
        raise NotImplementedError
