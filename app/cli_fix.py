"""`align fix [--dry-run]`: review the working tree (the change from the default base, as `align check`
would, plus what is not committed yet) and apply the verified suggestions to it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping

from align.cli import EXIT_OK, UsageError
from align.cli_output import Progress, Writer


def run_fix(args: argparse.Namespace, writer: Writer, environ: Mapping[str, str]) -> int:
    from align.cli_review import resolve_change
    from align.fix import plan_fixes
    from align.review import review_change, scan_commit
    from align.source import SourceError

    try:
        change = resolve_change(args, environ, for_fix=True)
        with Progress(sys.stderr, "reviewing the working tree"):
            if args.all_files:
                result = scan_commit(change.source, change.head)
            elif change.changes:
                result = review_change(change.source, change.base, change.head, changes=change.changes)
            else:
                writer.write("nothing to fix: no change between the base and the working tree")
                return EXIT_OK
        paths = sorted({f.path for f in result.findings if f.suggestion is not None})
        contents = change.source.read_many(change.head, paths)
    except SourceError as error:
        raise UsageError(str(error)) from error
    texts = {path: data.decode("utf-8") for path, data in contents.items()}
    fixes = plan_fixes(result.findings, texts)
    unfixable = sum(1 for f in result.findings if f.suggestion is None)
    if args.dry_run:
        for fix in fixes:
            writer.write(fix.diff().rstrip("\n"))
    else:
        root = change.source.repo
        for fix in fixes:
            target = root / fix.path
            with open(target, "w", encoding="utf-8", newline="") as handle:
                handle.write(fix.after)
    fixed = sum(f.fixed for f in fixes)
    verb = "would fix" if args.dry_run else "fixed"
    summary = f"{verb} {fixed:,} finding(s) in {len(fixes):,} file(s)"
    if unfixable:
        summary += f"; {unfixable:,} finding(s) have no safe automatic fix (`align check` shows them)"
    print(summary, file=sys.stderr)
    return EXIT_OK
