"""The GPU catalog: what GPUs exist, how they are spelled, and how to find them in text.

INTERFACE CONTRACT (implementation owned by the catalog work): the names below are used by rules,
the manifest loader and the CLI. Keep them.

The data lives in `gpus.yaml` (read by `data.py`); matching is in `matcher.py`. Those modules import the
value types from here, so this module imports them lazily, inside the methods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from align.catalog.matcher import CatalogIndex

MentionKind = Literal["name", "product_label", "node_label", "instance_type"]


@dataclass(frozen=True, slots=True)
class Source:
    key: str  # e.g. "S1", "G1", or "user" for entries from align.yaml
    ref: str  # repository + path, or URL
    date: str  # ISO date the figure was read
    covers: tuple[str, ...] = ()  # the GpuSpec fields this source backs, e.g. ("memory_gb", "arch")


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
        return _builtin_catalog()

    def extend(self, entries: list[dict[str, object]], *, ref: str = "align.yaml") -> Catalog:
        """A new catalog with user entries (align.yaml `catalog:`) added or overriding by name.

        An entry naming a known GPU amends it (given fields replace, lists are added to); a new name needs
        `memory_gb` and `arch`. Raises `CatalogEntryError` (a ValueError) naming the entry and field."""
        from align.catalog.data import user_spec
        from align.catalog.matcher import normalize

        gpus = list(self.gpus)
        for index, entry in enumerate(entries):
            name = entry.get("name")
            wanted = normalize(name) if isinstance(name, str) else None
            position = next((i for i, g in enumerate(gpus) if normalize(g.name) == wanted), None)
            spec = user_spec(entry, index, gpus[position] if position is not None else None, ref)
            if position is None:
                gpus.append(spec)
            else:
                gpus[position] = spec
        return Catalog(tuple(gpus))

    def resolve(self, name: str) -> GpuSpec | None:
        """Exact, case-insensitive lookup of a name, alias, label or instance type."""
        hit = self._index.lookup(name)
        return hit[0] if hit else None

    def find_mentions(self, text: str) -> list[GpuMention]:
        """Every GPU named in `text`: token-bounded, longest first, case-insensitive, non-overlapping."""
        return self._index.mentions(text)

    def nearest(self, token: str) -> str | None:
        """The canonical name closest to an unknown GPU-like token ("GGH200" -> "GH200"), or None."""
        return self._index.nearest(token)

    @cached_property
    def _index(self) -> CatalogIndex:
        # Built on first use and kept on this (immutable) catalog; not a dataclass field.
        return _index_for(self.gpus)


@lru_cache(maxsize=64)
def _index_for(gpus: tuple[GpuSpec, ...]) -> CatalogIndex:
    """Shared by equal catalogs: every review re-reads align.yaml and extends the catalog the same way."""
    from align.catalog.matcher import CatalogIndex

    return CatalogIndex(gpus)


@cache
def _builtin_catalog() -> Catalog:
    from align.catalog.data import load_builtin

    return Catalog(load_builtin())
