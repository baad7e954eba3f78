"""Values of the node labels that select a GPU, checked against the catalog's labels for that key.

`cloud.google.com/gke-accelerator: nvidia-tesla-l4` names the L4, but GKE labels L4 nodes `nvidia-l4`: the
selector matches no node. A value is wrong when it names a GPU the catalog knows (or is one or two edits
from one of its labels, for `nvidia.com/gpu.product`) and is not one of the catalog's labels for that key;
the suggestion is the catalog's exact label. Values of GPUs the catalog has no label for under that key
are left alone: a gap in the catalog is not an error in the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from align.catalog import Catalog, GpuSpec

# key -> (what to call its value in a message, which catalog labels belong to it)
_KEYS: dict[str, tuple[str, Callable[[GpuSpec], tuple[str, ...]]]] = {
    "cloud.google.com/gke-accelerator": (
        "GKE accelerator label", lambda g: tuple(x for x in g.node_labels if x.startswith("nvidia-"))),
    "karpenter.k8s.aws/instance-gpu-name": (
        "Karpenter GPU name", lambda g: tuple(x for x in g.node_labels if not x.startswith("nvidia-"))),
    "nvidia.com/gpu.product": ("`nvidia.com/gpu.product` value", lambda g: g.product_labels),
}
LABEL_NEEDLES = ("gke-accelerator", "/gpu.product", "instance-gpu-name")  # on every line `wrong_labels` reads
_LABEL = re.compile(
    r"(?P<key>cloud\.google\.com/gke-accelerator|karpenter\.k8s\.aws/instance-gpu-name|nvidia\.com/gpu\.product)"
    r"[\"']?\s*(?::|=)\s*[\"']?(?P<value>[A-Za-z0-9][A-Za-z0-9_.\-]*)(?P<end>[\"']?)(?![\w.\-{$(<*])"
)
# Suffixes that stay valid on a known label: GPU sharing (`-SHARED`), MIG profiles, GKE virtual workstations.
_VARIANT = re.compile(r"-(?:SHARED|MIG-\d+g\.\d+gb(?:\+me)?)$|-vws$", re.IGNORECASE)
_DIGITS = re.compile(r"\D")
_NEAR = 2  # nvidia.com/gpu.product: only near-misses of a catalog label (many real values are not in it)


@dataclass(frozen=True, slots=True)
class WrongLabel:
    start: int
    end: int
    key: str
    value: str
    what: str  # "GKE accelerator label"
    meant: tuple[str, ...]  # the catalog's labels it may mean, best first


def label_index(catalog: Catalog) -> dict[str, frozenset[str]]:
    """Key -> the catalog's labels for it (as `_exact` compares them). Built once per review."""
    return {key: frozenset(_exact(key, label) for gpu in catalog.gpus for label in labels_of(gpu))
            for key, (_what, labels_of) in _KEYS.items()}


def wrong_labels(catalog: Catalog, text: str, deployment_gpu: GpuSpec, distance: Callable[[str, str], int],
                 index: Callable[[], dict[str, frozenset[str]]]) -> list[WrongLabel]:
    """`index` gives `label_index(catalog)`, asked only when the text has a label to check."""
    found = []
    for match in _LABEL.finditer(text) if any(n in text for n in LABEL_NEEDLES) else ():
        key, value = match.group("key"), match.group("value")
        what, labels_of = _KEYS[key]
        known = index()[key]
        base = _VARIANT.sub("", value)
        if _exact(key, value) in known or _exact(key, base) in known:
            continue
        gpus = _named_gpus(catalog, base)
        if not gpus:
            continue
        meant = _labels_of_gpus(catalog, gpus, deployment_gpu, labels_of)
        if key == "nvidia.com/gpu.product":  # `Tesla-V100-PCIE-32GB` is another product than `...-16GB`
            meant = tuple(m for m in meant if distance(base.lower(), m.lower()) <= _NEAR
                          and _DIGITS.sub("", m) == _DIGITS.sub("", base))
        if not meant:
            continue  # the catalog has no label of that GPU for this key
        meant = tuple(sorted(meant, key=lambda m: distance(base.lower(), m.lower())))
        found.append(WrongLabel(match.start("value"), match.end("value"), key, value, what, meant))
    return found


def _named_gpus(catalog: Catalog, value: str) -> list[GpuSpec]:
    spec = catalog.resolve(value)
    if spec is not None:
        return [spec]
    mentions = catalog.find_mentions(value)
    gpus = list({m.gpu.name: m.gpu for m in mentions}.values())
    return gpus if len({g.family for g in gpus}) == 1 else []


def _labels_of_gpus(catalog: Catalog, gpus: list[GpuSpec], deployment_gpu: GpuSpec,
                    labels_of: Callable[[GpuSpec], tuple[str, ...]]) -> tuple[str, ...]:
    """The labels of the GPUs a value names: of the deployment's GPU when it is one of them, else of every
    variant of a family-level name ("A100")."""
    if any(deployment_gpu.same_model(g) for g in gpus) and labels_of(deployment_gpu):
        return labels_of(deployment_gpu)
    variants = [g for g in catalog.gpus if any(g.name == n.name or (n.generic and g.family == n.family)
                                               for n in gpus)]
    return tuple(dict.fromkeys(label for g in variants for label in labels_of(g)))


def _exact(key: str, value: str) -> str:
    """Node label values are matched exactly; `nvidia.com/gpu.product` values are compared ignoring case, as
    the catalog does not carry every spelling the device plugin reports."""
    return value.lower() if key == "nvidia.com/gpu.product" else value
