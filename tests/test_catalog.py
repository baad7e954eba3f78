"""The GPU catalog: its data, and finding GPU names in text (token-bounded, longest first)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.catalog import Catalog, GpuSpec
from app.catalog.data import SOURCED_FIELDS, CatalogEntryError, load_builtin


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
    ],
)
def test_instance_types_imply_a_gpu(catalog: Catalog, text: str, gpu: str) -> None:
    found = catalog.find_mentions(text)
    assert [(m.gpu.name, m.kind) for m in found] == [(gpu, "instance_type")]


@pytest.mark.parametrize(
    "text", ["p5 is a variable", "g5 = 3", "see g5 and p5.", "g5.*", "t3.large", "g6", "use g5g.xlarge"]
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


@pytest.mark.parametrize("name", ["GGH200", "H2000", "gpu", "", "g5", "p5", "H100 SXM6"])
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
