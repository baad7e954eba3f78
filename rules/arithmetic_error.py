"""arithmetic-error: a calculation written in text, comments or docs that is false."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache, partial

from align.context import ReviewContext, SourceFile
from align.findings import Finding, Severity
from align.manifest import Deployment
from align.quantities import (
    NUMBER,
    UnsafeExpression,
    canonical_unit,
    close,
    evaluate,
    format_number,
    memory_bytes,
    parse_number,
    seconds_per,
)
from align.rule_api import BaseRule
from align.rules._claims import is_human_text, is_table_row, table_cells
from align.rules._lines import changed_containing
from align.rules._text import apply_edits, kinds_of, reviewed_files

_MEMORY_UNIT = r"(?:[TGMK]i?B|[TGMK]i|gb)"
_TIME_UNIT = r"(?:ms|secs?|seconds?|s|mins?|minutes?|h|hrs?|hours?|days?)"
_UNIT = rf"(?:{_MEMORY_UNIT}|{_TIME_UNIT}|%|GPUs?)"
_OPERAND = rf"\$?{NUMBER}[kK]?(?:\s?{_UNIT}\b|%)?"
_OP = r"[+\-*/×x÷−–]"
# Words that say what an operand counts ("1 GB GPU pool + 256 MB pinned pool", "4 per g5.12xlarge instance
# × 3 instances"): letters first, never an operator ("x") or the equals sign written out.
_WORD = r"(?![xX]\b|equals\b)[A-Za-z][\w\-]*(?:\.\w[\w\-]*)*"
_WORDS = rf"(?:\s+{_WORD}){{0,4}}"
# "60+40+30+11 = 96GB", "3 × 141 = 400", "(141-96)/141 = 32%", "$1.49 × 730 h = $1,088"
# Atomic terms and a bounded, possessive repetition: linear on any line (no catastrophic backtracking on
# "1 x 1 x 1 x ..." or thousands of parentheses).
_TERM = rf"(?>\(*\s*{_OPERAND}{_WORDS}\s*\)*)"
_CALCULATION = re.compile(
    rf"(?<![\w.,/\-])(?P<expr>{_TERM}(?:\s*+{_OP}\s*+{_TERM}){{1,16}}+)"
    rf"\s*(?P<eq>=|≈|~=|equals)\s*(?P<result>\$?(?P<value>{NUMBER})(?P<k>[kK])?(?:\s?(?P<unit>{_UNIT})\b|%)?)"
    r"(?![\w\-]|[.,/]\d)"
)
# A stated total beside the calculation it should equal: "8 total GPUs available (4 per g5.12xlarge instance
# × 3 instances)", "a total of 288 GB (3 × 96 GB)".
_INNER_TERM = rf"(?>{_OPERAND}{_WORDS})"
_TOTAL_BESIDE = re.compile(
    rf"(?<![\w.,/\-])(?P<result>\$?(?P<value>{NUMBER})(?P<k>[kK])?(?:\s?(?P<unit>{_UNIT})\b)?)"
    rf"(?P<between>{_WORDS})\s*\((?P<expr>{_INNER_TERM}(?:\s*+{_OP}\s*+{_INNER_TERM}){{1,16}}+)\s*\)"
)
_TOTAL_WORD = re.compile(r"\b(?:total|combined|altogether|overall|aggregate)\b", re.IGNORECASE)
_TOTAL_OF = re.compile(r"\b(?:total|sum)\s+of\s+$", re.IGNORECASE)
# One token of an expression: a parenthesis, an operand (number, unit), an operator, or a word.
_TOKEN = re.compile(
    rf"\s*(?:(?P<open>\()|(?P<close>\))|(?P<cur>\$)?(?P<num>{NUMBER})(?P<k>[kK](?![A-Za-z]))?"
    rf"(?:\s?(?P<unit>{_UNIT})\b|(?P<pct>%))?|(?P<op>[+*/×÷−–\-]|[xX](?![A-Za-z_]))|(?P<word>{_WORD}))"
)
# After a result: the unit of time of "2 GPU-hours", "40 node-minutes".
_RESULT_TIME = re.compile(rf"\s?(?:[A-Za-z]+-)?(?P<unit>{_TIME_UNIT})\b")
# The words after a result ("= 6 schedulable GPUs", "= 2 GPU-hours"): what the result counts.
_RESULT_WORDS = re.compile(r"(?:[\s\-]+[A-Za-z]+){1,3}")
_WORD_PARTS = re.compile(r"[A-Za-z]+")
# Where a clause starts: what comes before an expression written with words must hold no number of its own
# ("3 nodes with 8 GPUs each + 2 spare = 26": the sum does not start at 8).
_CLAUSE_START = re.compile(r".*(?:[:;(#|!?=—–]|\.\s|,\s|\s-\s|^)", re.DOTALL)
_NUMBER_TOKEN = re.compile(r"(?<![A-Za-z0-9_.\-])\$?\d")
_TIME_OF_DAY = re.compile(r"\d{1,2}:\d{2}")
_MAX_LINE = 4000
# A calculation has "=", "≈" or "equals" (see _calculations), a percentage has "%", a total beside its
# calculation the word (see _TOTAL_WORD): other lines have none of them.
_TOTAL_NEEDLES = ("total", "Total", "TOTAL", "combined", "Combined", "altogether", "overall", "Overall",
                  "aggregate", "Aggregate")
_NEEDLES = ("=", "≈", "%", "equals", *_TOTAL_NEEDLES)
# Cheap tests for what every match of _CALCULATION has (a number right after the "=", an operator right
# before a number) and every match of _PERCENT has (a number right before "%"): lines without are skipped.
_CHAINED = re.compile(r"\s*[/*×÷+−-]\s*\(?\$?\d")  # an operator and another operand right after a result
_RESULT = re.compile(r"(?:[=≈]|equals)\s*\$?\d")
_OPERATION = re.compile(r"[+\-*/×x÷−–]\s*\(*\s*\$?\d")
_PERCENTAGE = re.compile(r"\d\s?%")
_OPERATORS = re.compile(r"\s*[+*/×x÷]\s*|\s[\-−–]\s|(?<=\))[\-−–]|[\-−–](?=\()")
_HYPHEN_BETWEEN_DIGITS = re.compile(r"\d\s*[\-−–]\s*\d")
_OTHER_OPERATOR = re.compile(r"[+*/×x÷]")
_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4}")
_QUANTITY = rf"\$?{NUMBER}(?:\s?(?:[TGM]i?B|[TGM]i|GB|gb|{_TIME_UNIT})\b)?(?:/\w+)?"
_QUANTITY_RE = re.compile(_QUANTITY)
# A table cell with the percentage beside its quantity: "$0.072 (41% cheaper)".
_QUANTITY_WITH_PERCENT = re.compile(rf"(?P<q>{_QUANTITY})\s*\([^()%]*\d\s?%[^()]*\)")
_QUANTITY_PARTS = re.compile(rf"(?P<cur>\$)?(?P<n>{NUMBER})\s?(?P<unit>[A-Za-z]+)?")
_PAIR = re.compile(
    rf"(?<![\w.])(?P<a>{_QUANTITY})\s*(?:→|->|=>|\bvs\.?|\bversus\b|\binstead\s+of\b|\bto\b|\bcompared\s+(?:to|with)\b)"
    rf"\s*(?P<b>{_QUANTITY})(?![\w.]\d)"
)
_RANGE_BEFORE = re.compile(r"\b(?:between|from)\s+\d+(?:\.\d+)?\s*%?\s*(?:to|and|-|–)\s*$", re.IGNORECASE)
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

    Terms may carry units and words ("1 GB GPU pool + 256 MB pinned pool = 1.5 GB": memory units are
    converted, read as binary or decimal; "2 e2e jobs x 1.5 h timeout = 2 GPU-hours": so are units of time),
    then the result must count what an operand counts (a unit of the same kind, dollars, or one of their
    words), and the calculation must start its clause. A total stated beside its calculation ("8 total GPUs
    (4 per instance × 3 instances)") is checked too, without a fix: which side is wrong cannot be told.
    Percentages compare prices, memory sizes and durations ("from 265s to 50s, a 60% reduction"), also in a
    table cell beside its quantity ("$0.072 (51% cheaper)").

    Rounding of the stated result is tolerated, and only text is read (comments, prose, tables, strings
    that read as sentences): code expressions, version numbers, dates, times of day, ranges, URLs, shell
    parameters and phone numbers are never calculations. Expressions are evaluated by a small parser of
    numbers and + - × ÷, never `eval`.

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
                total = "(" in text and _OPERATION.search(text) is not None and _TOTAL_WORD.search(text) is not None
                if not (calculation or percentage or total):
                    continue
                found = [*(_calculations(text) if calculation else ()), *(_totals_beside(text) if total else ()),
                         *(_percentages(text) if percentage else ())]
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
        error = _check(text, match, match.group("eq"))
        if error is not None:
            yield error


def _totals_beside(text: str) -> Iterator[_Error]:
    """"8 total GPUs available (4 per g5.12xlarge instance × 3 instances)": the total is stated first and the
    calculation beside it explains it. Which side is wrong cannot be told, so no fix is offered."""
    for match in _TOTAL_BESIDE.finditer(text):
        if not (_TOTAL_WORD.search(match.group("between")) or _TOTAL_OF.search(text, 0, match.start())):
            continue
        error = _check(text, match, "=", fixable=False)
        if error is not None:
            yield error


def _check(text: str, match: re.Match[str], eq: str, *, fixable: bool = True) -> _Error | None:
    expr = match.group("expr")
    if _DATE.search(expr) or _TIME_OF_DAY.search(expr):
        return None
    parsed = _parse(expr)
    if parsed is None or not _is_calculation(parsed.skeleton):
        return None
    if parsed.has_words and _NUMBER_TOKEN.search(_lead_in(text, match.start("expr"))):
        return None  # "3 nodes with 8 GPUs each + 2 spare = 26": the calculation starts before the 8
    if parsed.has_words and fixable and text[match.start("eq") - 1 : match.start("eq")].isalnum():
        return None  # "1/10 runs with SOAK_DURATION=9900": an assignment, not a result
    if parsed.has_words and fixable and not _counts_the_same(parsed, match, text):
        return None  # "4 pods × 8 cores each = 4 workers": a correspondence, not a product
    if _CHAINED.match(text, match.end("result")):
        return None  # "= 64.65 / 1.05 = 61.57": a step of a chain, the expression goes on after the number
    stated_text = match.group("value")
    stated = parse_number(stated_text)
    if stated is None:
        return None
    if match.group("k"):
        stated *= 1000
    result_unit = match.group("unit") or ""
    if not result_unit:
        tail = _RESULT_TIME.match(text, match.end("value"))
        result_unit = tail.group("unit") if tail else ""
    percent_result = match.group("result").endswith("%") and not parsed.percent_operands
    candidates = parsed.values("" if percent_result else result_unit)
    if not candidates:
        return None
    if percent_result:
        candidates = [c * 100 for c in candidates]
    relative = 0.02 if eq != "=" else 0.005
    if any(close(stated, c, relative=relative, stated_text=stated_text) for c in candidates):
        return None
    expected = candidates[0] / (1000 if match.group("k") else 1)
    shown = _balanced(" ".join(expr.split()))
    spaced = " " if text[match.end("value") : match.end("value") + 1] == " " else ""
    unit = "%" if percent_result else f"{spaced}{result_unit}" if match.group("unit") else ""
    explanation = f"{shown} = {_show(candidates[0])}{unit}"
    if not fixable:
        explanation += f", not {match.group('value')}"
    start = match.start("expr")
    while start < match.end("expr") and (text[start].isspace() or (
            text[start] == "(" and expr.count("(") - text.count("(", match.start("expr"), start)
            > expr.count(")"))):
        start += 1  # "GH200 (96 GB HBM3 + ...": the parenthesis belongs to the sentence
    return _Error(
        start=min(start, match.start("result")), end=max(match.end("result"), match.end()),
        result=(match.start("value"), match.end("value")),
        stated=match.group("result"), expected=expected, written_like=stated_text if fixable else "",
        explanation=explanation,
    )


def _counts_the_same(parsed: _Expression, match: re.Match[str], text: str) -> bool:
    """A calculation written with words states what its result counts, and that is what an operand counts:
    a unit of the same kind ("1 GB GPU pool + 256 MB pinned pool = 1.25 GB", "= 2 GPU-hours" after "1.5 h"),
    dollars on both sides, or a word of the operands ("2 GPUs x 2 replicas = 4 schedulable GPUs")."""
    if match.group("result").startswith("$") and parsed.currency:
        return True
    tail = _RESULT_WORDS.match(text, match.end("result"))
    said = {*(_WORD_PARTS.findall(tail.group(0)) if tail else ()), match.group("unit") or ""}
    dimensions = {_dimension(w) for w in said} - {""}
    if dimensions & {_dimension(o.unit) for o in parsed.parts if isinstance(o, _Operand)}:
        return True
    return bool({_singular(w) for w in said if w} & parsed.words)


def _singular(word: str) -> str:
    word = word.lower()
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def _balanced(shown: str) -> str:
    """The expression as shown in a message, without a parenthesis opened before it or closed after it."""
    while shown.startswith("(") and shown.count("(") > shown.count(")"):
        shown = shown[1:].lstrip()
    while shown.endswith(")") and shown.count(")") > shown.count("("):
        shown = shown[:-1].rstrip()
    return shown


def _lead_in(text: str, start: int) -> str:
    """The part of the clause before column `start`."""
    before = text[:start]
    clause = _CLAUSE_START.match(before)
    return before[clause.end() :] if clause else before


def _is_calculation(expr: str) -> bool:
    """Ranges ("1-3"), IDs and phone numbers use a bare hyphen: count it as minus only with spaces around
    it or with another operator beside it."""
    operators = _OPERATORS.findall(expr)
    if operators:
        return True
    return bool(_HYPHEN_BETWEEN_DIGITS.search(expr)) and bool(_OTHER_OPERATOR.search(expr))


@dataclass(frozen=True, slots=True)
class _Operand:
    value: float
    unit: str  # as written ("GB", "Gi", "h"), "" for none


@dataclass(frozen=True, slots=True)
class _Expression:
    """An expression as written, read into operands and operators; words that say what an operand counts
    are dropped."""

    parts: tuple[str | _Operand, ...]  # operators and parentheses as text, operands
    skeleton: str  # the expression without its words ("2 GPUs x 2 replicas" -> "2 GPUs x 2")
    has_words: bool
    percent_operands: bool
    words: frozenset[str] = frozenset()  # what the operands count, singular, lower case (units too)
    currency: bool = False  # an operand in dollars

    def values(self, result_unit: str) -> list[float]:
        """The value in `result_unit`: one candidate, or two when memory units mix (decimal and binary
        readings, binary first). Empty when the units cannot be reconciled."""
        operands = [p for p in self.parts if isinstance(p, _Operand)]
        units = {_unit_key(o.unit) for o in operands if _dimension(o.unit)}
        if result_unit and _dimension(result_unit):
            units.add(_unit_key(result_unit))
        if len(units) <= 1:
            value = self._evaluate(lambda o: o.value)
            return [] if value is None else [value]
        dimensions = {_dimension(o.unit) for o in operands if _dimension(o.unit)}
        if len(dimensions) != 1 or _dimension(result_unit) not in dimensions:
            return []  # "1 h + 512 MB", or mixed units with a result in none of them
        with_unit = [o for o in operands if _dimension(o.unit)]
        operators = {p for p in self.parts if isinstance(p, str) and p not in "()"}
        if operators <= {"+", "-"}:
            if len(with_unit) != len(operands):
                return []  # "1 GB + 512 = ?": the bare number's unit is guesswork
        elif not operators & {"+", "-"}:
            if len(with_unit) != 1:
                return []  # "2 GB × 3 MB" is no quantity of memory
        else:
            return []
        values = []
        for binary in (True, False):
            per_result = _size(result_unit, binary)
            if per_result is None:
                return []
            value = self._evaluate(partial(_in_base_unit, binary=binary))
            if value is not None:
                values.append(value / per_result)
        return list(dict.fromkeys(values))

    def _evaluate(self, number: Callable[[_Operand], float]) -> float | None:
        text = " ".join(repr(number(p)) if isinstance(p, _Operand) else p for p in self.parts)
        try:
            return evaluate(text)
        except UnsafeExpression:
            return None


def _in_base_unit(operand: _Operand, *, binary: bool) -> float:
    size = _size(operand.unit, binary) if operand.unit else None
    return operand.value * size if size is not None else operand.value


@lru_cache(maxsize=4096)  # a text of figures repeats its calculations: each is parsed once
def _parse(expr: str) -> _Expression | None:
    parts: list[str | _Operand] = []
    skeleton: list[str] = []
    words: set[str] = set()
    has_words = percent = currency = False
    position = 0
    for token in _TOKEN.finditer(expr):
        if token.start() != position:
            return None
        position = token.end()
        if token.group("word"):
            has_words = True
            words.update(_singular(w) for w in _WORD_PARTS.findall(token.group("word")))
            skeleton.append(" ")
            continue
        skeleton.append(token.group(0))
        if token.group("num"):
            value = parse_number(token.group("num"))
            if value is None:
                return None
            if token.group("k"):
                value *= 1000
            if token.group("pct"):
                value, percent = value / 100, True
            unit = token.group("unit") or ""
            currency = currency or bool(token.group("cur"))
            if unit:
                words.add(_singular(unit))
            parts.append(_Operand(value, unit if _dimension(unit) else ""))
        else:
            operator = token.group("open") or token.group("close") or token.group("op")
            parts.append(operator.translate(_OPERATOR_TEXT))
    if expr[position:].strip():
        return None
    # "GH200 (96 GB HBM3 + 480 GB LPDDR5X = 586 GB)": a parenthesis opened before the expression or closed
    # after its result belongs to the sentence.
    while parts and parts[0] == "(" and parts.count("(") > parts.count(")"):
        parts.pop(0)
    while parts and parts[-1] == ")" and parts.count(")") > parts.count("("):
        parts.pop()
    return _Expression(tuple(parts), "".join(skeleton), has_words, percent, frozenset(words), currency)


_OPERATOR_TEXT = str.maketrans({"×": "*", "x": "*", "X": "*", "÷": "/", "−": "-", "–": "-"})


def _dimension(unit: str) -> str:
    if not unit:
        return ""
    if seconds_per(unit) is not None:
        return "time"
    if canonical_unit(unit) is not None:
        return "memory"
    return ""


def _unit_key(unit: str) -> str:
    return str(seconds_per(unit)) if seconds_per(unit) is not None else canonical_unit(unit) or unit


def _size(unit: str, binary: bool) -> float | None:
    seconds = seconds_per(unit)
    return seconds if seconds is not None else memory_bytes(unit, binary=binary)


# ---- percentages


def _percentages(text: str) -> Iterator[_Error]:
    """A percentage beside a pair of quantities it compares: "$2.49 → $1.49 (25 % cheaper)", or a table
    row "| Memory/GPU | 141GB | 96GB | 32% less |"."""
    percents = list(_PERCENT.finditer(text))
    if len(percents) != 1:
        return  # several percentages on one line: which pair each one means is guesswork
    percent = percents[0]
    matched = list(_PAIR.finditer(text))
    if any(m.start() <= percent.start() < m.end() + 1 for m in matched) or _RANGE_BEFORE.search(
            text, 0, percent.start()):
        return  # "between 50 to 90%": the percentage is one end of a range, not a comparison of the two
    pairs = [(m.group("a"), m.group("b")) for m in matched]
    if not pairs and is_table_row(text):
        cells = [c.text for c in table_cells(text)]
        quantities = [c for c in cells if _QUANTITY_RE.fullmatch(c)]
        quantities += [m.group("q") for c in cells if (m := _QUANTITY_WITH_PERCENT.fullmatch(c))]
        quantities.sort(key=lambda q: text.find(q))
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
        candidates = [decrease, increase, low / high * 100, high / low * 100]  # "305s vs 26s for 1173%"
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
    if match.group("cur"):
        return number, "$"
    seconds = seconds_per(unit) if unit else None
    if seconds is not None:
        return number * seconds, "time"  # "265.253s to 50.111s", "2 min vs 90 s"
    return number, canonical_unit(unit) or unit


def _format_like(value: float, like: str) -> str:
    decimals = len(like.split(".", 1)[1]) if "." in like else 0
    if decimals == 0 and abs(value) < 10 and not float(round(value, 6)).is_integer():
        decimals = 2
    elif decimals == 1 and abs(round(value, 1) - value) > 1e-9:
        decimals, like = 2, like + "0"  # "= 1.5 GB" for 1.25 GB: "1.2" would be a rounding of its own
    return format_number(round(value, decimals), like)


def _show(value: float, decimals: int = 2) -> str:
    if abs(value - round(value)) < 1e-9:
        return f"{round(value):,}"
    return f"{value:,.{decimals}f}".rstrip("0").rstrip(".")
