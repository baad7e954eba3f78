"""One function per `align` command: `cmd_<name>(args, writer, environ) -> exit status`. Each imports what
it needs when it runs, so a command pays only for itself."""

from __future__ import annotations

import argparse
import io
from collections.abc import Mapping
from typing import Any

from align.cli import EXIT_OK, UsageError
from align.cli_output import Writer
from align.cli_review import cmd_baseline, cmd_check, cmd_scan


def cmd_fix(args: argparse.Namespace, writer: Writer, environ: Mapping[str, str]) -> int:
    from align.cli_fix import run_fix

    return run_fix(args, writer, environ)


def cmd_init(args: argparse.Namespace, writer: Writer, environ: Mapping[str, str]) -> int:
    from align.cli_project import run_init

    return run_init(args, writer)


def cmd_validate(args: argparse.Namespace, writer: Writer, environ: Mapping[str, str]) -> int:
    from align.cli_project import run_validate

    return run_validate(args, writer)


def cmd_schema(args: argparse.Namespace, writer: Writer, environ: Mapping[str, str]) -> int:
    from align.schema import schema_text

    writer.write(schema_text())
    return EXIT_OK


def cmd_scope(args: argparse.Namespace, writer: Writer, environ: Mapping[str, str]) -> int:
    from align.git_source import GitSource
    from align.report.scope_listing import render_scope
    from align.review import list_scope
    from align.source import SourceError

    try:
        listing = list_scope(GitSource(args.repo), args.ref)
    except SourceError as error:
        raise UsageError(str(error)) from error
    writer.write(render_scope(listing, args.format))
    return EXIT_OK


def cmd_rules(args: argparse.Namespace, writer: Writer, environ: Mapping[str, str]) -> int:
    from align.rule_api import load_rules

    loaded = load_rules()
    rules = [r for r in loaded.rules if args.rule in (None, r.id)]
    if args.rule and not rules:
        raise UsageError(f"unknown rule {args.rule!r}; `align rules` lists them")
    out = io.StringIO()
    for rule in rules:
        fix = "safe fix" if rule.fix_safe else "no automatic fix"
        out.write(f"{rule.id}  [{rule.default_severity.value}, {fix}]\n")
        doc = getattr(rule, "doc", None)
        text = doc() if callable(doc) and args.rule else rule.summary
        out.write("".join(f"    {line}\n" if line else "\n" for line in str(text).splitlines()))
        out.write("\n")
    for error in loaded.errors:
        out.write(f"warning: {error}\n")
    writer.write(out.getvalue())
    return EXIT_OK


def cmd_catalog(args: argparse.Namespace, writer: Writer, environ: Mapping[str, str]) -> int:
    from align.catalog import Catalog

    for gpu in Catalog.builtin().gpus:
        labels = ", ".join(gpu.product_labels[:2])
        lines = [f"{gpu.name:<14} {gpu.memory_gb:>6g} GB  {gpu.arch:<7} {labels}"]
        if gpu.aliases:
            lines.append(f"{'':<14} aliases: {', '.join(gpu.aliases)}")
        if gpu.instance_types:
            lines.append(f"{'':<14} instances: {', '.join(gpu.instance_types)}")
        writer.write("\n".join(lines))
        if writer.pipe_closed:
            break
    return EXIT_OK


def cmd_completion(args: argparse.Namespace, writer: Writer, environ: Mapping[str, str]) -> int:
    from align.cli import build_parser
    from align.cli_completion import completion_script

    writer.write(completion_script(build_parser(), args.shell))
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, writer: Writer, environ: Mapping[str, str]) -> int:
    from align.demo import run_demo

    return run_demo(writer.stdout)


def _settings(*, need_secret: bool = True) -> Any:
    from align.service.settings import QueueSettings, SettingsError, get_settings

    try:
        return get_settings() if need_secret else QueueSettings.load()
    except SettingsError as error:
        raise UsageError(str(error)) from None  # already "invalid settings: ...", said once


def cmd_serve(args: argparse.Namespace, writer: Writer, environ: Mapping[str, str]) -> int:
    from align.service.server import serve

    serve(_settings(), args.host, args.port)
    return EXIT_OK


def cmd_worker(args: argparse.Namespace, writer: Writer, environ: Mapping[str, str]) -> int:
    from align.service.worker_main import run_worker

    return run_worker(_settings())


def cmd_jobs(args: argparse.Namespace, writer: Writer, environ: Mapping[str, str]) -> int:
    """Only the queue settings: listing jobs needs no webhook secret or App key."""
    from align.service.jobs_admin import list_jobs

    return list_jobs(_settings(need_secret=False), writer.stdout, requeue_failed=args.requeue_failed)


def cmd_replay(args: argparse.Namespace, writer: Writer, environ: Mapping[str, str]) -> int:
    from align.replay import replay

    return replay(args.payload, args.event, args.url, _settings(), out=writer.stdout)


__all__ = ["cmd_baseline", "cmd_check", "cmd_scan"]
