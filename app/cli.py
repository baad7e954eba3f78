"""`align`: the command line. Every review goes through app.review, as in the service and the demo."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from app import __version__

FORMATS = ("text", "json", "markdown", "sarif")


class UsageError(Exception):
    """Exit status 2 with a one-line reason."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="align", description="Keep pull requests aligned with the deployment.")
    parser.add_argument("--version", action="version", version=f"align {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = sub.add_parser("check", help="review the change from base to head")
    check.add_argument("--repo", default=".", help="repository directory (default: .)")
    check.add_argument("--base", help="base revision (default: merge-base with the default branch)")
    check.add_argument("--head", default="HEAD", help="head revision (default: HEAD)")
    _output_options(check)

    scan = sub.add_parser("scan", help="audit every file at one commit against the manifest")
    scan.add_argument("--repo", default=".")
    scan.add_argument("--ref", default="HEAD")
    _output_options(scan)

    scope = sub.add_parser("scope", help="files in scope per deployment, and the excluded ones with the reason")
    scope.add_argument("--repo", default=".", help="repository directory (default: .)")
    scope.add_argument("--ref", default="HEAD", help="the commit to list (default: HEAD)")
    scope.add_argument("--format", choices=("text", "json"), default="text")

    rules = sub.add_parser("rules", help="the rules the engine knows, with their documentation")
    rules.add_argument("rule", nargs="?", help="show one rule's full documentation")
    sub.add_parser("catalog", help="the GPUs the catalog knows")

    serve = sub.add_parser("serve", help="run the GitHub App web service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    sub.add_parser("worker", help="run a queue worker (distributed mode, ALIGN_QUEUE=redis)")
    jobs = sub.add_parser("jobs", help="list queued, running and failed jobs (distributed mode)")
    jobs.add_argument("--requeue-failed", action="store_true", help="put failed jobs back on the queue")

    sub.add_parser("demo", help="the whole loop locally: simulator, service, a pull request and its review")
    replay = sub.add_parser("replay", help="send a saved webhook payload, signed, to a running service")
    replay.add_argument("payload", type=Path)
    replay.add_argument("--event", required=True, help="the X-GitHub-Event name, e.g. pull_request")
    replay.add_argument("--url", default="http://127.0.0.1:8000/api/github/webhooks")
    return parser


def _output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="text")
    parser.add_argument("--output", type=Path, help="write the report to FILE instead of standard output")
    parser.add_argument("--all", action="store_true", dest="audit",
                        help="also report mentions that bind to no deployment, as notices saying why (an audit)")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except UsageError as error:
        print(f"align: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    command: str = args.command
    if command in ("check", "scan"):
        return _review_command(args)
    if command == "scope":
        return _scope_command(args)
    if command == "rules":
        return _print_rules(args.rule, sys.stdout)
    if command == "catalog":
        return _print_catalog(sys.stdout)
    return _service_command(args)


def _review_command(args: argparse.Namespace) -> int:
    from app.git_source import GitSource
    from app.report import render
    from app.review import review_change, scan_commit
    from app.source import SourceError

    try:
        source = GitSource(args.repo)
        if args.command == "check":
            source.resolve(args.head)  # an unknown head is the error to report, not a missing default branch
            base = args.base or source.default_base(args.head)
            result = review_change(source, base, args.head, audit=args.audit)
        else:
            result = scan_commit(source, args.ref, audit=args.audit)
        texts = {}
        if args.format == "text":
            texts = {f.path: (source.read(result.head, f.path) or b"").decode("utf-8", "replace")
                     for f in result.findings}
    except SourceError as error:
        raise UsageError(str(error)) from error
    report = render(result, args.format, sources=texts)
    _write(report, args.output)
    return 1 if result.conclusion == "failure" else 0


def _scope_command(args: argparse.Namespace) -> int:
    from app.git_source import GitSource
    from app.report.scope_listing import render_scope
    from app.review import list_scope
    from app.source import SourceError

    try:
        listing = list_scope(GitSource(args.repo), args.ref)
    except SourceError as error:
        raise UsageError(str(error)) from error
    _write(render_scope(listing, args.format), None)
    return 0


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


def _print_rules(rule_id: str | None, out: TextIO) -> int:
    from app.rule_api import load_rules

    loaded = load_rules()
    rules = [r for r in loaded.rules if rule_id in (None, r.id)]
    if rule_id and not rules:
        raise UsageError(f"unknown rule {rule_id!r}; `align rules` lists them")
    for rule in rules:
        fix = "safe fix" if rule.fix_safe else "no automatic fix"
        out.write(f"{rule.id}  [{rule.default_severity.value}, {fix}]\n")
        doc = getattr(rule, "doc", None)
        text = doc() if callable(doc) and rule_id else rule.summary
        out.write("".join(f"    {line}\n" if line else "\n" for line in str(text).splitlines()))
        out.write("\n")
    for error in loaded.errors:
        out.write(f"warning: {error}\n")
    return 0


def _print_catalog(out: TextIO) -> int:
    from app.catalog import Catalog

    for gpu in Catalog.builtin().gpus:
        labels = ", ".join(gpu.product_labels[:2])
        out.write(f"{gpu.name:<14} {gpu.memory_gb:>6g} GB  {gpu.arch:<7} {labels}\n")
        if gpu.aliases:
            out.write(f"{'':<14} aliases: {', '.join(gpu.aliases)}\n")
        if gpu.instance_types:
            out.write(f"{'':<14} instances: {', '.join(gpu.instance_types)}\n")
    return 0


def _service_command(args: argparse.Namespace) -> int:
    command: str = args.command
    if command == "demo":
        from app.demo import run_demo

        return run_demo(sys.stdout)
    from pydantic import ValidationError

    from app.service.settings import get_settings

    try:
        settings = get_settings()
    except (ValidationError, ValueError) as error:
        raise UsageError(f"invalid settings: {error}".splitlines()[0]) from error
    if command == "serve":
        from app.service.server import serve

        serve(settings, args.host, args.port)
        return 0
    if command == "worker":
        from app.service.worker_main import run_worker

        return run_worker(settings)
    if command == "jobs":
        from app.service.jobs_admin import list_jobs

        return list_jobs(settings, sys.stdout, requeue_failed=args.requeue_failed)
    if command == "replay":
        from app.replay import replay

        return replay(args.payload, args.event, args.url, settings)
    raise UsageError(f"unknown command {command!r}")


if __name__ == "__main__":
    raise SystemExit(main())
