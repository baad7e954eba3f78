"""Quantities as people write them: memory amounts, prices and arithmetic (parsed, never `eval`ed)."""

from __future__ import annotations

import pytest

from align.quantities import (
    UnsafeExpression,
    close,
    evaluate,
    find_memory,
    find_prices,
    format_money,
    format_number,
    memory_bytes,
    memory_number_text,
    parse_memory,
    parse_number,
    parse_price,
    period_from_name,
    same_memory,
    seconds_per,
    unit_from_name,
)

# ---- memory


@pytest.mark.parametrize(
    ("text", "unit", "gb"),
    [
        ("96GB", "GB", 96.0),
        ("96 GB", "GB", 96.0),
        ("96 GiB", "GiB", 96 * 2**30 / 1e9),
        ("96Gi", "GiB", 96 * 2**30 / 1e9),
        ("141G", "GB", 141.0),
        ("98,304 MiB", "MiB", 98304 * 2**20 / 1e9),
        ("97871Mi", "MiB", 97871 * 2**20 / 1e9),
        ("96000 MB", "MB", 96.0),
        ("2 TB", "TB", 2000.0),
        ("103079215104 bytes", "bytes", 103079215104 / 1e9),
    ],
)
def test_memory_units_convert_to_gb(text: str, unit: str, gb: float) -> None:
    (amount,) = find_memory(text)
    assert amount.unit == unit
    assert amount.gb == pytest.approx(gb)


def test_gib_and_mib_count_as_data_sheet_gigabytes() -> None:
    assert find_memory("96 GiB")[0].nominal_gb == pytest.approx(96)
    assert find_memory("98,304 MiB")[0].nominal_gb == pytest.approx(96)


@pytest.mark.parametrize(
    "text", ["NVIDIA-GH200-480GB", "100Gb/s", "900GB/s", "100 Gbps", "a 7B model", "v1.2GB", "GH200_96GB"]
)
def test_not_memory_amounts(text: str) -> None:
    assert find_memory(text) == []


def test_memory_amounts_keep_their_positions() -> None:
    text = "H200 (141GB) with 480 GB LPDDR"
    first, second = find_memory(text)
    assert text[first.start : first.end] == "141GB"
    assert (second.number, second.unit) == (480, "GB")


@pytest.mark.parametrize("stated", ["96 GB", "96 GiB", "98,304 MiB", "97871 MiB", "103 GB", "89GB"])
def test_same_memory_accepts_gb_gib_confusion_and_rounding(stated: str) -> None:
    assert same_memory(find_memory(stated)[0], 96)


@pytest.mark.parametrize("stated", ["141 GB", "80 GB", "144,384 MiB", "48 GiB", "120GB"])
def test_same_memory_rejects_other_gpus(stated: str) -> None:
    assert not same_memory(find_memory(stated)[0], 96)


def test_parse_memory_whole_values_and_defaults() -> None:
    amount = parse_memory("141", "GB")
    assert amount is not None and (amount.number, amount.unit) == (141, "GB")
    amount = parse_memory('"96Gi"')
    assert amount is not None and amount.unit == "GiB"
    bare = parse_memory("141")
    assert bare is not None and bare.unit == ""
    assert parse_memory("${GPU_MEMORY}") is None
    assert parse_memory("96GB or more") is None


@pytest.mark.parametrize(
    ("name", "unit"),
    [("gpu_memory_gb", "GB"), ("GPU_MEMORY_GB", "GB"), ("gpuMemoryGiB", "GiB"), ("vram_mib", "MiB"),
     ("memBytes", "bytes"), ("gpu_memory", None), ("debug", None)],
)
def test_unit_from_key_names(name: str, unit: str | None) -> None:
    assert unit_from_name(name) == unit


def test_replacement_keeps_unit_and_digit_style() -> None:
    assert memory_number_text(96, find_memory("141GB")[0]) == "96"
    assert memory_number_text(96, find_memory("144,384 MiB")[0]) == "98,304"
    assert memory_number_text(96, find_memory("141.0 GB")[0]) == "96.0"
    assert memory_number_text(288, find_memory("423Gi")[0]) == "288"
    assert memory_number_text(96, find_memory("151397597184 bytes")[0]) == "103079215104"


# ---- prices


@pytest.mark.parametrize(
    ("text", "amount", "period", "per_gpu"),
    [
        ("$2.49/hour", 2.49, "hour", False),
        ("2.49 USD/h", 2.49, "hour", False),
        ("$3,263/month", 3263.0, "month", False),
        ("$1.49/GPU-hour", 1.49, "hour", True),
        ("$1.49/gpu/hr", 1.49, "hour", True),
        ("$2.49 per hour per GPU", 2.49, "hour", True),
        ("$2.49 an hour", 2.49, "hour", False),
        ("$3.2k/month", 3200.0, "month", False),
        ("$150/day", 150.0, "day", False),
        ("$39,156/year", 39156.0, "year", False),
        ("costs $2 hourly", 2.0, "hour", False),
        ("$1.49", 1.49, None, False),
    ],
)
def test_prices(text: str, amount: float, period: str | None, per_gpu: bool) -> None:
    (price,) = find_prices(text)
    assert (price.amount, price.period, price.per_gpu, price.per_unit) == (amount, period, per_gpu, None)


@pytest.mark.parametrize(
    ("text", "unit"),
    [("$0.09/GB", "GB"), ("$0.023/GB-month", "GB-month"), ("$0.50 per 1M tokens", "1M tokens"),
     ("$3 per million tokens", "million tokens")],
)
def test_prices_per_something_else_are_not_rates(text: str, unit: str) -> None:
    (price,) = find_prices(text)
    assert price.period is None and price.per_unit == unit


def test_plain_numbers_are_not_prices() -> None:
    assert find_prices("3 GPUs, 730 hours, version 2.49") == []


def test_parse_price_and_period_names() -> None:
    price = parse_price("2.49")
    assert price is not None and price.amount == 2.49 and price.period is None
    price = parse_price('"$2.49/hour"')
    assert price is not None and price.period == "hour"
    assert period_from_name("price_per_gpu_hour") == "hour"
    assert period_from_name("GPU_HOURLY_COST") == "hour"
    assert period_from_name("monthlyCost") == "month"
    assert period_from_name("gpu_price") is None


def test_money_keeps_the_written_format() -> None:
    assert format_money(3263.1, find_prices("$5,453/month")[0]) == "3,263"
    assert format_money(1.49, find_prices("$2.49/hour")[0]) == "1.49"
    assert format_money(1.49, find_prices("$2/hour")[0]) == "1.49"
    assert format_money(3263.1, find_prices("$5.5k/month")[0]) == "3.3"


# ---- numbers


def test_numbers() -> None:
    assert parse_number("3,263.50") == 3263.5
    assert parse_number("1.2.3") is None
    assert parse_number("12,34") is None
    assert format_number(1087.7, "1,088") == "1,088"
    assert format_number(0.6809, "0.68") == "0.68"
    assert close(1088, 1087.7, stated_text="1088")
    assert close(32, 31.9, stated_text="32")
    assert not close(96, 141, stated_text="96")
    assert close(3263, 3263.1 * 1.009, relative=0.01, stated_text="3263")


# ---- the safe evaluator


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("60+40+30+11", 141),
        ("3 × 141", 423),
        ("3*96", 288),
        ("3 x 96", 288),
        ("(141-96)/141", 45 / 141),
        ("288 ÷ 3", 96),
        ("3 × 1.49 × 730", 3 * 1.49 * 730),
        ("-5 + 10", 5),
        ("3,263 / 3", 3263 / 3),
        ("141 − 96", 45),
    ],
)
def test_evaluate_arithmetic(expression: str, value: float) -> None:
    assert evaluate(expression) == pytest.approx(value)


@pytest.mark.parametrize(
    "expression",
    [
        "__import__('os').system('true')",
        "2**64",
        "2 ** 10",
        "a + 1",
        "len('x')",
        "(1).real",
        "[1, 2]",
        "1 if 1 else 2",
        "lambda: 1",
        "1 // 2",
        "7 % 3",
        "1 < 2",
        "True + 1",
        "'a' * 3",
        "1j * 2",
        "",
        "1 +",
        "9" * 300,
    ],
)
def test_evaluate_refuses_anything_but_arithmetic(expression: str) -> None:
    with pytest.raises(UnsafeExpression):
        evaluate(expression)


def test_division_by_zero_is_refused() -> None:
    with pytest.raises(UnsafeExpression):
        evaluate("1 / 0")


# ---- durations and memory sizes in arithmetic


@pytest.mark.parametrize(("unit", "seconds"), [("ms", 0.001), ("s", 1), ("sec", 1), ("min", 60), ("minutes", 60),
                                               ("h", 3600), ("hrs", 3600), ("Hours", 3600), ("days", 86400)])
def test_units_of_time_in_seconds(unit: str, seconds: float) -> None:
    assert seconds_per(unit) == seconds


@pytest.mark.parametrize("unit", ["m", "GB", "H", "S", "x", ""])
def test_what_is_no_unit_of_time(unit: str) -> None:
    assert seconds_per(unit) is None


def test_memory_sizes_read_decimal_or_binary() -> None:
    assert memory_bytes("GB", binary=False) == 1e9
    assert memory_bytes("MB", binary=True) == 2**20  # "1 GB + 256 MB = 1.25 GB"
    assert memory_bytes("Gi", binary=False) == 2**30  # binary units stay binary
    assert memory_bytes("KB", binary=True) == 1024
    assert memory_bytes("hours", binary=True) is None
