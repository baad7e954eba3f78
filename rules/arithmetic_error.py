"""arithmetic-error: a calculation written in text, comments or docs that is false."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from app.context import ReviewContext, SourceFile
from app.findings import Finding, Severity
from app.manifest import Deployment
from app.quantities import NUMBER, UnsafeExpression, canonical_unit, close, evaluate, format_number, parse_number
from app.rule_api import BaseRule
from rules._claims import is_human_text, is_table_row, table_cells
from rules._lines import changed_containing
from rules._text import apply_edits, kinds_of, reviewed_files

_UNIT = r"(?:[TGMK]i?B|[TGMK]i|GB|gb|%|h|hrs?|hours?|GPUs?)"
_OPERAND = rf"\$?{NUMBER}[kK]?(?:\s?{_UNIT}\b|%)?"
_OP = r"[+\-*/×x÷−–]"
# "60+40+30+11 = 96GB", "3 × 141 = 400", "(141-96)/141 = 32%", "$1.49 × 730 h = $1,088"
# Atomic terms and a bounded, possessive repetition: linear on any line (no catastrophic backtracking on
# "1 x 1 x 1 x ..." or thousands of parentheses).
_TERM = rf"(?>\(*\s*{_OPERAND}\s*\)*)"
_CALCULATION = re.compile(
    rf"(?<![\w.,/\-])(?P<expr>{_TERM}(?:\s*+{_OP}\s*+{_TERM}){{1,16}}+)"
    rf"\s*(?P<eq>=|≈|~=|equals)\s*(?P<result>\$?(?P<value>{NUMBER})(?P<k>[kK])?(?:\s?(?P<unit>{_UNIT})\b|%)?)"
    r"(?![\w\-]|[.,/]\d)"
)
_MAX_LINE = 4000
# A calculation has "=", "≈" or "equals" (see _calculations), a percentage has "%": other lines have neither.
_NEEDLES = ("=", "≈", "%", "equals")
# Cheap tests for what every match of _CALCULATION has (a number right after the "=", an operator right
# before a number) and every match of _PERCENT has (a number right before "%"): lines without are skipped.
_RESULT = re.compile(r"(?:[=≈]|equals)\s*\$?\d")
_OPERATION = re.compile(r"[+\-*/×x÷−–]\s*\(*\s*\$?\d")
_PERCENTAGE = re.compile(r"\d\s?%")
_OPERAND_RE = re.compile(_OPERAND)
_WRITTEN_UNIT = re.compile(r"(?:[TGMK]i?B|[TGMK]i|gb)\b")
_OPERATORS = re.compile(r"\s*[+*/×x÷]\s*|\s[\-−–]\s|(?<=\))[\-−–]|[\-−–](?=\()")
_HYPHEN_BETWEEN_DIGITS = re.compile(r"\d\s*[\-−–]\s*\d")
_OTHER_OPERATOR = re.compile(r"[+*/×x÷]")
_THOUSANDS_K = re.compile(r"(\d)[kK]\b")
_UNIT_AFTER_DIGIT = re.compile(rf"(\d)\s?{_UNIT}\b")
_PERCENT_VALUE = re.compile(r"(\d(?:\.\d+)?)%")
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4}")
_QUANTITY = rf"\$?{NUMBER}(?:\s?(?:[TGM]i?B|[TGM]i|GB|gb)\b)?(?:/\w+)?"
_QUANTITY_RE = re.compile(_QUANTITY)
_QUANTITY_PARTS = re.compile(rf"(?P<cur>\$)?(?P<n>{NUMBER})\s?(?P<unit>[A-Za-z]+)?")
_PAIR = re.compile(
    rf"(?<![\w.])(?P<a>{_QUANTITY})\s*(?:→|->|=>|\bvs\.?|\bversus\b|\binstead\s+of\b|\bto\b|\bcompared\s+(?:to|with)\b)"
    rf"\s*(?P<b>{_QUANTITY})(?![\w.]\d)"
)
_PERCENT = re.compile(r"(?<![\w.])(?P<sign>[−\-+])?\s?(?P<value>\d+(?:\.\d+)?)\s?%(?P<after>[^|,;()]{0,30})")
_DECREASE = re.compile(r"^\W*(?:\w+\s+)?(?:less|lower|cheaper|smaller|fewer|reduction|decrease|savings?|drop|down"
                       r"|off|cut|reduced)\b", re.IGNORECASE)
_INCREASE = re.compile(r"^\W*(?:\w+\s+)?(?:more|higher|larger|bigger|increase|expensive|up|growth|costlier)\b",
                       re.IGNORECASE)
_DECREASE_BEFORE = re.compile(r"\b(?:reduction|decrease|savings?|drop|cut|cheaper|less)\b[^%\d]{0,15}$",
                              re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Error:
    start: int  # the offending text on the line
    end: int
    result: tuple[int, int]  # columns of the wrong number
    stated: str
    expected: float
    written_like: str  # the stated number as written, for the replacement's style
    explanation: str


class ArithmeticError_(BaseRule):  # trailing underscore: the builtin ArithmeticError stays usable
    """Catches a calculation written in text, comments or docs that is false: a sum or product with its
    result ("60+40+30+11 = 96GB", it is 141; "3 × 141 = 400", it is 423) and a percentage that does not
    follow from the two numbers it compares ("$2.49 → $1.49 (25 % cheaper)", it is 40 %; "96GB vs
    141GB, 50% less", it is 32 %).

    Why it matters: a false total in a design doc or a comment is copied into capacity plans and budgets
    and outlives the code it described; a find-and-replace that changes one operand leaves it behind.

    Example: "# pools: 60+40+30+11 = 96GB" → suggests "# pools: 60+40+30+11 = 141GB".

    Rounding of the stated result is tolerated, and only text is read (comments, prose, tables, strings
    that read as sentences): code expressions, version numbers, dates, ranges and phone numbers are never
    calculations. Expressions are evaluated by a small parser of numbers and + - × ÷, never `eval`.

    Fix: safe. The suggestion rewrites only the wrong result, in the same number format; it corrects the
    arithmetic, not the operands, which other rules may flag.
    """

    id = "arithmetic-error"
    default_severity = Severity.WARNING
    summary = "A calculation written in text, comments or docs is false."
    fix_safe = True
    file_local = True  # a file's findings depend on that file and the manifest alone

    def check(self, ctx: ReviewContext) -> Iterator[Finding]:
        for source_file, deployment in reviewed_files(ctx):
            kinds = kinds_of(source_file)
            for line in changed_containing(source_file, _NEEDLES):
                text = source_file.line_text(line)
                if len(text) > _MAX_LINE:
                    continue  # generated or minified content is no one's calculation
                calculation = _RESULT.search(text) is not None and _OPERATION.search(text) is not None
                percentage = _PERCENTAGE.search(text) is not None
                if not (calculation or percentage):
                    continue
                found = [*(_calculations(text) if calculation else ()), *(_percentages(text) if percentage else ())]
                errors = [e for e in found if is_human_text(kinds, source_file, line, e.start)]
                if errors:
                    yield self._finding(source_file, line, errors, deployment)

    def _finding(self, source_file: SourceFile, line: int, errors: list[_Error], deployment: Deployment) -> Finding:
        text = source_file.line_text(line)
        edits = []
        for error in errors:
            if error.written_like:
                edits.append((*error.result, _format_like(error.expected, error.written_like)))
        first = errors[0]
        written = text[first.start : first.end].strip()
        try:
            suggestion = apply_edits(text, edits) if edits else None
        except ValueError:
            suggestion = None
        return self.finding(
            source_file,
            line,
            f"`{written}` is false: {first.explanation}.",
            evidence=" ".join(text[e.start : e.end].strip() for e in errors),
            deployment=deployment,
            suggestion=suggestion,
            component="Arithmetic",
            stated=first.stated,
            expected=_format_like(first.expected, first.written_like or "0.0"),
        )


# ---- sums and products


def _calculations(text: str) -> Iterator[_Error]:
    if "=" not in text and "≈" not in text and "equals" not in text:
        return
    for match in _CALCULATION.finditer(text):
        expr = match.group("expr")
        if _DATE.search(expr) or not _is_calculation(expr):
            continue
        operands = _OPERAND_RE.findall(expr)
        written_units = _WRITTEN_UNIT.findall(expr + match.group("result"))
        units = {canonical_unit(u) or u for u in written_units}
        if len(units) > 1:
            continue  # "1 TB / 1024 = 1 GB" converts units: not plain arithmetic on what is written
        try:
            value = evaluate(_plain(expr))
        except UnsafeExpression:
            continue
        stated_text = match.group("value")
        stated = parse_number(stated_text)
        if stated is None:
            continue
        if match.group("k"):
            stated *= 1000
        percent_result = match.group("result").endswith("%") and not any(o.endswith("%") for o in operands)
        candidates = [value * 100] if percent_result else [value]
        relative = 0.02 if match.group("eq") != "=" else 0.005
        if any(close(stated, c, relative=relative, stated_text=stated_text) for c in candidates):
            continue
        expected = candidates[0] / (1000 if match.group("k") else 1)
        shown = " ".join(expr.split())
        yield _Error(
            start=match.start("expr") + len(expr) - len(expr.lstrip()),
            end=match.end("result"),
            result=(match.start("value"), match.end("value")),
            stated=match.group("result"), expected=expected, written_like=stated_text,
            explanation=f"{shown} = {_show(candidates[0])}{'%' if percent_result else ''}",
        )


def _is_calculation(expr: str) -> bool:
    """Ranges ("1-3"), IDs and phone numbers use a bare hyphen: count it as minus only with spaces around
    it or with another operator beside it."""
    operators = _OPERATORS.findall(expr)
    if operators:
        return True
    return bool(_HYPHEN_BETWEEN_DIGITS.search(expr)) and bool(_OTHER_OPERATOR.search(expr))


def _plain(expr: str) -> str:
    """The expression with units, currency and thousands separators removed ("$1.49 × 730 h" -> "1.49 * 730")."""
    out = _THOUSANDS_K.sub(r"\g<1>*1000", expr)
    out = _UNIT_AFTER_DIGIT.sub(r"\1", out)
    out = _PERCENT_VALUE.sub(r"(\1/100)", out)
    return out.replace("$", "")


# ---- percentages


def _percentages(text: str) -> Iterator[_Error]:
    """A percentage beside a pair of quantities it compares: "$2.49 → $1.49 (25 % cheaper)", or a table
    row "| Memory/GPU | 141GB | 96GB | 32% less |"."""
    percents = list(_PERCENT.finditer(text))
    if len(percents) != 1:
        return  # several percentages on one line: which pair each one means is guesswork
    percent = percents[0]
    pairs = [(m.group("a"), m.group("b")) for m in _PAIR.finditer(text)]
    if not pairs and is_table_row(text):
        cells = [c.text for c in table_cells(text)]
        quantities = [c for c in cells if _QUANTITY_RE.fullmatch(c)]
        if len(quantities) == 2:
            pairs = [(quantities[0], quantities[1])]
    if len(pairs) != 1:
        return
    a, b = (_quantity(q) for q in pairs[0])
    if a is None or b is None or a[1] != b[1] or a[0] <= 0 or b[0] <= 0:
        return
    high, low = max(a[0], b[0]), min(a[0], b[0])
    stated_text = percent.group("value")
    stated = float(stated_text)
    decrease = (high - low) / high * 100
    increase = (high - low) / low * 100
    after = percent.group("after")
    if _DECREASE.match(after) or _DECREASE_BEFORE.search(text[: percent.start()]):
        candidates = [decrease]
    elif _INCREASE.match(after):
        candidates = [increase]
    else:
        candidates = [decrease, increase, low / high * 100]
    if any(abs(stated - c) <= 1.0 for c in candidates):
        return
    expected = candidates[0]
    writable = high != low  # "96GB → 96GB, 31.9% reduction": the numbers are wrong, not the percentage
    yield _Error(
        start=min(percent.start(), text.find(pairs[0][0])), end=max(percent.end("value") + 1, 0),
        result=(percent.start("value"), percent.end("value")), stated=f"{stated_text}%", expected=expected,
        written_like=stated_text if writable else "",
        explanation=f"{pairs[0][0]} vs {pairs[0][1]} is a {_show(expected, 1)}% difference",
    )


def _quantity(text: str) -> tuple[float, str] | None:
    match = _QUANTITY_PARTS.match(text.strip())
    if match is None:
        return None
    number = parse_number(match.group("n"))
    if number is None:
        return None
    unit = match.group("unit") or ""
    return number, "$" if match.group("cur") else (canonical_unit(unit) or unit)


def _format_like(value: float, like: str) -> str:
    decimals = len(like.split(".", 1)[1]) if "." in like else 0
    if decimals == 0 and abs(value) < 10 and not float(round(value, 6)).is_integer():
        decimals = 2
    return format_number(round(value, decimals), like)


def _show(value: float, decimals: int = 2) -> str:
    if abs(value - round(value)) < 1e-9:
        return f"{round(value):,}"
    return f"{value:,.{decimals}f}".rstrip("0").rstrip(".")
