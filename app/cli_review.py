"""`align check`, `scan`, `baseline`: which change to review (arguments, the GitHub Actions event, the
index or the working tree), the review, the baseline, and the reports."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from align.cli import EXIT_FINDINGS, EXIT_OK, UsageError
from align.cli_output import OutputSpec, Progress, Writer, parse_outputs
from align.git_source import GitSource
from align.result import ReviewResult
from align.source import FileChange, SourceError


@dataclass(frozen=True)
class Change:
    """What `align check` compares: `changes` when they are already known (an empty list: nothing to do)."""

    source: GitSource
    base: str
    head: str
    changes: list[FileChange] | None = None


def resolve_change(args: argparse.Namespace, environ: Mapping[str, str], *, for_fix: bool = False) -> Change:
    """Base and head from the arguments, else the GitHub Actions event, else the default branch.
    `for_fix`: the head is the working tree and the base defaults as for a commit (the whole branch)."""
    from align.git_worktree import Pending, PendingSource

    staged, worktree = getattr(args, "staged", False), getattr(args, "worktree", False)
    if for_fix or staged or worktree:
        if getattr(args, "head", None):
            raise UsageError("--head cannot be combined with --staged or --worktree (their head is the index or "
                             "the working tree)")
        pending: Pending = "staged" if staged else "worktree"
        pending_source = PendingSource(args.repo, pending)
        if args.base:
            base = pending_source.resolve(args.base)
        elif for_fix:
            base = _default_base(pending_source, environ, "HEAD")
        else:
            base = pending_source.base()
        head = pending_source.head_name
        return Change(pending_source, base, head, pending_source.changed_files(base, head))
    source = GitSource(args.repo)
    head = args.head or "HEAD"
    head_sha = source.resolve(head)  # an unknown head is the error to report, not a missing default branch
    base_sha = source.resolve(args.base) if args.base else _default_base(source, environ, head)
    return Change(source, base_sha, head_sha, [] if base_sha == head_sha else None)


def _default_base(source: GitSource, environ: Mapping[str, str], head: str) -> str:
    from align.actions import base_for, read_event

    event = read_event(environ)
    return source.resolve(base_for(source, event, head) if event else source.default_base(head))


def nothing_to_review(change: Change) -> ReviewResult:
    from align.git_worktree import INDEX

    if change.base == change.head:
        reason = f"base and head are the same commit ({change.base[:12]}): nothing to review"
    elif change.head == INDEX:
        reason = "nothing is staged: nothing to review"
    else:
        reason = f"no file differs between {change.base[:12]} and {change.head[:12]}: nothing to review"
    return ReviewResult(change.base, change.head, "skipped", skipped_reason=reason)


def cmd_check(args: argparse.Namespace, writer: Writer, environ: Mapping[str, str]) -> int:
    specs = parse_outputs(args.format, args.output, environ)
    try:
        change = resolve_change(args, environ)
        if change.changes is not None and not change.changes:
            result = nothing_to_review(change)
        else:
            from align.review import review_change  # the engine loads only when there is something to review

            with Progress(sys.stderr, "reviewing the change"):
                result = review_change(change.source, change.base, change.head, changes=change.changes,
                                       audit=args.audit)
            result = _with_baseline(result, args, change.source, change.base)
    except SourceError as error:
        raise UsageError(str(error)) from error
    return _report(result, specs, change.source, writer, environ)


def cmd_scan(args: argparse.Namespace, writer: Writer, environ: Mapping[str, str]) -> int:
    from align.review import scan_commit

    specs = parse_outputs(args.format, args.output, environ)
    try:
        source = GitSource(args.repo)
        with Progress(sys.stderr, "scanning"):
            result = scan_commit(source, args.ref, audit=args.audit)
        result = _with_baseline(result, args, source, result.head)
    except SourceError as error:
        raise UsageError(str(error)) from error
    return _report(result, specs, source, writer, environ)


def cmd_baseline(args: argparse.Namespace, writer: Writer, environ: Mapping[str, str]) -> int:
    from align.baseline import DEFAULT_BASELINE, baseline_json
    from align.review import scan_commit

    try:
        source = GitSource(args.repo)
        with Progress(sys.stderr, "scanning"):
            result = scan_commit(source, args.ref)
    except SourceError as error:
        raise UsageError(str(error)) from error
    if result.conclusion == "skipped":
        raise UsageError("no align.yaml at that commit: nothing to baseline (`align init` proposes one)")
    if any(f.rule == "manifest-invalid" for f in result.findings):
        raise UsageError("align.yaml is invalid; fix it first (`align validate`)")
    target = args.output or source.repo / DEFAULT_BASELINE
    writer.write(baseline_json(result.findings, ref=result.head), Path(target))
    writer.write(f"wrote {len(result.findings):,} fingerprint(s) to {target}; commit it, and `align check` and "
                 "`align scan` report only new findings")
    return EXIT_OK


def _with_baseline(result: ReviewResult, args: argparse.Namespace, source: GitSource, ref: str) -> ReviewResult:
    from align.baseline import DEFAULT_BASELINE, BaselineError, apply_baseline, parse_baseline

    if getattr(args, "no_baseline", False) or result.conclusion == "skipped":
        return result
    try:
        if args.baseline is not None:
            try:
                text = Path(args.baseline).read_text(encoding="utf-8")
            except OSError as error:
                raise UsageError(f"cannot read baseline {args.baseline}: {error.strerror or error}") from None
            baseline = parse_baseline(text, str(args.baseline))
        else:
            data = source.read(ref, DEFAULT_BASELINE) if ref else None
            if data is None:
                return result
            baseline = parse_baseline(data.decode("utf-8", errors="replace"), f"{DEFAULT_BASELINE} at {ref[:12]}")
    except BaselineError as error:
        raise UsageError(str(error)) from None
    return apply_baseline(result, baseline)


def _report(result: ReviewResult, specs: list[OutputSpec], source: GitSource, writer: Writer,
            environ: Mapping[str, str]) -> int:
    from align.report import render

    texts: dict[str, str] = {}
    if any(spec.fmt in ("text", "markdown") for spec in specs) and result.findings:
        contents = source.read_many(result.head, sorted({f.path for f in result.findings}))
        texts = {path: data.decode("utf-8", "replace") for path, data in contents.items()}
    for spec in specs:
        color = False
        if spec.fmt == "text" and spec.path is None:
            from align.report.text import wants_color

            color = wants_color(writer.stdout, environ)
        writer.write(render(result, spec.fmt, sources=texts, color=color), spec.path)
    return EXIT_FINDINGS if result.conclusion == "failure" else EXIT_OK
