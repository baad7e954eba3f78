"""Quantities written by people: memory amounts, prices, and arithmetic, parsed without `eval`.

Rules compare what a file states with the deployment; this module turns "98,304 MiB", "$3,263/month" or
"3 × 141" into numbers, and numbers back into text in the style they were written.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import lru_cache

# ---------------------------------------------------------------- numbers

NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_NUMBER_RE = re.compile(NUMBER)


def parse_number(text: str) -> float | None:
    """ "3,263.50" -> 3263.5; None for anything that is not a plain number."""
    text = text.strip()
    if not _NUMBER_RE.fullmatch(text):
        return None
    return float(text.replace(",", ""))


def format_number(value: float, like: str = "") -> str:
    """`value` written the way `like` was: same decimals, thousands separators when `like` had them."""
    decimals = len(like.split(".", 1)[1]) if "." in like else 0
    if decimals == 0 and not float(value).is_integer() and not like:
        decimals = 2
    text = f"{value:,.{decimals}f}" if "," in like else f"{value:.{decimals}f}"
    return text


def close(stated: float, computed: float, *, relative: float = 0.0, stated_text: str = "") -> bool:
    """True when `stated` is `computed` up to rounding of the digits written in `stated_text`, or within
    `relative` of it."""
    decimals = len(stated_text.split(".", 1)[1]) if "." in stated_text else 0
    rounding = 0.5 * 10 ** (-decimals) + 1e-9
    return abs(stated - computed) <= max(rounding, relative * abs(computed))


# ---------------------------------------------------------------- memory


_UNIT_BYTES: dict[str, tuple[float, bool]] = {  # canonical unit -> (bytes, binary)
    "TB": (1e12, False),
    "TiB": (2.0**40, True),
    "GB": (1e9, False),
    "GiB": (2.0**30, True),
    "MB": (1e6, False),
    "MiB": (2.0**20, True),
    "KB": (1e3, False),
    "KiB": (2.0**10, True),
    "bytes": (1.0, False),
}

_UNIT_ALIASES = {
    "tb": "TB", "tib": "TiB", "ti": "TiB", "t": "TB",
    "gb": "GB", "gib": "GiB", "gi": "GiB", "g": "GB",
    "mb": "MB", "mib": "MiB", "mi": "MiB",
    "kb": "KB", "kib": "KiB", "ki": "KiB",
    "b": "bytes", "byte": "bytes", "bytes": "bytes",
}

# Token-bounded: not inside product labels ("GH200-480GB"), versions, or bandwidths ("100GB/s", "Gbps").
_MEMORY_RE = re.compile(
    rf"(?<![\w.\-/])(?P<number>{NUMBER})(?P<space>\s?)"
    r"(?P<unit>[TGM]i?B|[TGMK]i|[tgm]i?b|bytes|G(?=\b))"
    r"(?!\w|/s\b|\.\d)"
)

# What every memory amount contains, cheap to look for: a digit, at most one space, a unit's first letter.
# A line without it states no memory amount (`find_memory` would find none).
MEMORY_HINT = re.compile(r"\d\s?[TGMKtgmb]")


def canonical_unit(unit: str) -> str | None:
    """ "Gi" -> "GiB", "gb" -> "GB", "GB" -> "GB"; None when it is no memory unit."""
    return _UNIT_ALIASES.get(unit.strip().lower()) if unit.strip() not in ("Gb", "Mb", "Tb", "Kb") else None


_UNIT_SUFFIX = re.compile(r"(?:^|[_\-.\s]|(?<=[a-z]))(gib|gb|mib|mb|tib|tb|bytes)$", re.IGNORECASE)


def unit_from_name(name: str) -> str | None:
    """The memory unit a key name carries: `gpu_memory_gb`, `gpuMemoryGiB`, `VRAM_MIB`, `mem_bytes`."""
    match = _UNIT_SUFFIX.search(name)
    if not match:
        return None
    return _UNIT_ALIASES[match.group(1).lower()]


@dataclass(frozen=True, slots=True)
class MemoryAmount:
    """A memory amount as written: `number_text` and `unit` keep the writer's style for a replacement."""

    start: int
    end: int
    text: str
    number: float
    number_text: str
    unit: str  # canonical ("GB", "GiB", ...) or "" when the writer gave none
    unit_text: str = ""  # as written: "Gi", "gb", "GB"

    @property
    def gb(self) -> float:
        """Decimal gigabytes (10**9 bytes)."""
        return to_gb(self.number, self.unit or "GB")

    @property
    def nominal_gb(self) -> float:
        """Gigabytes the way GPU data sheets count them: a GiB counts as a GB (96 GiB == "96 GB" GPU)."""
        return nominal_gb(self.number, self.unit or "GB")


def to_gb(number: float, unit: str) -> float:
    size, _binary = _UNIT_BYTES[unit]
    return number * size / 1e9


def nominal_gb(number: float, unit: str) -> float:
    size, binary = _UNIT_BYTES[unit]
    return number * size / (2.0**30 if binary else 1e9)


def from_nominal_gb(gb: float, unit: str) -> float:
    """Inverse of `nominal_gb`: 96 GB as MiB is 98,304."""
    size, binary = _UNIT_BYTES[unit]
    return gb * (2.0**30 if binary else 1e9) / size


def find_memory(text: str) -> list[MemoryAmount]:
    """Every memory amount with an explicit unit in `text`."""
    found = []
    for match in _MEMORY_RE.finditer(text):
        unit = canonical_unit(match.group("unit"))
        number = parse_number(match.group("number"))
        if unit is None or number is None:
            continue
        found.append(
            MemoryAmount(
                start=match.start(), end=match.end(), text=match.group(0), number=number,
                number_text=match.group("number"), unit=unit, unit_text=match.group("unit"),
            )
        )
    return found


def parse_memory(text: str, default_unit: str | None = None) -> MemoryAmount | None:
    """A whole value as a memory amount: "96GB", "98304Mi", "96 GiB", or a bare number in `default_unit`."""
    stripped = text.strip().strip("\"'")
    offset = text.find(stripped)
    number = parse_number(stripped)
    if number is not None:
        unit = default_unit or ""
        return MemoryAmount(offset, offset + len(stripped), stripped, number, stripped, unit)
    amounts = find_memory(stripped)
    if len(amounts) == 1 and amounts[0].text == stripped:
        amount = amounts[0]
        return MemoryAmount(
            offset, offset + len(stripped), stripped, amount.number, amount.number_text, amount.unit, amount.unit_text
        )
    return None


def same_memory(stated: MemoryAmount, expected_gb: float, tolerance: float = 0.08) -> bool:
    """True when a stated amount is the expected GPU memory, allowing GB/GiB confusion and rounding
    (96 GB == 96 GiB == 98,304 MiB == 97,871 MiB as nvidia-smi reports it)."""
    if expected_gb <= 0:
        return False
    candidates = (stated.gb, stated.nominal_gb)
    return any(abs(value - expected_gb) <= tolerance * expected_gb for value in candidates)


def memory_number_text(expected_gb: float, stated: MemoryAmount) -> str:
    """The number to write instead of `stated.number_text` so that it states `expected_gb` in the same unit
    and digit style ("141" -> "96", "144,384" MiB -> "98,304")."""
    unit = stated.unit or "GB"
    if unit == "bytes" and stated.number % 2**20 == 0:
        value = expected_gb * 2.0**30  # written as a binary size, keep it binary
    else:
        value = from_nominal_gb(expected_gb, unit)
    if value.is_integer() or "." in stated.number_text:
        return format_number(value, stated.number_text)
    return f"{value:.2f}".rstrip("0").rstrip(".")


def format_gb(gb: float) -> str:
    """ "96 GB", "95.5 GB": for messages."""
    return f"{format_number(gb, '' if float(gb).is_integer() else '0.0')} GB"


# ---------------------------------------------------------------- durations

_SECONDS = {
    "ms": 0.001, "msec": 0.001, "millisecond": 0.001, "milliseconds": 0.001,
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "day": 86400.0, "days": 86400.0,
}


def seconds_per(unit: str) -> float | None:
    """ "min" -> 60, "h" -> 3600, "ms" -> 0.001; None when it is no unit of time ("m" is metres or minutes:
    none)."""
    return _SECONDS.get(unit.strip().lower()) if unit.strip() not in ("S", "H") else None


def memory_bytes(unit: str, *, binary: bool) -> float | None:
    """Bytes in one `unit` (canonical or as written). With `binary`, decimal units count as their binary
    namesakes ("1 GB + 256 MB = 1.25 GB"), the way people add memory sizes."""
    canonical = canonical_unit(unit)
    if canonical is None:
        return None
    size, is_binary = _UNIT_BYTES[canonical]
    if binary and not is_binary and canonical != "bytes":
        exponent = {"KB": 1, "MB": 2, "GB": 3, "TB": 4}.get(canonical, 0)
        return float(1024**exponent) if exponent else size
    return size


# ---------------------------------------------------------------- prices

PERIOD_HOURS: dict[str, float] = {"hour": 1, "day": 24, "week": 168, "month": 730, "year": 8760}

_PERIODS = {
    "h": "hour", "hr": "hour", "hrs": "hour", "hour": "hour", "hours": "hour", "hourly": "hour",
    "day": "day", "days": "day", "daily": "day", "d": "day",
    "week": "week", "weeks": "week", "wk": "week", "weekly": "week",
    "month": "month", "months": "month", "mo": "month", "mon": "month", "monthly": "month",
    "year": "year", "years": "year", "yr": "year", "yearly": "year", "annually": "year", "annual": "year",
}

_PRICE_RE = re.compile(
    r"(?P<prefix>(?:US)?\$\s?)?(?P<amount>" + NUMBER + r")(?P<k>[kK]\b)?"
    r"(?P<suffix>\s?(?:USD|usd|dollars))?"
    r"(?P<per>"
    r"(?:\s?(?:/|\bper\b|\ban?\b|\beach\b)\s?)"
    r"(?:[A-Z][A-Z0-9]*\d[A-Za-z0-9]*\s(?=GPU|gpu))?"  # "per A10G GPU-hour": the model before "GPU"
    r"(?P<gpu1>(?:GPU|gpu|Gpu)s?[\s\-/]?)?"
    r"(?P<unit>(?:[\d,.]+\s?[kKmM]?\s?)?[A-Za-z][\w\-]*(?:\s(?:tokens?|requests?|queries|calls|images))?)"
    r"(?P<gpu2>\s?(?:/|\bper\s)\s?(?:GPU|gpu)s?\b)?"
    r"|\s(?P<adverb>hourly|daily|weekly|monthly|yearly|annually)\b"
    r")?"
)

# What every price contains: a currency prefix or suffix. A line without one has no price (`find_prices`).
PRICE_NEEDLES = ("$", "USD", "usd", "dollars")


@dataclass(frozen=True, slots=True)
class Price:
    """A money amount as written. `period` is set for rates ("/hour"); `per_unit` for anything else
    ("/GB", "per 1M tokens"), which is never a GPU price."""

    start: int
    end: int
    text: str
    amount: float
    amount_text: str
    period: str | None
    per_gpu: bool
    per_unit: str | None = None
    thousands: bool = False  # written as "3.2k"


def find_prices(text: str) -> list[Price]:
    """Money amounts: "$2.49/hour", "2.49 USD/h", "$3,263/month", "$1.49/GPU-hour", "$0.09/GB", "$3.2k"."""
    prices = []
    for match in _PRICE_RE.finditer(text):
        if not (match.group("prefix") or match.group("suffix")):
            continue
        if match.start() > 0 and (text[match.start() - 1].isalnum() or text[match.start() - 1] == "."):
            continue
        amount = parse_number(match.group("amount"))
        if amount is None:
            continue
        if match.group("k"):
            amount *= 1000
        period, per_unit, per_gpu = None, None, bool(match.group("gpu1") or match.group("gpu2"))
        end = match.end()
        unit = match.group("unit")
        if match.group("adverb"):
            period = _PERIODS[match.group("adverb").lower()]
        elif unit:
            key = unit.lower()
            if key.startswith("gpu"):  # "/GPU-hour", "/gpu/hr"
                per_gpu, key = True, key.removeprefix("gpu").lstrip("-/ ")
            if key in _PERIODS:
                period = _PERIODS[key]
            elif key in ("gpu", "gpus") or not key:
                per_gpu = True
                period = None
            else:
                per_unit = unit
        elif match.group("per"):
            end = match.start("per")
        prices.append(
            Price(
                start=match.start(), end=end, text=text[match.start() : end], amount=amount,
                amount_text=match.group("amount"), period=period, per_gpu=per_gpu, per_unit=per_unit,
                thousands=bool(match.group("k")),
            )
        )
    return prices


def parse_price(text: str) -> Price | None:
    """A whole value as a price: "$2.49/hour", "2.49", "1.49 USD/h" (a bare number has no period)."""
    stripped = text.strip().strip("\"'")
    number = parse_number(stripped)
    if number is not None:
        return Price(0, len(stripped), stripped, number, stripped, None, False)
    prices = find_prices(stripped)
    if len(prices) == 1 and prices[0].text.strip() == stripped:
        return prices[0]
    return None


_LETTERS = re.compile(r"[a-z]+")
_CAMEL_HUMP = re.compile(r"([a-z])([A-Z])")


def period_from_name(name: str) -> str | None:
    """The period a key name carries: `price_per_gpu_hour`, `GPU_HOURLY_COST`, `monthlyCost`."""
    words = _LETTERS.findall(_CAMEL_HUMP.sub(r"\1_\2", name).lower())
    for word in reversed(words):
        if word in _PERIODS and len(word) > 2:
            return _PERIODS[word]
    return None


def format_money(amount: float, like: Price) -> str:
    """`amount` in the digit style of `like` ("$3,263" stays without cents, "3.2k" stays in thousands),
    with cents added when dropping them would change the price ("$2/hour" -> "$1.49/hour")."""
    if like.thousands:
        return format_number(amount / 1000, like.amount_text)
    text = format_number(amount, like.amount_text)
    if "." not in like.amount_text and amount < 100 and abs(float(text.replace(",", "")) - amount) >= 0.005:
        text = format_number(amount, like.amount_text + ".00")
    return text


# ---------------------------------------------------------------- arithmetic

class UnsafeExpression(ValueError):
    """The text is not plain arithmetic on numbers (names, calls, powers...)."""


_OPERATORS = str.maketrans({"×": "*", "x": "*", "X": "*", "÷": "/", "−": "-", "–": "-", "·": "*"})
_MAX_EXPRESSION = 200
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")


@lru_cache(maxsize=4096)  # the same expressions recur (one per operand unit reading, repeated figures)
def evaluate(expression: str) -> float:
    """Value of an arithmetic expression of numbers, + - * / (also × x ÷) and parentheses.

    Parsed with `ast` and walked by hand: names, calls, attributes, powers and everything else are
    refused with UnsafeExpression, so text from a pull request is never executed.
    """
    if len(expression) > _MAX_EXPRESSION:
        raise UnsafeExpression("expression too long")
    text = _THOUSANDS.sub("", expression).translate(_OPERATORS)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise UnsafeExpression(f"not arithmetic: {error.msg}") from None
    return _value(tree.body)


def _value(node: ast.AST) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
        operand = _value(node.operand)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div):
        left, right = _value(node.left), _value(node.right)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if right == 0:
            raise UnsafeExpression("division by zero")
        return left / right
    raise UnsafeExpression(f"{type(node).__name__} is not allowed")
