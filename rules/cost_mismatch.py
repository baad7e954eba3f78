"""cost-mismatch: a stated GPU price, or a cost derived from it, that the deployment does not pay."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from align.context import ReviewContext, SourceFile
from align.findings import Finding, Severity
from align.formats import Assignment
from align.manifest import Deployment
from align.quantities import (
    PERIOD_HOURS,
    PRICE_NEEDLES,
    Price,
    close,
    find_prices,
    format_money,
    parse_price,
    period_from_name,
)
from align.rule_api import BaseRule
from align.rules._claims import (
    KEY_MEMO,
    changed_assignments,
    column_header,
    context_words,
    is_table_row,
    key_shape,
    number_span,
    path_words,
    row_label,
    semantic_key,
    semantic_key_of,
    table_header,
    value_column,
    words,
)
from align.rules._lines import changed_containing, line_mentions, lines_containing
from align.rules._text import COMPARISON, apply_edits, mentions_of, reviewed_files

TOLERANCE = 0.01  # spec: derived costs within 1 %

_PRICE_WORDS = frozenset({"price", "cost", "rate", "usd", "dollars", "spend", "pricing", "charge", "fee", "costs"})
_NOT_GPU_PRICE = frozenset({
    "egress", "ingress", "storage", "token", "tokens", "bandwidth", "network", "transfer", "disk", "s3", "cpu",
    "vcpu", "salary", "gb", "tb", "request", "requests", "api", "seat", "user", "users", "call", "calls",
    "query", "ebs", "ssd", "nvme", "snapshot", "backup", "support", "license", "ip", "lb", "data", "engineer",
    "min", "alert", "threshold", "savings", "saving", "discount",
    "spot", "reserved", "preemptible", "reference", "list", "old", "previous", "legacy", "baseline", "ram",
    "memory", "electricity", "power",
})
# Budgets and caps may differ from the cost on purpose: only one derived from a wrong price on the same line
# counts (`MONTHLY_BUDGET_USD = 5453  # 3 GPUs × $2.49 × 730 h`).
_DELIBERATE = frozenset({"budget", "cap", "max", "limit", "target"})
_GPU_KEY_WORDS = frozenset({"gpu", "gpus", "instance", "node", "compute", "accelerator", "gh200"})
_TOTAL_WORDS = re.compile(r"\b(?:total|cluster|deployment|fleet|all\s+\d+|for\s+\d+\s+GPUs|\d+\s*[×x]\s*)",
                          re.IGNORECASE)
_GPU_TEXT = re.compile(r"\bGPUs?\b|\bgpu[_-]", re.IGNORECASE)
_NOT_GPU_TEXT = re.compile(
    r"egress|ingress|storage|tokens?\b|bandwidth|network|transfer|\bdisk|\bS3\b|\bEBS\b|\bCPU|vCPU|salar"
    r"|engineer|per\s+GB|/\s?GB|\bseats?\b|licen[cs]e|support\s+plan|snapshot|backup|\bAPI\b|requests?\b"
    r"|\b(?:m|c|t|r)\d[a-z]?\.\w+|\bRAM\b|electricity|\bpower\b",
    re.IGNORECASE,
)
# Another way to buy the same GPU: its price is not the one the deployment pays.
_PURCHASE_OPTION = re.compile(
    r"\b(?:spot|preemptible|interruptible|reserved|commit(?:ted|ment)|savings\s+plans?)\b", re.IGNORECASE)
# "the cluster costs $45,552 per month": the whole deployment's cost, a GPU cost by another name.
_DEPLOYMENT_COST = re.compile(r"\b(?:the|our|this|whole|entire)\s+(?:cluster|deployment|fleet)\b", re.IGNORECASE)
_PERIOD_LABEL = re.compile(
    r"(?P<label>hourly|(?:per|an?|for\s+an?)\s+hour|/\s?h(?:ou)?r|monthly|(?:per|a|for\s+a)\s+month|/\s?mo(?:nth)?"
    r"|daily|(?:per|a|for\s+a)\s+day|annual|yearly|(?:per|a|for\s+a)\s+year)\b[^$\d]{0,30}$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.;!?](?:\s|$)")
_PER_GPU_TEXT = re.compile(r"^\s*(?:per|/|each|a)\s*GPU|^\s*each\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Stated:
    amount: float
    digits: tuple[int, int]  # columns of the amount's digits on the line
    price: Price  # how it was written (for the replacement's style)
    period: str
    per_gpu: bool  # explicitly one GPU's price
    total: bool  # explicitly the whole deployment's
    written: str  # the offending text, for the message
    deliberate: bool = False  # a budget or cap: wrong only when derived from a wrong price
    gpus: int | None = None  # exactly this many GPUs (a per-instance price: the instance's GPUs)


class CostMismatch(BaseRule):
    """Catches a stated GPU price other than the deployment's `price_per_gpu_hour` ("$2.49/hour" where
    it pays $1.49; keys like `price_per_gpu_hour`, `GPU_HOURLY_COST`, `hourly_rate` in a GPU context), and
    a derived cost that does not follow from it: per day (24 h), month (730 h) or year (8,760 h), for one
    GPU or for the deployment, within 1 %.

    Why it matters: budgets, quotas and "40 % savings" claims built on the wrong price are wrong by the
    same factor, every month.

    Example: "GH200 at $2.49/hour" on a deployment paying $1.49 → suggests "GH200 at $1.49/hour";
    `MONTHLY_GPU_COST = 5453` for 3 GPUs → suggests 3263 (3 × $1.49 × 730).

    Prices that are not GPU prices are left alone: $/GB egress and storage, per-token and per-request
    prices, CPU instances, salaries, budgets and limits; and prose that compares prices on purpose
    ("$2.49 → $1.49").

    Fix: safe. The suggestion rewrites only the amount, in the same format ("$3,263" keeps no cents).
    """

    id = "cost-mismatch"
    default_severity = Severity.WARNING
    summary = "A stated GPU price, or a cost derived from it, differs from the deployment's price."
    fix_safe = True
    file_local = True  # a file's findings depend on that file and the manifest alone

    def check(self, ctx: ReviewContext) -> Iterator[Finding]:
        for source_file, deployment in reviewed_files(ctx):
            keyed: dict[int, list[_Stated]] = {}
            for assignment in changed_assignments(source_file):
                price = _keyed_price(ctx, source_file, assignment)
                if price is not None:
                    keyed.setdefault(assignment.line, []).append(price)
            rows: dict[int, list[_Stated]] = {}
            for line, row in _price_rows(source_file, deployment):
                rows.setdefault(line, []).append(row)
            prose_lines = set(changed_containing(source_file, PRICE_NEEDLES))  # other lines hold no price
            # Line by line, so that a file with a wrong price on every line stops at the per-file limit
            # rather than having every line's prose read first.
            for line in sorted(keyed.keys() | rows.keys() | prose_lines):
                stated = list(keyed.get(line, ()))
                if line in prose_lines:
                    taken = {s.digits for s in stated}
                    stated.extend(s for s in _prose_prices(ctx, source_file, line, deployment)
                                  if s.digits not in taken)
                stated.extend(row for row in rows.get(line, ()) if all(s.digits != row.digits for s in stated))
                text = source_file.line_text(line)
                wrong = [s for s in stated if not _follows(s, deployment)
                         and (not s.deliberate or _assumed_price(text, s, deployment) is not None)]
                if wrong:
                    yield self._finding(source_file, line, wrong, deployment)

    def _finding(self, source_file: SourceFile, line: int, wrong: list[_Stated], deployment: Deployment) -> Finding:
        text = source_file.line_text(line)
        edits = []
        # The line's prices are found once, not once per wrong price (a long line of prices was quadratic);
        # the bare amounts by value, and the edits' starts as a set kept up to date.
        prices = find_prices(text)
        bare: dict[float, list[Price]] = {}
        for found in prices:
            if found.period is None and found.per_unit is None:
                bare.setdefault(found.amount, []).append(found)
        taken: set[int] = set()
        for item in wrong:
            gpus, value = _expected(item, deployment)
            edits.append((item.digits[0], item.digits[1], format_money(value, item.price)))
            taken.add(item.digits[0])
            assumed = (item.amount if item.period == "hour" and gpus == 1
                       else _assumed_price(text, item, deployment, prices))
            if assumed is not None:
                restated = _restated(text, assumed, deployment.price_per_gpu_hour, taken, bare.get(assumed, []))
                edits.extend(restated)
                taken.update(edit[0] for edit in restated)
        first = wrong[0]
        gpus, value = _expected(first, deployment)
        written = first.written
        price = deployment.price_per_gpu_hour
        if first.period == "hour" and gpus == 1:
            message = (f"`{written}` is not the GPU price of deployment `{deployment.name}`: it pays "
                       f"${price:.2f} per GPU-hour ({deployment.gpu.name}).")
            component, stated, expected = "GPU price", f"${first.amount:.2f}/h", f"${price:.2f}/h"
        else:
            hours = PERIOD_HOURS[first.period]
            factors = " × ".join(p for p in (f"{gpus}" if gpus > 1 else "", f"${price:.2f}",
                                             f"{hours:g} h" if hours > 1 else "") if p)
            message = (f"`{written}` does not follow from deployment `{deployment.name}` at ${price:.2f} per "
                       f"GPU-hour: {factors} = ${value:,.2f} per {first.period}.")
            component = f"GPU cost per {first.period}"
            stated, expected = f"${first.amount:,.2f}/{first.period}", f"${value:,.2f}/{first.period}"
        return self.finding(
            source_file, line, message, evidence=text, deployment=deployment,
            suggestion=apply_edits(text, edits), component=component, stated=stated, expected=expected,
        )


def _restated(
    text: str, assumed: float, value: float, taken: set[int], candidates: list[Price]
) -> list[tuple[int, int, str]]:
    """The wrong hourly price written again without its period on the line ("$2.49/hour: 3 × $2.49 × 730
    = ...", "5453  # 3 GPUs × $2.49 × 730 h"): fixed together, so the corrected line does not carry a
    calculation on the old price. `candidates`: the line's prices of that amount without a period."""
    edits = []
    for price in candidates:
        at = text.find(price.amount_text, price.start)
        if price.period is None and price.per_unit is None and price.amount == assumed and at not in taken:
            edits.append((at, at + len(price.amount_text), format_money(value, price)))
    return edits


def _assumed_price(text: str, item: _Stated, deployment: Deployment, prices: list[Price] | None = None) -> float | None:
    """The other hourly price a derived figure was computed from, when the line shows it: 5453 is
    3 × $2.49 × 730. `prices`: the line's, when already found."""
    hours = PERIOD_HOURS[item.period]
    for price in find_prices(text) if prices is None else prices:
        if price.period is not None or price.per_unit or close(price.amount, deployment.price_per_gpu_hour):
            continue
        if any(close(item.amount, gpus * price.amount * hours, relative=TOLERANCE, stated_text=item.price.amount_text)
               for gpus in range(1, deployment.count + 1)):
            return price.amount
    return None


# ---- what counts as a GPU price


def _keyed_price(ctx: ReviewContext, source_file: SourceFile, assignment: Assignment) -> _Stated | None:
    value = assignment.value
    if value is None or isinstance(value, bool):
        return None
    if not _may_be_price(key_shape(assignment.key_path)):
        return None
    key = semantic_key(assignment)
    leaf = words(key)
    leaf_set = set(leaf)
    key_words = context_words(assignment)
    text = source_file.line_text(assignment.line)
    if not (key_words & _GPU_KEY_WORDS or _near_gpu_text(ctx, source_file, assignment.line)):
        return None
    price = parse_price(str(value))
    if price is None or price.per_unit or price.amount <= 0:
        return None
    period = price.period or period_from_name(key)
    if period is None:
        return None
    span = number_span(text, price.amount_text, value_column(text, assignment))
    if span is None:
        return None
    per_gpu = price.per_gpu or ("per" in leaf and "gpu" in leaf[leaf.index("per") + 1 :])
    total = bool(leaf_set & {"total", "cluster", "deployment", "fleet", "all"})
    return _Stated(price.amount, span, price, period, per_gpu, total, f"{key} = {assignment.raw.strip()}",
                   deliberate=bool(leaf_set & _DELIBERATE))


@lru_cache(maxsize=KEY_MEMO)
def _may_be_price(key_path: tuple[str, ...]) -> bool:
    """A key whose name says price or cost, and nothing that makes it another kind of price."""
    leaf_set = set(words(semantic_key_of(key_path)))
    if not leaf_set & _PRICE_WORDS or leaf_set & _NOT_GPU_PRICE:
        return False
    return not path_words(key_path) & _NOT_GPU_PRICE - {"min", "data"}


def _near_gpu_text(ctx: ReviewContext, source_file: SourceFile, line: int) -> bool:
    """An unspecific key (`hourly_rate`) counts as a GPU price next to GPU words (3 lines either side)."""
    for row in range(max(1, line - 3), min(len(source_file.lines), line + 3) + 1):
        if _GPU_TEXT.search(source_file.line_text(row)) or line_mentions(ctx, source_file, row):
            return True
    return False


def _prose_prices(ctx: ReviewContext, source_file: SourceFile, line: int, deployment: Deployment) -> list[_Stated]:
    text = source_file.line_text(line)
    # Both the GPU context and a price are needed: the context is the cheaper to look for ("Egress costs
    # $0.09/GB" lines are common and have none), so it is looked for first.
    table = is_table_row(text)
    context = text
    if table:
        header = table_header(source_file.lines, line)
        context += " " + " ".join(c.text for c in header or [])
    gpu_context = bool(_GPU_TEXT.search(context) or _DEPLOYMENT_COST.search(context)
                       or (mentions_of(ctx, context) if table else line_mentions(ctx, source_file, line))
                       or (deployment.instance_type and deployment.instance_type in context)
                       or _gpu_heading(ctx, source_file, line))
    if not gpu_context:
        return []
    prices = find_prices(text)
    if not prices:
        return []
    found = []
    # Sentence ends and purchase-option words of the whole line, found once: per price, the sentence it is
    # in is looked up, not split out of everything before it (quadratic on a long line of prices).
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    options = list(_PURCHASE_OPTION.finditer(text))
    option_starts = [m.start() for m in options]
    label: str | None = None
    for index, price in enumerate(prices):
        if price.per_unit:
            continue
        left = prices[index - 1].end if index else 0
        right = prices[index + 1].start if index + 1 < len(prices) else len(text)
        before, after = text[max(left, price.start - 40) : price.start], text[price.end : min(right, price.end + 40)]
        # Within its sentence: "... $2.49/hour each. Egress stays at $0.09/GB" keeps egress to its own price.
        before, after = _SENTENCE_END.split(before)[-1], _SENTENCE_END.split(after)[0]
        if _NOT_GPU_TEXT.search(before) or _NOT_GPU_TEXT.search(after):
            continue
        if _after_purchase_option(text, price.start, ends, options, option_starts):
            continue  # "Spot capacity for p5.48xlarge has been around $2.10": another way to buy it
        if table and label is None:
            label = row_label(text)
        if table and _NOT_GPU_TEXT.search(f"{label} {column_header(source_file, line, price.start)}"):
            continue
        period = price.period or _period_label(before) or (
            _period_label(column_header(source_file, line, price.start) + " ") if table else None
        )
        if period is None and table:
            period = _period_label(f"{label} ")
        if period is None:
            continue
        digits_at = text.find(price.amount_text, price.start)
        per_gpu = price.per_gpu or bool(_PER_GPU_TEXT.match(after))
        total = bool(_TOTAL_WORDS.search(before))
        digits = (digits_at, digits_at + len(price.amount_text))
        found.append(_Stated(price.amount, digits, price, period, per_gpu, total, price.text.strip()))
    if found and (COMPARISON.search(text) or table):
        # "$2.49/hour assumed vs $1.49/hour actual": a comparison that already states the right price.
        settled = {s.period for s in found if _follows(s, deployment)}
        found = [s for s in found if s.period not in settled]
    if any(s.period == "hour" for s in found) and any(
            close(p.amount, deployment.price_per_gpu_hour, stated_text=p.amount_text) for p in prices
            if not p.per_unit):
        # The line states the deployment's hourly price: its other hourly figures are something else
        # ("($0.35 GPU + $0.19 host) = $0.54/hr" per node).
        found = [s for s in found if s.period != "hour" or _follows(s, deployment)]
    return found


def _after_purchase_option(
    text: str, start: int, ends: list[int], options: list[re.Match[str]], option_starts: list[int]
) -> bool:
    """Whether the sentence before `start` names a purchase option: what
    `_PURCHASE_OPTION.search(_SENTENCE_END.split(text[:start])[-1])` says, from the line's sentence ends
    and option words (found once per line)."""
    if start > 0 and text[start - 1] in ".;!?":
        return False  # the cut text ends a sentence there: nothing of it is before the amount
    sentence = ends[bisect_right(ends, start) - 1] if ends and ends[0] <= start else 0
    at = bisect_left(option_starts, sentence)
    if at < len(options) and options[at].end() <= start:
        return True
    # A word that the cut leaves whole ("spot" right before "2.10") is found in the last few characters.
    return _PURCHASE_OPTION.search(text[max(sentence, start - 40) : start]) is not None


def _period_label(before: str) -> str | None:
    """The period a label just before a bare amount names: "Monthly cost: $5,453", header "Cost/hour"."""
    match = _PERIOD_LABEL.search(before)
    if match is None:
        return None
    label = match.group("label").lower()
    if "mo" in label:
        return "month"
    if "h" in label:
        return "hour"
    return "day" if "da" in label else "year"


def _gpu_heading(ctx: ReviewContext, source_file: SourceFile, line: int) -> bool:
    """In Markdown, a section headed "GPU costs" or "GH200 pricing" gives its lines a GPU context."""
    if source_file.facts.format != "markdown":
        return False
    headings = source_file.derived(_headings)
    at = bisect_left(headings, line) - 1  # the last heading above the line
    if at < 0:
        return False
    row = headings[at]
    text = source_file.line_text(row)
    return bool(_GPU_TEXT.search(text) or line_mentions(ctx, source_file, row)) and not _NOT_GPU_TEXT.search(text)


def _headings(source_file: SourceFile) -> list[int]:
    """1-based numbers, ascending, of the lines that start with "#"."""
    lines = source_file.lines
    return [n for n in lines_containing(source_file, ("#",)) if lines[n - 1].startswith("#")]


# ---- the deployment's own row of a price table

_ROW = re.compile(
    r"""^\s*[-{]?\s*["']?(?P<key>[\w.\-]+)["']?\s*(?::|=>?)\s*["']?\$?(?P<amount>\d+(?:\.\d+)?)["']?"""
    r"""\s*,?\s*(?:#|//|$)"""
)
_PRICE_CONTEXT = re.compile(r"\b(?:pric\w*|costs?|rates?|usd|per\s+hour|hourly|on-demand)\b|\$", re.IGNORECASE)
_ROW_CONTEXT_LINES = 12  # a table's heading or docstring is this close to its rows


def _price_rows(source_file: SourceFile, deployment: Deployment) -> Iterator[tuple[int, _Stated]]:
    """`"gpu_1x_gh200": 2.49,` in a table of hourly prices by instance type: the deployment's own row is
    a claim (spec §1b: a catalog is not, unless the deployment's own row is wrong). The price is for the
    whole instance: compared with the deployment's price times the instance's GPUs, when its name says."""
    instance = (deployment.instance_type or "").lower()
    if not instance:
        return
    for line in changed_containing(source_file, (deployment.instance_type or "",)):
        text = source_file.line_text(line)
        match = _ROW.match(text)
        if match is None or match.group("key").lower() != instance:
            continue
        above = "\n".join(source_file.line_text(n) for n in range(max(1, line - _ROW_CONTEXT_LINES), line))
        if not _PRICE_CONTEXT.search(above) or not re.search(r"\b(?:hour|hr|hourly|/h)\b", above + text, re.I):
            continue
        gpus = gpus_per_instance(deployment.instance_type or "")
        if gpus is None:
            continue
        price = parse_price(match.group("amount"))
        if price is None:
            continue
        start = match.start("amount")
        yield line, _Stated(price.amount, (start, match.end("amount")), price, "hour", gpus == 1, False,
                            f"{match.group('key')}: {match.group('amount')}", gpus=gpus)


_GPUS_IN_NAME = (re.compile(r"^gpu_(\d+)x_"), re.compile(r"-(\d+)g$"))


def gpus_per_instance(instance_type: str) -> int | None:
    """GPUs in one instance, where its name says (Lambda `gpu_8x_h100_sxm5`, GCP `a3-highgpu-8g`)."""
    for pattern in _GPUS_IN_NAME:
        match = pattern.search(instance_type.lower())
        if match:
            return int(match.group(1))
    return None


# ---- the arithmetic of a price


def _follows(stated: _Stated, deployment: Deployment) -> bool:
    unit = deployment.price_per_gpu_hour * PERIOD_HOURS[stated.period]
    counts: Sequence[int]
    if stated.gpus is not None:
        counts = [stated.gpus]
    else:
        counts = [1] if stated.per_gpu else [deployment.count] if stated.total else range(1, deployment.count + 1)
    scale = 1000 if stated.price.thousands else 1  # "$3.3k" is rounded to hundreds
    return any(close(stated.amount / scale, gpus * unit / scale, relative=TOLERANCE,
                     stated_text=stated.price.amount_text) for gpus in counts)


def _expected(stated: _Stated, deployment: Deployment) -> tuple[int, float]:
    """How many GPUs the stated figure is for, and what it should be."""
    unit = deployment.price_per_gpu_hour * PERIOD_HOURS[stated.period]
    if stated.gpus is not None:
        gpus = stated.gpus
    elif stated.per_gpu:
        gpus = 1
    elif stated.total:
        gpus = deployment.count
    elif stated.period == "hour":
        gpus = 1
    else:
        # A monthly figure for the deployment was probably computed with its GPU count.
        gpus = deployment.count if stated.amount >= unit * (deployment.count + 1) / 2 else 1
    return gpus, gpus * unit
