import json
from pathlib import Path

from lumen.cloud.lambda_api import parse_instance_types

FIXTURES = Path(__file__).parent / "fixtures"


def load():
    return parse_instance_types(json.loads((FIXTURES / "lambda_instance_types.json").read_text()))


def test_reads_gpu_and_memory_from_the_description():
    types = load()
    assert types["gpu_1x_h100_pcie"].gpu == "H100 PCIe"
    assert types["gpu_1x_h100_pcie"].gpu_memory_gb == 80
    assert types["gpu_8x_a100_80gb_sxm4"].gpu_count == 8


def test_only_grace_hosts_are_arm64():
    types = load()
    assert types["gpu_1x_gh200"].arch == "arm64"
    assert types["gpu_1x_h100_pcie"].arch == "x86_64"


def test_price_is_per_instance_hour():
    assert load()["gpu_8x_a100_80gb_sxm4"].price_per_hour == 14.32
