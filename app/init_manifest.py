"""`align init`: propose an align.yaml from what the repository already says about its GPUs.

Infrastructure files are read first and weigh most (Terraform, Kubernetes manifests and Helm values,
SkyPilot tasks, Compose files, Dockerfiles); code weighs less and prose least; tests, examples, lockfiles
and the other default exclusion classes (spec §1b) not at all. The GPU named with the most weight wins,
with the count, instance type and provider found beside it; the price is the catalog's reference price
for that instance type or GPU (marked to be checked). Several GPUs, each in its own infrastructure
folder, become several deployments with `paths:` that keep them apart.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from align.catalog import Catalog, GpuSpec
from align.scope.classes import classify
from align.scope.providers import normalize_provider, provider_of_instance_type, providers_in_text

INFRA_WEIGHT, CODE_WEIGHT, PROSE_WEIGHT = 5, 2, 1
_PROSE = (".md", ".rst", ".txt", ".mdx", ".adoc")
_CODE = (".py", ".ts", ".js", ".go", ".sh", ".toml", ".json", ".env", ".cfg", ".ini")
# GPUs per node or instance, as infrastructure files state them.
_PER_NODE_PATTERNS = (
    re.compile(r"nvidia\.com/gpu[\"']?\s*[:=]\s*[\"']?(\d+)"),  # Kubernetes limits / requests
    re.compile(r"accelerators\s*:\s*[\"']?[\w .-]+:(\d+)"),  # SkyPilot  accelerators: H100:8
    re.compile(r"(?:gpu_count|num_gpus|gpus_per_node|guest_accelerator_count)\s*[:=]\s*[\"']?(\d+)", re.IGNORECASE),
    re.compile(r"--gpus[= ](\d+)"),
)
# Nodes, replicas or instances of it.
_NODE_PATTERNS = (
    re.compile(r"\b(?:replicas|replicaCount|replica_count|num_nodes|node_count|instance_count|desired_size|"
               r"desired_capacity|min_replicas)\s*[:=]\s*[\"']?(\d+)", re.IGNORECASE),
    re.compile(r"^\s*count\s*=\s*(\d+)", re.MULTILINE),  # a Terraform resource's count
)
# GPUs an instance type implies: Lambda `gpu_8x_h100`, GCP `a3-highgpu-8g`, and AWS / Azure sizes.
_INSTANCE_GPUS = (
    (re.compile(r"\bgpu_(\d+)x_"), None),
    (re.compile(r"-(\d+)g$"), None),
    (re.compile(r"^(?:p4d|p4de|p5|p5e|p5en|p6-b200)\.48xlarge$|^p4de?\.24xlarge$|^g5\.48xlarge$|^g6e?\.48xlarge$"
                r"|^Standard_ND96\w*$"), 8),
    (re.compile(r"^g[56]e?\.(?:12|24)xlarge$"), 4),
    (re.compile(r"^g[456]\w*\.(?:\d*x)?large$"), 1),
)


@dataclass
class _Evidence:
    weight: float = 0.0
    files: dict[str, float] = field(default_factory=dict)
    counts: Counter[int] = field(default_factory=Counter)
    instance_types: Counter[str] = field(default_factory=Counter)
    providers: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Proposal:
    gpu: GpuSpec
    count: int
    provider: str | None
    instance_type: str | None
    price: float | None
    price_source: str | None
    paths: tuple[str, ...]  # folders / files that describe it (infrastructure first)
    evidence: tuple[str, ...]  # files that named it, for the comment


def file_kind(path: str) -> str:
    """"infra", "code", "prose" or "" (not read)."""
    name = path.rsplit("/", 1)[-1].lower()
    if name.startswith(("dockerfile", "containerfile")) or name.endswith((".dockerfile", ".tf", ".tfvars", ".hcl")):
        return "infra"
    if name.endswith((".yaml", ".yml")):
        return "infra"  # Kubernetes, Helm values, SkyPilot, Compose, CI: all describe what runs where
    if name.endswith(_CODE):
        return "code"
    if name.endswith(_PROSE):
        return "prose"
    return ""


def _weight(kind: str) -> float:
    return {"infra": INFRA_WEIGHT, "code": CODE_WEIGHT, "prose": PROSE_WEIGHT}.get(kind, 0)


def propose(files: Mapping[str, str], catalog: Catalog) -> list[Proposal]:
    """Deployments the files describe, most evidence first; empty when no GPU is named anywhere it counts."""
    evidence: dict[str, _Evidence] = defaultdict(_Evidence)
    specs: dict[str, GpuSpec] = {}
    counted: dict[str, set[str]] = {}
    for path in sorted(files, key=lambda p: (file_kind(p) != "infra", p)):
        kind = file_kind(path)
        if not kind or path in ("align.yaml", ".github/align.yaml"):
            continue
        text = files[path]
        if classify(path, text[:2000]) is not None:
            continue
        for line in text.splitlines():
            mentions = catalog.find_mentions(line) if line.strip() else []
            if not mentions:
                continue
            names = {m.gpu.name for m in mentions}
            share = _weight(kind) / len(names)  # a line listing several GPUs is a table, not a claim
            for mention in mentions:
                spec = mention.gpu
                specs[spec.name] = spec
                found = evidence[spec.name]
                found.weight += share
                found.files[path] = found.files.get(path, 0) + share
                if mention.kind == "instance_type":
                    found.instance_types[mention.text] += 1
                if len(names) == 1 and kind == "infra" and path not in counted.setdefault(spec.name, set()):
                    counted[spec.name].add(path)
                    count = _file_count(text, mention.text if mention.kind == "instance_type" else None)
                    if count is not None:
                        found.counts[count] += 1
            for provider in providers_in_text(line):
                for name in names:
                    evidence[name].providers[provider] += 1
    ranked = sorted(evidence.items(), key=lambda item: -item[1].weight)
    proposals = [_proposal(specs[name], found, catalog) for name, found in ranked if found.weight >= INFRA_WEIGHT]
    if not proposals and ranked:
        proposals = [_proposal(specs[ranked[0][0]], ranked[0][1], catalog)]
    return _separate(proposals)


def _first(patterns: Iterable[re.Pattern[str]], text: str) -> int | None:
    for pattern in patterns:
        match = pattern.search(text)
        if match is not None and 0 < int(match.group(1)) <= 4096:
            return int(match.group(1))
    return None


def instance_gpus(instance_type: str) -> int | None:
    """GPUs one instance of this type has, where its name or a known size tells."""
    for pattern, fixed in _INSTANCE_GPUS:
        match = pattern.search(instance_type)
        if match is not None:
            return fixed if fixed is not None else int(match.group(1))
    return None


def _file_count(text: str, instance_type: str | None) -> int | None:
    """GPUs an infrastructure file describes: per node (stated, or implied by the instance type) × nodes."""
    per_node = _first(_PER_NODE_PATTERNS, text)
    if per_node is None and instance_type is not None:
        per_node = instance_gpus(instance_type)
    nodes = _first(_NODE_PATTERNS, text)
    if per_node is None and nodes is None:
        return None
    return (per_node or 1) * (nodes or 1)


def _proposal(gpu: GpuSpec, found: _Evidence, catalog: Catalog) -> Proposal:
    instance = found.instance_types.most_common(1)[0][0] if found.instance_types else None
    provider = normalize_provider(provider_of_instance_type(instance)) if instance else None
    if provider is None and found.providers:
        provider = found.providers.most_common(1)[0][0]
    count = found.counts.most_common(1)[0][0] if found.counts else (instance_gpus(instance or "") or 1)
    price, source = _price(gpu, provider, instance)
    files = sorted(found.files, key=lambda p: (-found.files[p], p))
    infra = [p for p in files if file_kind(p) == "infra"]
    return Proposal(gpu, count, provider, instance, price, source, tuple(_folders(infra or files)), tuple(files[:8]))


def _price(gpu: GpuSpec, provider: str | None, instance: str | None) -> tuple[float | None, str | None]:
    prices = list(gpu.reference_prices)
    for wanted in (
        [p for p in prices if instance and p.instance_type == instance],
        [p for p in prices if provider and p.provider == provider],
        prices,
    ):
        if wanted:
            latest = max(wanted, key=lambda p: p.date)
            return latest.usd_per_gpu_hour, f"{latest.provider} {latest.instance_type}, {latest.date}"
    return None, None


def _folders(paths: Iterable[str]) -> list[str]:
    """`k8s/**` for a folder, the file itself at the root."""
    out: dict[str, None] = {}
    for path in paths:
        out.setdefault(f"{path.split('/', 1)[0]}/**" if "/" in path else path)
    return list(out)


def _separate(proposals: list[Proposal]) -> list[Proposal]:
    """Keep a second GPU as its own deployment only when its folders are not the first one's."""
    kept: list[Proposal] = []
    taken: set[str] = set()
    for proposal in proposals:
        own = tuple(p for p in proposal.paths if p not in taken)
        if kept and not own:
            continue
        kept.append(proposal if not kept else Proposal(**{**proposal.__dict__, "paths": own}))
        taken.update(own)
    return kept


def render_manifest(proposals: list[Proposal]) -> str:
    lines = [
        "# align.yaml proposed by `align init`: check every value, then commit it.",
        "# Reference: `align schema` (JSON Schema), `align validate`, `align catalog`.",
        "version: 1",
        "deployments:",
    ]
    several = len(proposals) > 1
    for index, proposal in enumerate(proposals):
        name = "production" if index == 0 else f"deployment-{index + 1}"
        lines.append(f"  - name: {name}")
        lines.append(f"    gpu: {_yaml_str(proposal.gpu.name)}")
        lines.append(f"    count: {proposal.count}")
        if proposal.price is not None:
            lines.append(f"    price_per_gpu_hour: {proposal.price:g}   # catalog reference ({proposal.price_source}): "
                         "put what you pay")
        else:
            lines.append("    price_per_gpu_hour: 0   # TODO: what you pay per GPU-hour (no reference price known)")
        if proposal.provider:
            lines.append(f"    provider: {proposal.provider}")
        if proposal.instance_type:
            lines.append(f"    instance_type: {_yaml_str(proposal.instance_type)}")
        paths = ", ".join(_yaml_str(p) for p in proposal.paths)
        if several:
            lines.append(f"    paths: [{paths}]   # the files that describe this deployment")
        else:
            lines.append(f"    # paths: [{paths}]   # the files that describe it; left out, every file is reviewed")
        if proposal.evidence:
            lines.append(f"    # found in: {', '.join(proposal.evidence)}")
    lines += [
        "fail_on: error",
        "# suppressions: allow   # honour `align: ignore[rule-id] reason` comments",
    ]
    return "\n".join(lines) + "\n"


def _yaml_str(value: str) -> str:
    plain = re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 ._/*-]*", value) and not value.endswith(" ")
    return value if plain and "*" not in value else '"' + value.replace('"', '\\"') + '"'
