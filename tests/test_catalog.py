"""The GPU catalog: its data, and finding GPU names in text (token-bounded, longest first)."""

from __future__ import annotations

from pathlib import Path

import pytest

from align.catalog import Catalog, GpuSpec
from align.catalog.data import SOURCED_FIELDS, CatalogEntryError, load_builtin


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.builtin()


def mentions(catalog: Catalog, text: str) -> list[tuple[str, str, str]]:
    """(text as written, canonical name, kind) of every mention."""
    return [(m.text, m.gpu.name, m.kind) for m in catalog.find_mentions(text)]


def names(catalog: Catalog, text: str) -> list[str]:
    return [m.gpu.name for m in catalog.find_mentions(text)]


# --- the data file ------------------------------------------------------------------------------------


def test_builtin_is_cached(catalog: Catalog) -> None:
    assert Catalog.builtin() is catalog


@pytest.mark.parametrize(
    ("name", "memory", "arch"),
    [
        ("A10", 24, "x86_64"),
        ("A10G", 24, "x86_64"),
        ("L4", 24, "x86_64"),
        ("L40", 48, "x86_64"),
        ("L40S", 48, "x86_64"),
        ("A40", 48, "x86_64"),
        ("RTX A6000", 48, "x86_64"),
        ("A100 40GB", 40, "x86_64"),
        ("A100 80GB", 80, "x86_64"),
        ("A100", 40, "x86_64"),
        ("H100 SXM", 80, "x86_64"),
        ("H100 PCIe", 80, "x86_64"),
        ("H100 NVL", 94, "x86_64"),
        ("H100", 80, "x86_64"),
        ("H200", 141, "x86_64"),
        ("GH200", 96, "arm64"),
        ("GH200 144GB", 144, "arm64"),
        ("B200", 180, "x86_64"),
        ("GB200", 186, "arm64"),
        ("MI300X", 192, "x86_64"),
        ("T4", 16, "x86_64"),
        ("V100", 16, "x86_64"),
        ("V100 32GB", 32, "x86_64"),
        ("RTX 6000 Ada", 48, "x86_64"),
        ("Quadro RTX 6000", 24, "x86_64"),
    ],
)
def test_every_gpu_of_the_facts_table(catalog: Catalog, name: str, memory: float, arch: str) -> None:
    spec = catalog.resolve(name)
    assert spec is not None and spec.name == name
    assert (spec.memory_gb, spec.arch) == (memory, arch)


@pytest.mark.parametrize(
    ("name", "memory", "arch", "vendor"),
    [
        # the gaps the issue names, added on 2026-12-04
        ("MI355X", 288, "x86_64", "amd"),
        ("MI350X", 288, "x86_64", "amd"),
        ("MI325X", 256, "x86_64", "amd"),
        ("MI250X", 128, "x86_64", "amd"),
        ("MI210", 64, "x86_64", "amd"),
        ("Radeon Pro V520", 8, "x86_64", "amd"),
        ("B300", 270, "x86_64", "nvidia"),
        ("GB300", 278, "arm64", "nvidia"),
        ("RTX PRO 6000", 96, "x86_64", "nvidia"),
        ("RTX PRO 4500", 32, "x86_64", "nvidia"),
        ("RTX 4090", 24, "x86_64", "nvidia"),
        ("RTX 4080 SUPER", 16, "x86_64", "nvidia"),
        ("RTX 4080", 16, "x86_64", "nvidia"),
        ("RTX 4070 Ti SUPER", 16, "x86_64", "nvidia"),
        ("RTX 4070 Ti", 12, "x86_64", "nvidia"),
        ("RTX 4070 SUPER", 12, "x86_64", "nvidia"),
        ("RTX 4070", 12, "x86_64", "nvidia"),
        ("RTX 4060 Ti", 8, "x86_64", "nvidia"),
        ("RTX 4060 Ti 16GB", 16, "x86_64", "nvidia"),
        ("RTX 4060", 8, "x86_64", "nvidia"),
        ("A800", 80, "x86_64", "nvidia"),
        ("H800", 80, "x86_64", "nvidia"),
        ("H20", 96, "x86_64", "nvidia"),
        ("L20", 48, "x86_64", "nvidia"),
        ("A30", 24, "x86_64", "nvidia"),
        ("T4G", 16, "arm64", "nvidia"),
        ("P100", 16, "x86_64", "nvidia"),
        ("Tesla P4", 8, "x86_64", "nvidia"),
        ("K80", 12, "x86_64", "nvidia"),
    ],
)
def test_gpus_added_for_the_catalog_gaps(catalog: Catalog, name: str, memory: float, arch: str, vendor: str) -> None:
    spec = catalog.resolve(name)
    assert spec is not None and spec.name == name
    assert (spec.memory_gb, spec.arch, spec.vendor) == (memory, arch, vendor)
    assert all(source.date == "2026-12-04" for source in spec.sources if source.key not in {"G1", "R1"})


@pytest.mark.parametrize(
    ("text", "gpu", "kind"),
    [
        ("AMD Instinct MI355X", "MI355X", "name"),
        ("Instinct MI325X", "MI325X", "name"),
        ("NVIDIA B300", "B300", "name"),
        ("B300 SXM6 AC", "B300", "name"),
        ("NVIDIA-B300-SXM6-AC", "B300", "product_label"),
        ("b300", "B300", "name"),  # Karpenter's instance-gpu-name, written like the name
        ("GB300 NVL72", "GB300", "name"),
        ("NVIDIA RTX PRO 6000 Blackwell", "RTX PRO 6000", "name"),
        ("RTX PRO 6000 Blackwell Server Edition", "RTX PRO 6000", "name"),
        ("RTX 6000 Pro", "RTX PRO 6000", "name"),
        ("RTXPRO6000", "RTX PRO 6000", "name"),
        ("NVIDIA-RTX-PRO-6000-Blackwell-Server-Edition", "RTX PRO 6000", "product_label"),
        ("NVIDIA-RTX-PRO-6000-Blackwell-Max-Q-Workstation-Edition", "RTX PRO 6000", "product_label"),
        ("rtx-pro-server-6000", "RTX PRO 6000", "node_label"),
        ("nvidia-rtx-pro-6000", "RTX PRO 6000", "node_label"),
        ("rtx-pro-4500", "RTX PRO 4500", "node_label"),
        ("GeForce RTX 4090", "RTX 4090", "name"),
        ("NVIDIA GeForce RTX 4090", "RTX 4090", "name"),
        ("RTX4090", "RTX 4090", "name"),
        ("rtx_4090", "RTX 4090", "name"),
        ("NVIDIA-GeForce-RTX-4090", "RTX 4090", "product_label"),
        ("NVIDIA-GeForce-RTX-4080-SUPER", "RTX 4080 SUPER", "product_label"),
        ("NVIDIA-GeForce-RTX-4070-Ti", "RTX 4070 Ti", "product_label"),
        ("NVIDIA-A30", "A30", "product_label"),
        ("NVIDIA H20", "H20", "name"),
        ("Tesla T4G", "T4G", "name"),
        ("Tesla P100", "P100", "name"),
        ("nvidia-tesla-p100", "P100", "node_label"),
        ("nvidia-tesla-p4", "Tesla P4", "node_label"),
        ("nvidia-tesla-k80", "K80", "node_label"),
        ("radeon-pro-v520", "Radeon Pro V520", "node_label"),
    ],
)
def test_added_gpus_resolve_by_names_and_labels(catalog: Catalog, text: str, gpu: str, kind: str) -> None:
    found = catalog.resolve(text)
    assert found is not None and found.name == gpu
    assert mentions(catalog, f"uses {text} here") == [(text, gpu, kind)]


def test_t4g_nodes_are_arm64_and_found_by_karpenter_label(catalog: Catalog) -> None:
    assert mentions(catalog, "karpenter.k8s.aws/instance-gpu-name: t4g") == [("t4g", "T4G", "name")]
    t4g, t4 = catalog.resolve("g5g.2xlarge"), catalog.resolve("g4dn.xlarge")
    assert t4g is not None and t4 is not None
    assert (t4g.name, t4g.arch, t4.arch) == ("T4G", "arm64", "x86_64")
    assert not t4g.same_model(t4) and not t4.same_model(t4g)


def test_blackwell_ultra_families_stay_apart(catalog: Catalog) -> None:
    b300, gb300, gb200 = catalog.resolve("B300"), catalog.resolve("GB300"), catalog.resolve("GB200")
    assert b300 is not None and gb300 is not None and gb200 is not None
    assert not b300.same_model(gb300) and not gb300.same_model(b300) and not gb300.same_model(gb200)
    assert (b300.arch, gb300.arch) == ("x86_64", "arm64")


def test_rtx_4060_ti_is_a_generic_entry(catalog: Catalog) -> None:
    generic, sixteen = catalog.resolve("RTX 4060 Ti"), catalog.resolve("RTX 4060 Ti 16GB")
    assert generic is not None and sixteen is not None and generic.generic
    assert generic.same_model(sixteen) and sixteen.same_model(generic)


@pytest.mark.parametrize(
    ("short", "prefixed"),
    [
        ("NC24ads_A100_v4", "Standard_NC24ads_A100_v4"),
        ("NC48ads_A100_v4", "Standard_NC48ads_A100_v4"),
        ("NV36ads_A10_v5", "Standard_NV36ads_A10_v5"),
        ("NC6s_v3", "Standard_NC6s_v3"),
        ("NC12s_v3", "Standard_NC12s_v3"),
        ("ND96isr_H100_v5", "Standard_ND96isr_H100_v5"),
        ("ND96isr_H200_v5", "Standard_ND96isr_H200_v5"),
        ("ND96amsr_A100_v4", "Standard_ND96amsr_A100_v4"),
        ("NC40ads_H100_v5", "Standard_NC40ads_H100_v5"),
        ("NC4as_T4_v3", "Standard_NC4as_T4_v3"),
        ("ND96isr_MI300X_v5", "Standard_ND96isr_MI300X_v5"),
        ("ND128isr_GB300_v6", "Standard_ND128isr_GB300_v6"),
    ],
)
def test_azure_sizes_resolve_with_and_without_standard_prefix(catalog: Catalog, short: str, prefixed: str) -> None:
    a, b = catalog.resolve(short), catalog.resolve(prefixed)
    assert a is not None and b is not None and a.name == b.name
    assert catalog.resolve(prefixed.lower()) is b


def test_every_figure_has_a_source_with_a_date(catalog: Catalog) -> None:
    for spec in catalog.gpus:
        covered = {f for source in spec.sources for f in source.covers}
        present = {f for f in SOURCED_FIELDS if getattr(spec, f)}
        assert present <= covered, spec.name
        for source in spec.sources:
            assert source.ref and source.date, (spec.name, source)
        for price in spec.reference_prices:
            assert price.source in {"L1", "L2", "L3"} and price.date


def test_lambda_reference_prices_keep_their_dates(catalog: Catalog) -> None:
    gh200 = catalog.resolve("GH200")
    assert gh200 is not None
    assert {(p.date, p.usd_per_gpu_hour) for p in gh200.reference_prices} == {
        ("2025", 1.49),
        ("2026-04-11", 2.29),
        ("2026-09-20", 2.29),
    }
    h100_pcie = catalog.resolve("gpu_1x_h100_pcie")
    assert h100_pcie is not None and h100_pcie.name == "H100 PCIe"
    assert ("2025", 2.49) in {(p.date, p.usd_per_gpu_hour) for p in h100_pcie.reference_prices}


def test_a_figure_without_a_source_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "gpus.yaml"
    data.write_text(
        'read_on: "2026-11-27"\nsources: {S1: {ref: somewhere}}\n'
        "gpus:\n  - {name: X1, memory_gb: 8, arch: x86_64, product_labels: [NVIDIA-X1],"
        "     sources: {memory_gb: [S1], arch: [S1]}}\n"
    )
    with pytest.raises(ValueError, match="product_labels has no source"):
        load_builtin(data)


def test_every_spelling_resolves_to_its_own_gpu(catalog: Catalog) -> None:
    """No spelling is claimed by two GPUs (the generic entries hold the ambiguous ones)."""
    for spec in catalog.gpus:
        spellings = (spec.name, *spec.aliases, *spec.product_labels, *spec.node_labels, *spec.instance_types)
        for spelling in spellings:
            example = spelling.replace("*", "2xlarge" if "." in spelling else "40")
            found = catalog.resolve(example)
            assert found is not None and found.name == spec.name, (spelling, found and found.name)
            assert names(catalog, f"see {example}, here") == [spec.name], spelling


def test_generic_entries_and_same_model(catalog: Catalog) -> None:
    def spec(name: str) -> GpuSpec:
        found = catalog.resolve(name)
        assert found is not None
        return found

    assert spec("A100").generic and spec("H100").generic
    assert spec("A100").same_model(spec("A100 80GB"))  # "A100" text, an A100 80GB deployment
    assert spec("A100 80GB").same_model(spec("A100"))
    assert not spec("A100 40GB").same_model(spec("A100 80GB"))
    assert spec("H100").same_model(spec("H100 NVL"))
    assert not spec("H200").same_model(spec("GH200"))
    assert not spec("GH200").same_model(spec("H200"))
    assert spec("GH200").family == "GH200" != spec("H200").family


# --- token boundaries and longest names first -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GGH200", []),
        ("ggH200 -> gg cross-section at 200 GeV", []),
        ("we deploy on GH200 today", ["GH200"]),
        ("we deploy on gh200 today", ["GH200"]),
        ("H200 vs GH200", ["H200", "GH200"]),
        ("GH200/H200", ["GH200", "H200"]),
        ("L40S and L4 and L40", ["L40S", "L4", "L40"]),
        ("instance-gpu-name: l40s", ["L40S"]),
        ("A10G, then A10", ["A10G", "A10"]),
        ("H100 NVL beside H100", ["H100 NVL", "H100"]),
        ("H100-SXM5 and H100 SXM5 and h100_sxm", ["H100 SXM", "H100 SXM", "H100 SXM"]),
        ("A100-80GB a100_80gb A100 80GB A100 80 GB", ["A100 80GB"] * 4),
        ("A100-40GB then plain A100", ["A100 40GB", "A100"]),
        ("B2000 H1000 XH100 H100X", []),
        # Token hygiene (spec 1b): an identifier, file name, URL or variable that merely holds a GPU token.
        ("model_H100_weights", []),
        ("${DCGM_L4_TIMEOUT}", []),
        ("COPY requirements-h200.txt .", []),
        ("see https://example.com/docs/a100#h100-setup", []),
        ("name: simulator-llama2-7b-a100", []),
        ("NVIDIA_H100 GPU_TYPE_H100 H200_MEMORY_GB A100-based", ["H100", "H100", "H200", "A100"]),
        ("8xH100 and 4x A100 80GB", ["H100", "A100 80GB"]),
        ("0xA100 is a hex number", []),
        ("two H100s and four GH200s", ["H100", "GH200"]),
        ("Grace Hopper superchips", ["GH200"]),
        ("RTX 6000 Ada beats the RTX 6000", ["RTX 6000 Ada", "Quadro RTX 6000"]),
        ("RTX A6000 or A6000", ["RTX A6000", "RTX A6000"]),
        ("GH200 144GB differs from GH200", ["GH200 144GB", "GH200"]),
        # GPUs added on 2026-12-04: the same boundaries and longest-first rules
        ("GB300 next to B300", ["GB300", "B300"]),
        ("gb300 b300 GB300-NVL72", ["GB300", "B300", "GB300"]),
        ("B3000 GB3000 XB300 GGB300 AB300", []),
        ("Grace Blackwell Ultra, not Grace Blackwell", ["GB300", "GB200"]),
        ("RTX PRO 6000 is not the RTX 6000", ["RTX PRO 6000", "Quadro RTX 6000"]),
        ("RTX 6000 Pro Blackwell, RTX 6000 Ada, RTX 6000", ["RTX PRO 6000", "RTX 6000 Ada", "Quadro RTX 6000"]),
        ("RTX PRO 6000 Blackwell Server Edition and RTX PRO 4500", ["RTX PRO 6000", "RTX PRO 4500"]),
        ("H20 beside H200, not H2000 or H20X", ["H20", "H200"]),
        ("two H20s and an H800", ["H20", "H800"]),
        ("L20 L40 L4 L40S", ["L20", "L40", "L4", "L40S"]),
        ("L200 XL20", []),
        ("A800 vs A8000", ["A800"]),
        (
            "RTX 4070 Ti SUPER, RTX 4070 Ti, RTX 4070 SUPER, RTX 4070",
            [
                "RTX 4070 Ti SUPER",
                "RTX 4070 Ti",
                "RTX 4070 SUPER",
                "RTX 4070",
            ],
        ),
        ("RTX 4080 SUPER then RTX4080 then GeForce RTX 4090", ["RTX 4080 SUPER", "RTX 4080", "RTX 4090"]),
        ("RTX 4060 Ti 16GB, RTX 4060 Ti, RTX 4060", ["RTX 4060 Ti 16GB", "RTX 4060 Ti", "RTX 4060"]),
        ("MI355X MI350X MI325X MI300X MI250X MI210", ["MI355X", "MI350X", "MI325X", "MI300X", "MI250X", "MI210"]),
        ("T4G is not T4", ["T4G", "T4"]),
        ("Tesla P4 and Tesla P100 and Tesla K80", ["Tesla P4", "P100", "K80"]),
        ("P4 priority, run p4 sync", []),
        ("", []),
    ],
)
def test_find_mentions_is_token_bounded_and_longest_first(catalog: Catalog, text: str, expected: list[str]) -> None:
    assert names(catalog, text) == expected


def test_mention_offsets_and_text_as_written(catalog: Catalog) -> None:
    text = "GPU: gh200 (96 GB), not h200"
    found = catalog.find_mentions(text)
    assert [(text[m.start : m.end], m.text) for m in found] == [("gh200", "gh200"), ("h200", "h200")]
    assert found[0].start == 5 and found[0].end == 10


def test_mention_at_the_very_start_and_end(catalog: Catalog) -> None:
    found = catalog.find_mentions("H200")
    assert [(m.start, m.end, m.gpu.name) for m in found] == [(0, 4, "H200")]


def test_product_labels_never_give_memory(catalog: Catalog) -> None:
    found = catalog.find_mentions("nvidia.com/gpu.product: NVIDIA-GH200-480GB")
    assert [(m.text, m.kind) for m in found] == [("NVIDIA-GH200-480GB", "product_label")]
    assert found[0].gpu.name == "GH200" and found[0].gpu.memory_gb == 96
    assert mentions(catalog, "NVIDIA-H100-80GB-HBM3 NVIDIA-H200 NVIDIA-L40S Tesla-T4") == [
        ("NVIDIA-H100-80GB-HBM3", "H100 SXM", "product_label"),
        ("NVIDIA-H200", "H200", "product_label"),
        ("NVIDIA-L40S", "L40S", "product_label"),
        ("Tesla-T4", "T4", "product_label"),
    ]
    # the NVML device name (spaces instead of dashes) is the same label
    assert mentions(catalog, "NVIDIA GH200 480GB") == [("NVIDIA GH200 480GB", "GH200", "product_label")]
    # ... unless it is also how people write the name in prose
    assert mentions(catalog, "an NVIDIA H200 card") == [("NVIDIA H200", "H200", "name")]
    assert mentions(catalog, "instance-gpu-name: l4") == [("l4", "L4", "name")]
    assert mentions(catalog, "nvidia-l4") == [("nvidia-l4", "L4", "node_label")]


def test_node_labels(catalog: Catalog) -> None:
    assert mentions(catalog, "cloud.google.com/gke-accelerator: nvidia-h100-80gb") == [
        ("nvidia-h100-80gb", "H100 SXM", "node_label")
    ]
    assert mentions(catalog, "gke-accelerator: nvidia-tesla-t4") == [("nvidia-tesla-t4", "T4", "node_label")]
    assert names(catalog, "nvidia-h200-141gb nvidia-b200 nvidia-gb200") == ["H200", "B200", "GB200"]


@pytest.mark.parametrize(
    ("text", "gpu"),
    [
        ("instance_type: gpu_1x_gh200", "GH200"),
        ("gpu_8x_h100_sxm5", "H100 SXM"),
        ('instance_type = "p5.48xlarge"', "H100 SXM"),
        ("p5e.48xlarge", "H200"),
        ("p5en.48xlarge", "H200"),
        ("p4d.24xlarge", "A100 40GB"),
        ("p4de.24xlarge", "A100 80GB"),
        ("g5.2xlarge", "A10G"),
        ("G5.XLARGE", "A10G"),
        ("g6.2xlarge", "L4"),
        ("g6e.12xlarge", "L40S"),
        ("g4dn.xlarge", "T4"),
        ("p3.8xlarge", "V100 16GB"),
        ("p3dn.24xlarge", "V100 32GB"),
        ("machine_type: a3-highgpu-8g", "H100 SXM"),
        ("a3-ultragpu-8g", "H200"),
        ("a2-ultragpu-1g", "A100 80GB"),
        ("g2-standard-8", "L4"),
        ("a4x-highgpu-4g", "GB200"),
        ("vm_size: Standard_ND96isr_H100_v5", "H100 SXM"),
        ("Standard_NC40ads_H100_v5", "H100 NVL"),
        ("Standard_NC4as_T4_v3", "T4"),
        ("ND96isr_MI300X_v5", "MI300X"),
        ("p6-b200.48xlarge", "B200"),
        # added on 2026-12-04
        ("use g5g.xlarge", "T4G"),  # not the A10G of g5.*
        ("g5g.metal", "T4G"),
        ("gr6.4xlarge", "L4"),
        ("g6e.48xlarge", "L40S"),
        ("p5.4xlarge", "H100"),
        ("g7e.12xlarge", "RTX PRO 6000"),
        ("g7.2xlarge", "RTX PRO 4500"),
        ("p6-b300.48xlarge", "B300"),
        ("ml.p6e-gb200.36xlarge", "GB200"),
        ("g4ad.xlarge", "Radeon Pro V520"),
        ("p2.8xlarge", "K80"),
        ("machine_type: a3-edgegpu-8g", "H100 SXM"),
        ("a4x-maxgpu-4g-metal", "GB300"),
        ("vm_size: Standard_NC24ads_A100_v4", "A100 80GB"),
        ("NC96ads_A100_v4", "A100 80GB"),
        ("Standard_NV36ads_A10_v5", "A10"),
        ("NV72ads_A10_v5", "A10"),
        ("Standard_NC6s_v3", "V100 16GB"),
        ("NC24rs_v3", "V100 16GB"),
        ("Standard_ND40rs_v2", "V100 32GB"),
        ("Standard_ND96isr_H200_v5", "H200"),
        ("Standard_NC80adis_H100_v5", "H100 NVL"),
        ("Standard_ND96asr_v4", "A100 40GB"),
        ("Standard_ND128isr_GB300_v6", "GB300"),
        ("ND128isr_NDR_GB200_v6", "GB200"),
        ("Standard_NC128ds_xl_RTXPRO6000BSE_v6", "RTX PRO 6000"),
        ("Standard_ND96is_MI300X_v5", "MI300X"),
        ("shape: VM.GPU.A10.1", "A10"),
        ("VM.GPU.A10.2", "A10"),
        ("BM.GPU.A10.4", "A10"),
        ("BM.GPU.A100-v2.8", "A100 80GB"),
        ("BM.GPU4.8", "A100 40GB"),
        ("BM.GPU.H100.8", "H100"),
        ("BM.GPU.H200.8", "H200"),
        ("BM.GPU.B200.8", "B200"),
        ("BM.GPU.B300.8", "B300"),
        ("BM.GPU.GB200.4", "GB200"),
        ("BM.GPU.GB300.4", "GB300"),
        ("BM.GPU.L40S.4", "L40S"),
        ("BM.GPU.MI300X.8", "MI300X"),
        ("BM.GPU.MI355X.8", "MI355X"),
        ("BM.GPU.RTXPRO.8", "RTX PRO 6000"),
        ("VM.GPU3.1", "V100 16GB"),
        ("BM.GPU3.8", "V100 16GB"),
        ("VM.GPU2.1", "P100"),
        ("instance_type: gpu_2x_a100", "A100 40GB"),
        ("gpu_4x_a6000", "RTX A6000"),
        ("gpu_8x_v100_n", "V100 16GB"),
    ],
)
def test_instance_types_imply_a_gpu(catalog: Catalog, text: str, gpu: str) -> None:
    found = catalog.find_mentions(text)
    assert [(m.gpu.name, m.kind) for m in found] == [(gpu, "instance_type")]


@pytest.mark.parametrize(
    "text",
    ["p5 is a variable", "g5 = 3", "see g5 and p5.", "g5.*", "t3.large", "g6", "g7", "p2 = p1", "p2.x = 3", "gr6"],
)
def test_bare_family_prefixes_are_not_instance_types(catalog: Catalog, text: str) -> None:
    assert catalog.find_mentions(text) == []


def test_find_mentions_over_many_lines(catalog: Catalog) -> None:
    text = "\n".join(["replicas: 3  # on GH200", "no gpu here", "H200 141GB"] * 2000)
    found = catalog.find_mentions(text)
    assert len(found) == 4000
    assert {m.gpu.name for m in found} == {"GH200", "H200"}
    assert all(text[m.start : m.end] == m.text for m in found)


# --- resolve and nearest ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "gpu"),
    [
        ("GH200", "GH200"),
        ("gh200", "GH200"),
        ("GH200 96GB", "GH200"),
        ("gh200-96gb", "GH200"),
        ("Grace Hopper", "GH200"),
        ("NVIDIA-GH200-480GB", "GH200"),
        ("H100-SXM5", "H100 SXM"),
        ("H100 80GB", "H100"),
        ("a100_80gb", "A100 80GB"),
        ("nvidia-tesla-a100", "A100 40GB"),
        ("gpu_1x_gh200", "GH200"),
        ("g5.12xlarge", "A10G"),
        ("  L40S ", "L40S"),
        ("MI300X", "MI300X"),
    ],
)
def test_resolve_any_spelling(catalog: Catalog, name: str, gpu: str) -> None:
    found = catalog.resolve(name)
    assert found is not None and found.name == gpu


@pytest.mark.parametrize(
    "name",
    [
        "GGH200",
        "H2000",
        "gpu",
        "",
        "g5",
        "p5",
        "H100 SXM6",
        # added on 2026-12-04: spellings that must stay unknown
        "P4",
        "A2",
        "GB3000",
        "B3000",
        "Standard_NV6ads_A10_v5",  # a sixth of an A10: not an A10 deployment
        "g6f.xlarge",  # a fraction of an L4
        # kdevops' keys, not the names Lambda's API uses
        "gpu_1x_h100_sxm",
        "gpu_8x_a100_80gb",
    ],
)
def test_resolve_unknown(catalog: Catalog, name: str) -> None:
    assert catalog.resolve(name) is None


@pytest.mark.parametrize(
    ("token", "nearest"),
    [
        ("GGH200", "GH200"),
        ("H2000", "H200"),
        ("A1000", "A100"),
        ("L40SS", "L40S"),
        ("GH-200", "GH200"),
        ("MI300", "MI300X"),
        ("MI355", "MI355X"),
        ("GB3000", "GB300"),
        ("GH200", "GH200"),
        ("banana", None),
        ("Z9999", None),
        ("", None),
    ],
)
def test_nearest(catalog: Catalog, token: str, nearest: str | None) -> None:
    assert catalog.nearest(token) == nearest


# --- user entries (align.yaml `catalog:`) ----------------------------------------------------------------


def test_an_empty_catalog_knows_nothing() -> None:
    empty = Catalog()
    assert (empty.find_mentions("GH200"), empty.resolve("GH200"), empty.nearest("GH200")) == ([], None, None)


def test_extend_adds_a_new_gpu(catalog: Catalog) -> None:
    extended = catalog.extend([{"name": "MyCustomGPU", "memory_gb": 48, "arch": "x86_64", "aliases": ["MCG 48"]}])
    spec = extended.resolve("mycustomgpu")
    assert spec is not None and spec.memory_gb == 48 and spec.family == "MyCustomGPU"
    assert [s.key for s in spec.sources] == ["user"]
    assert names(extended, "runs on MCG-48 and on MyCustomGPU") == ["MyCustomGPU", "MyCustomGPU"]
    assert catalog.resolve("MyCustomGPU") is None  # the built-in catalog is unchanged


def test_extend_amends_a_known_gpu_by_name(catalog: Catalog) -> None:
    extended = catalog.extend([{"name": "gh200", "aliases": ["gh-box"], "memory_gb": 95}])
    spec = extended.resolve("gh-box")
    assert spec is not None and spec.name == "GH200"
    assert spec.memory_gb == 95 and spec.arch == "arm64"
    assert "Grace Hopper" in spec.aliases  # lists are added to, not replaced
    assert sum(1 for g in extended.gpus if g.family == "GH200") == 2  # replaced, not duplicated
    assert spec.sources[-1].key == "user"


def test_user_spellings_win_over_built_in_ones(catalog: Catalog) -> None:
    extended = catalog.extend([{"name": "Box", "memory_gb": 8, "arch": "arm64", "instance_types": ["gpu_1x_gh200"]}])
    found = extended.resolve("gpu_1x_gh200")
    assert found is not None and found.name == "Box"


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"memory_gb": 8, "arch": "arm64"}, "name"),
        ({"name": "New"}, "memory_gb"),
        ({"name": "New", "memory_gb": 8}, "arch"),
        ({"name": "New", "memory_gb": -1, "arch": "arm64"}, "memory_gb"),
        ({"name": "New", "memory_gb": 8, "arch": "amd64"}, "arch"),
        ({"name": "New", "memory_gb": 8, "arch": "arm64", "aliases": "X"}, "aliases"),
        ({"name": "New", "memory_gb": 8, "arch": "arm64", "colour": "red"}, "colour"),
    ],
)
def test_extend_rejects_bad_entries(catalog: Catalog, entry: dict[str, object], field: str) -> None:
    with pytest.raises(CatalogEntryError) as raised:
        catalog.extend([{"name": "GH200"}, entry])
    assert (raised.value.index, raised.value.field) == (1, field)


def test_a_catalog_with_instance_type_globs_survives_pickling_as_review_processes_send_it() -> None:
    import pickle

    from align.manifest import parse_manifest

    manifest = parse_manifest(
        "version: 1\ndeployments:\n  - {name: a, gpu: GH200, count: 1, price_per_gpu_hour: 1}\ncatalog:\n"
        '  - {name: X1, memory_gb: 10, arch: x86_64, instance_types: ["x*y*z", "q*"]}\n',
        "align.yaml", Catalog.builtin())
    text = "x1 qq xayaz"
    before = manifest.catalog.find_mentions(text)
    assert [m.text for m in before] == ["x1", "qq", "xayaz"]
    assert pickle.loads(pickle.dumps(manifest.catalog)).find_mentions(text) == before


def test_a_mention_that_stands_alone_is_never_embedded() -> None:
    """The matcher skips `is_embedded` for whole words (most mentions): the shortcut must agree with it."""
    import random

    from align.catalog.tokens import is_embedded, stands_alone

    catalog = Catalog.builtin()
    index = catalog._index
    rng = random.Random(5)
    pieces = ["H100", "GH200", "A100", "L4", "p4d.24xlarge", "nvidia", "-", "_", "/", ".", " ", "\n", "#", "$",
              "https://x/", "(", ")", '"', "80GB", "x", "8x", "DCGM", ":", "=", "sha256:", "0123456789abcdef"]
    checked = 0
    for _ in range(2_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
        for start, end in index._spans(text):
            if stands_alone(text, start, end):
                checked += 1
                assert not is_embedded(text, start, end, index._is_spelling), (text, start, end)
    assert checked > 500
