"""`align`: the command line. Every review goes through align.review, as in the service and the demo.

Exit status: 0 no finding reaches `fail_on`; 1 one does (an invalid manifest included); 2 usage error
(unknown ref, not a git repository, a file that cannot be written), one line; 3 internal error, one line
(`--debug` prints the traceback). Commands import what they need when they run: `align check` starts
without the web service, rich or the reporters it does not use.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

from align import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
FORMATS = ("text", "json", "markdown", "sarif", "github", "junit")


class UsageError(Exception):
    """Exit status 2 with a one-line reason."""


# name: (one-line help, description, examples)
COMMANDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "check": (
        "review the change from base to head",
        "Review the change from BASE to HEAD against align.yaml. The default base is the merge-base with the "
        "default branch; under GitHub Actions, the base of the pull request in the event (a shallow checkout is "
        "fetched as needed). --staged reviews the index and --worktree every uncommitted change, against HEAD.",
        ("align check", "align check --base origin/main --format sarif=align.sarif --format text",
         "align check --staged            # what pre-commit runs"),
    ),
    "scan": (
        "audit every file at one commit against the manifest",
        "Audit every file at one commit against its align.yaml: every file that needs updating.",
        ("align scan", "align scan --ref v1.2.0 --format json --output scan.json"),
    ),
    "baseline": (
        "record today's findings so that check and scan report only new ones",
        "Scan one commit and write the fingerprints of its findings to a baseline file (default "
        ".align-baseline.json). Commit it: check and scan then leave those findings out (check reads it from the "
        "base commit, so a change cannot baseline its own findings).",
        ("align baseline", "align baseline --output ci/align-baseline.json"),
    ),
    "fix": (
        "apply the verified suggestions to the working tree",
        "Apply every suggestion the engine verified (a fix that leaves its lines clean) to the files in the "
        "working tree. --dry-run prints the unified diff instead. Files changed since HEAD are left alone "
        "unless --worktree (then the suggestions for the working tree are used).",
        ("align fix --dry-run", "align fix --base origin/main", "align fix --worktree"),
    ),
    "scope": (
        "files in scope per deployment, and the excluded ones with the reason",
        "List every file at one commit with the deployment it binds to, or the class or glob that excluded it.",
        ("align scope", "align scope --ref HEAD~3 --format json"),
    ),
    "init": (
        "propose an align.yaml from the repository",
        "Read the repository (Terraform, Kubernetes and Helm values, SkyPilot, Compose, Dockerfiles first, then "
        "code and docs) and propose an align.yaml: GPU, count, provider, instance type and the paths that "
        "describe the deployment. Printed; written only with --write.",
        ("align init", "align init --write"),
    ),
    "validate": (
        "check an align.yaml",
        "Validate align.yaml files (default: the one here) strictly: every problem with its line and field, "
        "and a did-you-mean for misspelt keys. Exit 1 when one is invalid.",
        ("align validate", "align validate deploy/align.yaml"),
    ),
    "schema": (
        "print the JSON Schema of align.yaml",
        "Print the JSON Schema of align.yaml (for editors and SchemaStore), with the catalog's GPU names.",
        ("align schema > align.schema.json",),
    ),
    "rules": (
        "the rules the engine knows, with their documentation",
        "List the rules with their default severity and whether their fix is safe; name one for its full "
        "documentation.",
        ("align rules", "align rules gpu-memory-overcommit"),
    ),
    "catalog": (
        "the GPUs the catalog knows",
        "List the GPUs of the built-in catalog: memory, architecture, labels, aliases and instance types.",
        ("align catalog", "align catalog | grep -i h200"),
    ),
    "serve": (
        "run the GitHub App web service",
        "Run the GitHub App web service (settings from ALIGN_* variables or .env; see the README).",
        ("align serve", "align serve --host 0.0.0.0 --port 8000"),
    ),
    "worker": (
        "run a queue worker (distributed mode, ALIGN_QUEUE=redis)",
        "Run a queue worker that reviews pull requests queued in Redis by `align serve` (ALIGN_QUEUE=redis).",
        ("ALIGN_QUEUE=redis align worker",),
    ),
    "jobs": (
        "list queued, running and failed jobs (distributed mode)",
        "List the jobs in the Redis queue (ALIGN_QUEUE=redis, ALIGN_REDIS_URL) with failed jobs' errors.",
        ("ALIGN_QUEUE=redis align jobs", "ALIGN_QUEUE=redis align jobs --requeue-failed"),
    ),
    "demo": (
        "the whole loop locally: simulator, service, a pull request and its review",
        "Run a local GitHub simulator with an example repository and pull request, the real service, and print "
        "what a reviewer would see. No account, token or network needed.",
        ("align demo",),
    ),
    "replay": (
        "send a saved webhook payload, signed, to a running service",
        "Send a saved webhook payload, signed with ALIGN_WEBHOOK_SECRET, to a running service.",
        ("align replay payload.json --event pull_request",),
    ),
    "completion": (
        "print a shell completion script",
        "Print a completion script for bash, zsh or fish.",
        ("align completion bash > ~/.local/share/bash-completion/completions/align",
         "align completion zsh > \"${fpath[1]}/_align\"",
         "align completion fish > ~/.config/fish/completions/align.fish"),
    ),
}


def _subparser(sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str,
               common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    short, description, examples = COMMANDS[name]
    epilog = "examples:\n" + "\n".join(f"  {example}" for example in examples)
    return sub.add_parser(name, help=short, description=textwrap.fill(description, 79), epilog=epilog,
                          parents=[common],
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="align",
        description="Keep pull requests aligned with the GPU deployment declared in align.yaml.",
        epilog="examples:\n  align check\n  align init --write\n  align demo\n\n"
               "exit status: 0 aligned, 1 findings reach fail_on, 2 usage error, 3 internal error",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"align {__version__}")
    parser.add_argument("--debug", action="store_true", help="print the traceback of an internal error")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = _subparser(sub, "check", common)
    _repo(check)
    check.add_argument("--base", help="base revision (default: merge-base with the default branch, or the event's)")
    check.add_argument("--head", help="head revision (default: HEAD)")
    pending = check.add_mutually_exclusive_group()
    pending.add_argument("--staged", action="store_true", help="review the index (staged changes) against HEAD")
    pending.add_argument("--worktree", action="store_true",
                         help="review the working tree (every uncommitted change, untracked files too) against HEAD")
    _output_options(check)

    scan = _subparser(sub, "scan", common)
    _repo(scan)
    scan.add_argument("--ref", default="HEAD", help="the commit to audit (default: HEAD)")
    _output_options(scan)

    baseline = _subparser(sub, "baseline", common)
    _repo(baseline)
    baseline.add_argument("--ref", default="HEAD", help="the commit whose findings to record (default: HEAD)")
    baseline.add_argument("--output", type=Path, help="where to write it (default: .align-baseline.json in the repo)")

    fix = _subparser(sub, "fix", common)
    _repo(fix)
    fix.add_argument("--base", help="review the change from BASE (default: as `align check`)")
    fix.add_argument("--worktree", action="store_true", help="fix what `align check --worktree` finds")
    fix.add_argument("--all-files", action="store_true", help="fix every file (`align scan`), not only the change")
    fix.add_argument("--dry-run", action="store_true", help="print the unified diff; change nothing")

    scope = _subparser(sub, "scope", common)
    _repo(scope)
    scope.add_argument("--ref", default="HEAD", help="the commit to list (default: HEAD)")
    scope.add_argument("--format", choices=("text", "json"), default="text")

    init = _subparser(sub, "init", common)
    _repo(init)
    init.add_argument("--write", action="store_true", help="write align.yaml (refuses to overwrite one)")

    validate = _subparser(sub, "validate", common)
    validate.add_argument("files", nargs="*", type=Path, metavar="FILE",
                          help="the files (default: ./align.yaml, then .github/align.yaml)")

    _subparser(sub, "schema", common)

    rules = _subparser(sub, "rules", common)
    rules.add_argument("rule", nargs="?", help="show one rule's full documentation")
    _subparser(sub, "catalog", common)

    serve = _subparser(sub, "serve", common)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    _subparser(sub, "worker", common)
    jobs = _subparser(sub, "jobs", common)
    jobs.add_argument("--requeue-failed", action="store_true", help="put failed jobs back on the queue")

    _subparser(sub, "demo", common)
    replay = _subparser(sub, "replay", common)
    replay.add_argument("payload", type=Path)
    replay.add_argument("--event", required=True, help="the X-GitHub-Event name, e.g. pull_request")
    replay.add_argument("--url", default="http://127.0.0.1:8000/api/github/webhooks")

    completion = _subparser(sub, "completion", common)
    completion.add_argument("shell", choices=("bash", "zsh", "fish"))
    return parser


def _repo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo", default=".", help="repository directory (default: .)")


def _output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format", action="append", metavar="NAME[=FILE]",
        help=f"report format ({', '.join(FORMATS)}), to FILE or standard output; repeat for several reports "
             "(default: github under GitHub Actions, else text)",
    )
    parser.add_argument("--output", type=Path, help="write the (first) report to FILE instead of standard output")
    parser.add_argument("--baseline", type=Path, metavar="FILE",
                        help="leave out findings listed in this baseline (default: .align-baseline.json when the "
                             "base commit has one)")
    parser.add_argument("--no-baseline", action="store_true", help="report every finding, baseline or not")
    parser.add_argument("--all", action="store_true", dest="audit",
                        help="also report mentions that bind to no deployment, as notices saying why (an audit)")


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """`environ`: the variables to read (GITHUB_*, NO_COLOR...); default: this process's."""
    args = build_parser().parse_args(argv)
    from align.cli_output import OutputError, Writer

    writer = Writer()
    try:
        return _dispatch(args, writer, dict(os.environ if environ is None else environ))
    except (UsageError, OutputError) as error:
        print(f"align: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        writer.close_pipe()
        return EXIT_OK
    except Exception as error:  # the one place an unexpected error becomes exit 3, not a traceback
        if getattr(args, "debug", False):
            import traceback

            traceback.print_exc()
        else:
            reason = " ".join(str(error).split())[:300]
            print(f"align: internal error: {type(error).__name__}: {reason} (run with --debug for the traceback)",
                  file=sys.stderr)
        return EXIT_INTERNAL


def _dispatch(args: argparse.Namespace, writer: object, environ: dict[str, str]) -> int:
    from align import cli_commands

    command: str = args.command
    handler = getattr(cli_commands, f"cmd_{command}", None)
    if handler is None:
        raise UsageError(f"unknown command {command!r}")
    try:
        result: int = handler(args, writer, environ)
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] not in SERVER_MODULES:
            raise
        raise UsageError(f"`align {command}` runs the GitHub App and needs its dependencies: "
                         f"pip install 'align-bot[server]' (missing: {error.name})") from error
    return result


# Top-level modules of the `server` extra (pyproject.toml): the CLI and the engine never import them.
SERVER_MODULES = frozenset({"fastapi", "starlette", "uvicorn", "github", "pydantic_settings", "prometheus_client",
                            "httpx", "requests", "jwt", "cryptography", "redis", "rq"})


if __name__ == "__main__":  # `python -m align.cli`: run the imported module, whose classes the commands raise
    from align.cli import main as _main

    raise SystemExit(_main())
