"""The GitHub Action's entry point (`action.yml` runs `python -m align.action`).

Inputs come as `INPUT_*` variables (set by action.yml), the rest from the Actions environment:
`align check` with the base and head of the event (fetching what the shallow checkout lacks), workflow
commands on standard output (annotations on the pull request), the alignment report as the job summary
(`GITHUB_STEP_SUMMARY`), SARIF when asked, `conclusion`/`findings`/`sarif` as step outputs
(`GITHUB_OUTPUT`), and the exit status by `fail_on`:

- `fail_on: align.yaml` (default): the manifest's own `fail_on`, as `align check` exits;
- `error` / `warning` / `notice`: fail when a finding is at least that severe; `never`: do not fail.

Exit 2 (usage: e.g. a shallow clone that cannot be deepened, with the `fetch-depth: 0` hint) and 3
(internal error) pass through.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from align.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE

FAIL_ON_VALUES = ("align.yaml", "error", "warning", "notice", "never")
_RANK = {"notice": 1, "warning": 2, "error": 3}


def _input(environ: Mapping[str, str], name: str, default: str = "") -> str:
    return environ.get(f"INPUT_{name.upper()}", default).strip() or default


def check_arguments(environ: Mapping[str, str], json_path: Path) -> list[str]:
    """The `align check` command line the inputs ask for."""
    workspace = environ.get("GITHUB_WORKSPACE") or "."
    directory = Path(workspace) / _input(environ, "working_directory", ".")
    args = ["check", "--repo", str(directory), "--format", "github", "--format", f"json={json_path}"]
    summary = environ.get("GITHUB_STEP_SUMMARY")
    if summary and _input(environ, "summary", "true") == "true":
        args += ["--format", f"markdown={summary}"]
    sarif = _input(environ, "sarif")
    if sarif:
        args += ["--format", f"sarif={Path(workspace) / sarif}"]
    base = _input(environ, "base")
    if base:
        args += ["--base", base]
    baseline = _input(environ, "baseline")
    if baseline:
        args += ["--baseline", str(directory / baseline)]
    args += shlex.split(_input(environ, "args"))
    return args


def exit_status(report: Mapping[str, object], fail_on: str, cli_status: int) -> int:
    """`align.yaml`: what the CLI decided; otherwise whether a finding reaches the input's threshold."""
    if fail_on == "align.yaml":
        return cli_status
    if fail_on == "never":
        return EXIT_OK
    findings = report.get("findings")
    threshold = _RANK[fail_on]
    severities = [str(f.get("severity")) for f in findings if isinstance(f, dict)] if isinstance(findings, list) else []
    return EXIT_FINDINGS if any(_RANK.get(s, 0) >= threshold for s in severities) else EXIT_OK


def write_outputs(environ: Mapping[str, str], values: Mapping[str, str]) -> None:
    target = environ.get("GITHUB_OUTPUT")
    if not target:
        return
    with open(target, "a", encoding="utf-8") as handle:
        for key, value in values.items():
            handle.write(f"{key}={value}\n")


def run(environ: Mapping[str, str] | None = None, argv: Sequence[str] | None = None) -> int:
    from align.cli import main as cli_main

    environ = dict(os.environ if environ is None else environ)
    fail_on = _input(environ, "fail_on", "align.yaml").lower()
    if fail_on not in FAIL_ON_VALUES:
        print(f"align: input fail_on must be one of {', '.join(FAIL_ON_VALUES)}, got {fail_on!r}", file=sys.stderr)
        return EXIT_USAGE
    with tempfile.TemporaryDirectory(prefix="align-action-") as scratch:
        json_path = Path(scratch) / "report.json"
        args = check_arguments(environ, json_path)
        status = cli_main([*args, *(argv or ())], environ)
        if status not in (EXIT_OK, EXIT_FINDINGS):
            return status  # usage or internal error: already said on standard error
        report = json.loads(json_path.read_text(encoding="utf-8"))
    findings = report.get("findings", [])
    sarif = _input(environ, "sarif")
    write_outputs(environ, {
        "conclusion": str(report.get("conclusion")),
        "findings": str(len(findings) if isinstance(findings, list) else 0),
        "sarif": sarif,
    })
    return exit_status(report, fail_on, status)


if __name__ == "__main__":
    raise SystemExit(run())
