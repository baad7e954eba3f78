"""Run rules over a review context: severities, ignores, fingerprints and verified suggestions."""

from __future__ import annotations

import difflib
import gc
import multiprocessing
import os
import threading
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import Any, TypeVar

from align import formats
from align.catalog import GpuSpec
from align.context import ReviewContext, SourceFile
from align.deadline import Deadline, expired
from align.findings import Finding
from align.rule_api import Rule
from align.rule_findings import STOPPED_EVIDENCE, Candidate, resolved, rule_findings
from align.scope.profile import PendingProfile


def run_rules(
    ctx: ReviewContext, rules: Sequence[Rule], *, verify_suggestions: bool = True, workers: int | None = None,
    deadline: Deadline | None = None,
) -> list[Finding]:
    """The findings of `rules` on `ctx`, sorted. `workers`: processes for file-local rules (None: decide by
    the size of the change and the machine, see `_worker_count`; 1: this process).
    `deadline`: checked between rules and batches; once it passed, the findings so far are returned (where
    it stopped is recorded on it) and suggestions are dropped rather than offered unverified."""
    findings, ctx = _collect_with_profile(ctx, rules, workers, deadline)
    findings = _assign_fingerprints(findings)
    if verify_suggestions and expired(deadline):
        findings = [replace(f, suggestion=None) if f.suggestion is not None else f for f in findings]
    elif verify_suggestions:
        findings = _merge_and_verify_suggestions(ctx, rules, findings)
    return sorted(findings, key=lambda f: f.sort_key)


_BATCH = 32  # files a round of file-local rules reads before the next round (bounds per-file caches)
_PARALLEL_TEXT = 1_000_000  # characters to parse from which worker processes pay off (about half a second)
_MAX_WORKERS = 4

_LocalRules = Sequence[tuple[Rule, str | None]]
_Batch = tuple[list[Candidate], list[GpuSpec]]  # a batch's candidates, and the models its files name
_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


def _collect(
    ctx: ReviewContext, rules: Sequence[Rule], workers: int | None = 1, deadline: Deadline | None = None
) -> list[Finding]:
    return _collect_with_profile(ctx, rules, workers, deadline)[0]


def _collect_with_profile(
    ctx: ReviewContext, rules: Sequence[Rule], workers: int | None = 1, deadline: Deadline | None = None
) -> tuple[list[Finding], ReviewContext]:
    """Every enabled rule's findings, with severity overrides and ignored paths applied, and the context
    with the repository profile worked out (when it was pending).

    Rules that declare `file_local = True` (a file's findings depend on that file and the manifest alone)
    run over a batch of files at a time, all of them on one batch before the next: what they derive from
    a file (`SourceFile.derived`) is then shared while it is fresh and dropped once the batch is done.
    Batches may go to worker processes (see `_worker_count`). A pending profile is finished from what the
    batches' files name (their mentions are found by the rules anyway, in parallel), and findings in
    blocks of another target are dropped then. The other rules (repository-wide ones, plugins) see every
    file at once, in this process, after that, with the profile. Only the order in which findings come
    out differs from one pass per rule, and it is the same on every run (batch order, whatever the
    workers do); the engine sorts them anyway.
    """
    manifest = ctx.manifest
    enabled = [(rule, override) for rule in rules if (override := manifest.severity_override(rule.id)) != "off"]
    local = [(rule, override) for rule, override in enabled if getattr(rule, "file_local", False) is True]
    whole = [(rule, override) for rule, override in enabled if getattr(rule, "file_local", False) is not True]
    candidates: list[Candidate] = []
    named: list[GpuSpec] = []
    total = len(ctx.files)
    done = 0
    if local:
        starts = range(0, len(ctx.files), _BATCH)
        count = _worker_count(ctx, workers)
        batches = None
        if count > 1 and len(starts) > 1:
            batches = _in_workers({"ctx": ctx, "local": local}, _worker_batch, starts, count, deadline=deadline)
        if batches is None:
            batches = []
            for start in starts:
                if expired(deadline):
                    break
                batches.append(_batch_findings(ctx, local, start))
        for batch_candidates, batch_named in batches:
            candidates.extend(batch_candidates)
            named.extend(batch_named)
        done = min(len(batches) * _BATCH, total)
    else:
        done = total
    if isinstance(ctx.profile, PendingProfile):
        ctx = replace(ctx, profile=ctx.profile.finish(named))
    findings = resolved(ctx, candidates)
    if deadline is not None and done < total:
        deadline.stop(done, total)
    for rule, override in whole:
        if expired(deadline):
            assert deadline is not None
            deadline.stop(done, total)
            break
        findings.extend(resolved(ctx, rule_findings(ctx, rule, override, rerun_per_file=False)))
    return findings, ctx


def _batch_findings(ctx: ReviewContext, local: _LocalRules, start: int) -> _Batch:
    batch = ctx.files[start : start + _BATCH]
    batch_ctx = replace(ctx, files=batch)
    found: list[Candidate] = []
    for rule, override in local:
        found.extend(rule_findings(batch_ctx, rule, override, rerun_per_file=True))
    pending = ctx.profile if isinstance(ctx.profile, PendingProfile) else None
    named: list[GpuSpec] = []
    for source_file in batch:
        if pending is not None:  # while the rules' mentions of the file are at hand
            named.extend(pending.models_in(source_file.path, source_file.text, source_file.mentions(ctx.catalog)))
        source_file.forget_derived()
    return found, named


# ---- worker processes


def _worker_count(ctx: ReviewContext, workers: int | None) -> int:
    """How many processes share the work: `workers` when given, else (None) as many as there are CPUs
    (up to _MAX_WORKERS) when there is enough work (characters of the changed files to parse).
    One whenever forking is not safe: no `fork` on this platform, other threads running (a service; a
    fork copies their locks, not their progress), or this process is itself a daemonic worker."""
    if workers is not None and workers <= 1:
        return 1
    if (
        "fork" not in multiprocessing.get_all_start_methods()
        or threading.active_count() > 1
        or multiprocessing.current_process().daemon
    ):
        return 1
    if workers is not None:
        return workers
    if sum(len(source_file.text) for source_file in ctx.files) < _PARALLEL_TEXT:
        return 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(cpus, _MAX_WORKERS)


def _import_extractors() -> None:
    """Import the format modules once, here, before forking: every worker would import (and, without
    bytecode caches, compile) them itself on its first file. They are needed here anyway, to verify
    suggestions."""
    loader = getattr(formats, "_extractors", None)  # lazy by design; absent in other versions: skip
    if callable(loader):
        loader()


# What a forked worker works on: set in each worker process by `_start_worker`, read by its tasks.
_WORKER: dict[str, Any] = {}


def _start_worker(job: dict[str, Any]) -> None:
    # What the worker inherited (the files' text, the modules) stays as it is: leaving it out of garbage
    # collection saves the collector walking it again and again, and keeps those pages shared.
    gc.freeze()
    _WORKER.update(job)


def _worker_batch(start: int) -> _Batch:
    return _batch_findings(_WORKER["ctx"], _WORKER["local"], start)


def _in_workers(
    job: dict[str, Any], task: Callable[[_Item], _Result], items: Sequence[_Item], count: int, chunksize: int = 1,
    deadline: Deadline | None = None,
) -> list[_Result] | None:
    """`task` of each item, in order, from `count` forked processes that inherit `job` (the context and
    rules as they are: only items go to them and only results come back); None if a worker could not
    start or died (the caller then does the work in this process). With a `deadline` (chunksize 1): the
    results of the leading items that finished in time; the workers still busy are stopped."""
    _import_extractors()
    try:
        pool = ProcessPoolExecutor(
            max_workers=count,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_start_worker,
            initargs=(job,),
        )
        with pool:
            if deadline is None:
                return list(pool.map(task, items, chunksize=chunksize))
            return _until_deadline(pool, task, items, deadline)
    except (BrokenProcessPool, OSError):  # a worker died, or none could be started (no memory, no PIDs)
        return None


def _until_deadline(
    pool: ProcessPoolExecutor, task: Callable[[_Item], _Result], items: Sequence[_Item], deadline: Deadline
) -> list[_Result]:
    """Results in order until the deadline passes: nothing more is submitted, queued items are cancelled,
    and workers still running an item are terminated (a stuck file must not hold the review's slot)."""
    futures = [pool.submit(task, item) for item in items]
    results: list[_Result] = []
    for future in futures:
        try:
            results.append(future.result(timeout=max(deadline.remaining(), 0.0)))
        except FutureTimeout:
            break
    if len(results) < len(futures):
        for future in futures:
            future.cancel()
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()  # private to the pool, but the only handle on a worker stuck in one file
        pool.shutdown(wait=False, cancel_futures=True)
    return results


def _assign_fingerprints(findings: Iterable[Finding]) -> list[Finding]:
    """Identical offending text repeated in one file gets an occurrence number, never a line number."""
    seen: Counter[tuple[str, str, str]] = Counter()
    result = []
    for finding in sorted(findings, key=lambda f: f.sort_key):
        key = (finding.rule, finding.path, finding.evidence or finding.message)
        result.append(finding.with_fingerprint(seen[key]))
        seen[key] += 1
    return result


def _merge_and_verify_suggestions(
    ctx: ReviewContext, rules: Sequence[Rule], findings: list[Finding]
) -> list[Finding]:
    """Findings on the same lines get one combined suggestion, kept only if applying it leaves those lines clean.

    Two rules may each fix part of a line ("H200 (141GB)"): their edits are merged so that accepting the
    one suggestion GitHub shows fixes both. A suggestion that would leave or create any finding on the
    replaced lines (a "GGH200", a new mismatch) is dropped rather than offered.
    """
    files = {f.path: f for f in ctx.files}
    groups: dict[tuple[str, int, int], list[int]] = defaultdict(list)
    for index, finding in enumerate(findings):
        if finding.suggestion is not None and finding.path in files:
            groups[(finding.path, finding.line, finding.end_line)].append(index)
    merged: dict[tuple[str, int, int], str | None] = {}
    for (path, start, end), indexes in groups.items():
        original = "\n".join(files[path].lines[start - 1 : end])
        if len(original) > MAX_SUGGESTED_CHARS:
            merged[(path, start, end)] = None
            continue
        combined = _combine_edits(original, [findings[i].suggestion or "" for i in indexes])
        merged[(path, start, end)] = None if combined is None or combined == original else combined
    to_check = [(*group, combined) for group, combined in merged.items() if combined is not None]
    for check, clean in zip(to_check, _checked_fixes(ctx, rules, to_check), strict=True):
        if not clean:
            merged[check[:3]] = None
    result = list(findings)
    for group, indexes in groups.items():
        for i in indexes:
            result[i] = replace(result[i], suggestion=merged[group])
    return result


# A suggestion replaces whole lines: past this many characters GitHub shows a wall of text a reviewer cannot
# check at a glance (the finding's message says what to change), and verifying it re-reads as much. In the
# 35,085 text files of bench/realworld, 2 lines between 1,000 and 4,096 characters name a GPU, none over 2,000.
MAX_SUGGESTED_CHARS = 2_000
_Fix = tuple[str, int, int, str]  # path, first and last line replaced, the replacement
_RECHECK_CHARS = 200_000  # text a file's fixes may be re-checked one by one over (and twice the file's size)


def _checked_fixes(ctx: ReviewContext, rules: Sequence[Rule], fixes: list[_Fix]) -> list[bool]:
    """For each fix, whether applying it leaves the replaced lines clean (`_fix_is_clean`).

    Checking each fix on its own parses the whole file once per fix: quadratic in a file with a suggestion
    on every line (a 2,900-line file took minutes). Instead a file's fixes are applied together and the
    rules run once; a fix whose lines come out clean is clean. One whose lines do not (or that overlaps
    another) is checked on its own, as before, while the file's re-check budget lasts (a small file: always;
    a large one: a few times its size); past it, it counts as not clean and its suggestion is dropped."""
    files = {f.path: f for f in ctx.files}
    by_path: dict[str, list[int]] = defaultdict(list)
    for index, (path, *_rest) in enumerate(fixes):
        by_path[path].append(index)
    clean = [False] * len(fixes)
    for path, indexes in by_path.items():
        source_file = files[path]
        together, apart = _non_overlapping(fixes, indexes)
        for index, ok in zip(together, _batch_clean(ctx, rules, source_file, [fixes[i] for i in together]),
                             strict=True):
            if ok:
                clean[index] = True
            else:
                apart.append(index)
        budget = max(_RECHECK_CHARS, 2 * len(source_file.text))
        for index in sorted(apart):
            if budget < len(source_file.text):
                break
            budget -= len(source_file.text)
            _path, start, end, text = fixes[index]
            clean[index] = _fix_is_clean(ctx, rules, source_file, start, end, text)
    return clean


def _non_overlapping(fixes: list[_Fix], indexes: list[int]) -> tuple[list[int], list[int]]:
    """The fixes that can be applied together (by first line, skipping any that overlaps one kept), and
    the others."""
    together: list[int] = []
    apart: list[int] = []
    last = 0
    for index in sorted(indexes, key=lambda i: fixes[i][1:3]):
        _path, start, end, _text = fixes[index]
        if start > last:
            together.append(index)
            last = end
        else:
            apart.append(index)
    return together, apart


def _batch_clean(ctx: ReviewContext, rules: Sequence[Rule], source_file: SourceFile, fixes: list[_Fix]) -> list[bool]:
    """Whether each of `fixes` (in line order, not overlapping) leaves its lines clean, all applied at once."""
    if not fixes:
        return []
    lines = source_file.lines
    out: list[str] = []
    ranges: list[tuple[int, int]] = []
    cursor = 1  # the next original line to copy
    for _path, start, end, text in fixes:
        out.extend(lines[cursor - 1 : start - 1])
        new_start = len(out) + 1
        out.extend(text.split("\n"))
        ranges.append((new_start, len(out)))
        cursor = end + 1
    out.extend(lines[cursor - 1 :])
    fixed = _fixed_file(source_file, out, frozenset(n for first, last in ranges for n in range(first, last + 1)))
    dirty = _finding_lines(ctx, rules, fixed)
    return [not dirty.any_within(first, last) for first, last in ranges]


class _LineSet:
    """Lines covered by findings, for range queries."""

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        self._lines = sorted({n for first, last in spans for n in range(first, last + 1)})

    def any_within(self, first: int, last: int) -> bool:
        return bisect_right(self._lines, last) > bisect_left(self._lines, first)


def _fixed_file(source_file: SourceFile, lines: list[str], changed: frozenset[int]) -> SourceFile:
    text = "\n".join(lines)
    if source_file.text.endswith("\n"):
        text += "\n"
    return SourceFile(path=source_file.path, text=text, changed_lines=changed, status=source_file.status)


def _finding_lines(ctx: ReviewContext, rules: Sequence[Rule], fixed: SourceFile) -> _LineSet:
    fixed_ctx = replace(ctx, files=(fixed,), repository_files=lambda: iter(()))
    found = [f for f in _collect(fixed_ctx, rules) if f.path == fixed.path]
    if any(f.evidence == STOPPED_EVIDENCE for f in found):
        return _LineSet([(1, len(fixed.lines))])  # a rule stopped reading the fixed file: nothing is known clean
    return _LineSet((f.line, f.end_line) for f in found)


_DIFF_WINDOW = 400  # characters around the changes a suggestion is diffed over; wider: one edit span


def _combine_edits(original: str, suggestions: list[str]) -> str | None:
    if len(set(suggestions)) == 1:
        return suggestions[0]  # one suggestion, or the same one from several rules: nothing to merge
    edits: list[tuple[int, int, str]] = []
    for suggestion in suggestions:
        edits.extend(_edit_spans(original, suggestion))
    edits.sort()
    merged: list[tuple[int, int, str]] = []
    for edit in edits:
        if merged and edit == merged[-1]:
            continue  # two rules proposing the same edit (also a zero-width insert: "H200" → "GH200")
        if merged and edit[0] < merged[-1][1]:
            return None  # overlapping, different edits: no safe combination
        merged.append(edit)
    out, cursor = [], 0
    for a0, a1, text in merged:
        out.append(original[cursor:a0])
        out.append(text)
        cursor = a1
    out.append(original[cursor:])
    return "".join(out)


def _edit_spans(original: str, suggestion: str) -> list[tuple[int, int, str]]:
    """(start, end, replacement) edits of `original` that give `suggestion`. Only the part between the
    common prefix and suffix is diffed (difflib is quadratic; a suggestion changes a token or two of
    a line that may be a megabyte long), and a part wider than _DIFF_WINDOW is one edit."""
    prefix = _common_length(original, suggestion, 0, lambda text, n: text[:n])
    suffix = _common_length(original[prefix:], suggestion[prefix:], 0, lambda text, n: text[len(text) - n :])
    a, b = original[prefix : len(original) - suffix], suggestion[prefix : len(suggestion) - suffix]
    if not a and not b:
        return []
    if len(a) > _DIFF_WINDOW or len(b) > _DIFF_WINDOW:
        return [(prefix, prefix + len(a), b)]
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return [(prefix + a0, prefix + a1, b[b0:b1]) for tag, a0, a1, b0, b1 in matcher.get_opcodes() if tag != "equal"]


def _common_length(a: str, b: str, low: int, part: Callable[[str, int], str]) -> int:
    """The longest n with part(a, n) == part(b, n): a binary search of slice comparisons, which run in C."""
    high = min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if part(a, middle) == part(b, middle):
            low = middle
        else:
            high = middle - 1
    return low


def _fix_is_clean(
    ctx: ReviewContext, rules: Sequence[Rule], source_file: SourceFile, start: int, end: int, replacement: str
) -> bool:
    lines = source_file.lines
    new_lines = replacement.split("\n")
    fixed_text = "\n".join([*lines[: start - 1], *new_lines, *lines[end:]])
    if source_file.text.endswith("\n"):
        fixed_text += "\n"
    new_end = start + len(new_lines) - 1
    fixed = SourceFile(
        path=source_file.path,
        text=fixed_text,
        changed_lines=frozenset(range(start, new_end + 1)),
        status=source_file.status,
    )
    fixed_ctx = replace(ctx, files=(fixed,), repository_files=lambda: iter(()))
    for finding in _collect(fixed_ctx, rules):
        if finding.path != fixed.path:
            continue
        if finding.evidence == STOPPED_EVIDENCE or (finding.line <= new_end and finding.end_line >= start):
            return False
    return True
