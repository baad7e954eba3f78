"""GPU entries as data: the built-in `gpus.yaml` and align.yaml `catalog:` entries, read into GpuSpec values."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, cast

from align.catalog import GpuSpec, ReferencePrice, Source

CATALOG_FILE = Path(__file__).with_name("gpus.yaml")
ARCHES = ("arm64", "x86_64")
LIST_FIELDS = ("aliases", "product_labels", "node_labels", "instance_types")
# Figures that must name where they came from in the built-in file.
SOURCED_FIELDS = ("memory_gb", "arch", "product_labels", "node_labels", "instance_types")
USER_FIELDS = frozenset({"name", "family", "memory_gb", "arch", "vendor", "generic", *LIST_FIELDS})


class CatalogEntryError(ValueError):
    """A user catalog entry is wrong; `index` and `field` say where, for a line-numbered report."""

    def __init__(self, index: int, field: str, message: str) -> None:
        super().__init__(f"catalog[{index}].{field}: {message}")
        self.index = index
        self.field = field
        self.message = message


def read_yaml(text: str) -> Any:
    """The data file parsed by libyaml through PyYAML's C loader (about 15x faster than ruamel's pure-Python
    safe loader, which every CLI run paid at startup); PyYAML's Python loader where libyaml is missing.
    The file keeps to what YAML 1.1 and 1.2 read alike (a test compares both loaders on it)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)


def load_builtin(path: Path = CATALOG_FILE) -> tuple[GpuSpec, ...]:
    """Read the shipped data file. A figure without a known source is a packaging bug: fail loudly."""
    data = read_yaml(path.read_text(encoding="utf-8"))
    read_on = str(data["read_on"])
    refs: dict[str, tuple[str, str]] = {
        str(key): (str(value["ref"]), str(value.get("date", read_on))) for key, value in data["sources"].items()
    }
    return tuple(_builtin_spec(entry, refs) for entry in data["gpus"])


def _builtin_spec(entry: Mapping[str, Any], refs: Mapping[str, tuple[str, str]]) -> GpuSpec:
    name = str(entry["name"])
    covered: dict[str, list[str]] = {}
    for field_name, keys in (entry.get("sources") or {}).items():
        for key in keys:
            if key not in refs:
                raise ValueError(f"{name}: unknown source key {key!r}")
            covered.setdefault(str(key), []).append(str(field_name))
    for field_name in SOURCED_FIELDS:
        if entry.get(field_name) and not any(field_name in fields for fields in covered.values()):
            raise ValueError(f"{name}: {field_name} has no source")
    prices = []
    for price in entry.get("prices") or ():
        key = str(price["source"])
        if key not in refs:
            raise ValueError(f"{name}: unknown price source {key!r}")
        prices.append(
            ReferencePrice(
                provider=str(price["provider"]),
                instance_type=str(price["instance_type"]),
                usd_per_gpu_hour=float(price["usd_per_gpu_hour"]),
                date=refs[key][1],
                source=key,
            )
        )
    sources = tuple(Source(key, refs[key][0], refs[key][1], tuple(fields)) for key, fields in covered.items())
    return GpuSpec(
        name=name,
        family=str(entry.get("family", name)),
        memory_gb=float(entry["memory_gb"]),
        arch=_arch(entry["arch"], name),
        vendor=str(entry.get("vendor", "nvidia")),
        aliases=_strings(entry.get("aliases")),
        product_labels=_strings(entry.get("product_labels")),
        node_labels=_strings(entry.get("node_labels")),
        instance_types=_strings(entry.get("instance_types")),
        reference_prices=tuple(prices),
        sources=sources,
        generic=bool(entry.get("generic", False)),
    )


def user_spec(entry: Mapping[str, object], index: int, existing: GpuSpec | None, ref: str) -> GpuSpec:
    """A user entry as a GpuSpec. Naming a known GPU amends it: given scalars replace, lists are added to,
    so `{name: GH200, aliases: [gh-box]}` only teaches a new spelling."""
    unknown = sorted(set(map(str, entry)) - USER_FIELDS)
    if unknown:
        raise CatalogEntryError(index, unknown[0], f"unknown key (allowed: {', '.join(sorted(USER_FIELDS))})")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise CatalogEntryError(index, "name", "required: the GPU's name")
    name = name.strip()
    memory = entry.get("memory_gb")
    if memory is not None and (isinstance(memory, bool) or not isinstance(memory, int | float) or memory <= 0):
        raise CatalogEntryError(index, "memory_gb", f"must be a positive number, got {memory!r}")
    arch = entry.get("arch")
    if arch is not None and arch not in ARCHES:
        raise CatalogEntryError(index, "arch", f"must be one of {', '.join(ARCHES)}, got {arch!r}")
    lists: dict[str, tuple[str, ...]] = {}
    for field_name in LIST_FIELDS:
        value = entry.get(field_name, ())
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v.strip() for v in value):
            raise CatalogEntryError(index, field_name, "must be a list of non-empty strings")
        lists[field_name] = tuple(v.strip() for v in value)
    for field_name in ("family", "vendor"):
        value = entry.get(field_name)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise CatalogEntryError(index, field_name, "must be a non-empty string")
    generic = entry.get("generic")
    if generic is not None and not isinstance(generic, bool):
        raise CatalogEntryError(index, "generic", "must be true or false")

    given = tuple(k for k in map(str, entry) if k != "name")
    source = Source("user", ref, "", given)
    if existing is None:
        if memory is None:
            raise CatalogEntryError(index, "memory_gb", f"required for {name!r}, which the built-in catalog lacks")
        if arch is None:
            raise CatalogEntryError(index, "arch", f"required for {name!r} (arm64 or x86_64)")
        return GpuSpec(
            name=name,
            family=str(entry.get("family") or name),
            memory_gb=float(memory),
            arch=_arch(arch, name),
            vendor=str(entry.get("vendor") or "nvidia"),
            aliases=lists["aliases"],
            product_labels=lists["product_labels"],
            node_labels=lists["node_labels"],
            instance_types=lists["instance_types"],
            sources=(source,),
            generic=bool(generic),
        )
    return GpuSpec(
        name=existing.name,
        family=str(entry.get("family") or existing.family),
        memory_gb=float(memory) if memory is not None else existing.memory_gb,
        arch=_arch(arch, name) if arch is not None else existing.arch,
        vendor=str(entry.get("vendor") or existing.vendor),
        aliases=_merge(existing.aliases, lists["aliases"]),
        product_labels=_merge(existing.product_labels, lists["product_labels"]),
        node_labels=_merge(existing.node_labels, lists["node_labels"]),
        instance_types=_merge(existing.instance_types, lists["instance_types"]),
        reference_prices=existing.reference_prices,
        sources=(*existing.sources, source),
        generic=existing.generic if generic is None else bool(generic),
    )


def _arch(value: object, name: str) -> Literal["arm64", "x86_64"]:
    if value not in ARCHES:
        raise ValueError(f"{name}: arch must be one of {ARCHES}, got {value!r}")
    return cast(Literal["arm64", "x86_64"], value)


def _strings(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in cast(list[object], value or ()))


def _merge(old: tuple[str, ...], new: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*old, *new)))
