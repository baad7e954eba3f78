"""The CLI as a user meets it: several reports in one run, exit statuses 0/1/2/3, closed pipes, unwritable
outputs, settings errors said once, help with a description and an example for every command, shell
completion, colour and progress, `validate`, `schema`, `init`, `fix`, and align.yaml errors placed on the
lines a change wrote."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from align import cli
from align.cli_output import Progress
from align.report.text import wants_color
from align.schema import SCHEMA_FILE, generated_text
from tests.gitrepo import commit_tree, git, init_repo
from tests.helpers import GH200_MANIFEST

ROOT = Path(__file__).resolve().parents[1]
CLEAN_ENV = {k: v for k, v in os.environ.items()
             if not k.startswith(("GITHUB_", "ALIGN_", "NO_COLOR", "FORCE_COLOR"))}


def _align(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "align.cli", *args], capture_output=True, text=True, cwd=cwd,
                          env={**CLEAN_ENV, "PYTHONPATH": str(ROOT), **(env or {})}, timeout=120)


@pytest.fixture
def pr_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    init_repo(repo)
    commit_tree(repo, files={"align.yaml": GH200_MANIFEST, "README.md": "GH200\n"})
    git(repo, "checkout", "-qb", "feature")
    commit_tree(repo, files={"stack.py": 'GPU = "H200"\n'})
    return repo


# -- reports ---------------------------------------------------------------------------------------------


def test_several_formats_in_one_run(pr_repo: Path, tmp_path: Path) -> None:
    done = _align("check", "--repo", str(pr_repo), "--format", "json", "--format", f"sarif={tmp_path / 'a.sarif'}",
                  "--format", f"junit={tmp_path / 'a.xml'}", "--format", f"markdown={tmp_path / 'a.md'}")
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["conclusion"] == "failure"
    assert json.loads((tmp_path / "a.sarif").read_text())["version"] == "2.1.0"
    junit = (tmp_path / "a.xml").read_text()
    assert 'failures="1"' in junit and "<failure type=\"gpu-model-mismatch\"" in junit
    assert "gpu-model-mismatch" in (tmp_path / "a.md").read_text()


def test_two_reports_to_standard_output_is_a_usage_error(pr_repo: Path) -> None:
    done = _align("check", "--repo", str(pr_repo), "--format", "json", "--format", "text")
    assert done.returncode == 2
    assert done.stderr.startswith("align: only one report can go to standard output")


def test_github_format_is_the_default_under_actions(pr_repo: Path) -> None:
    done = _align("check", "--repo", str(pr_repo), "--base", "main", env={"GITHUB_ACTIONS": "true"})
    assert done.returncode == 1
    assert done.stdout.startswith("::error file=stack.py,line=1,endLine=1,col=8,endColumn=12,")


def test_sarif_region_carries_columns_and_a_skipped_run_its_reason(pr_repo: Path, tmp_path: Path) -> None:
    sarif = json.loads(_align("check", "--repo", str(pr_repo), "--format", "sarif").stdout)
    region = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 1, "endLine": 1, "startColumn": 8, "endColumn": 12}
    same = _align("check", "--repo", str(pr_repo), "--base", "HEAD", "--format", "sarif")
    run = json.loads(same.stdout)["runs"][0]
    assert run["properties"]["skippedReason"].startswith("base and head are the same commit")
    schema = json.loads((ROOT / "app/report/sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(json.loads(same.stdout), schema)


# -- exit statuses and errors ---------------------------------------------------------------------------


def test_unwritable_output_exits_2_with_one_line(pr_repo: Path) -> None:
    done = _align("check", "--repo", str(pr_repo), "--output", "/nonexistent/x.sarif", "--format", "sarif")
    assert done.returncode == 2
    assert done.stderr == "align: cannot write /nonexistent/x.sarif: directory /nonexistent does not exist\n"


def test_closed_pipe_ends_quietly() -> None:
    process = subprocess.Popen([sys.executable, "-m", "align.cli", "catalog"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, cwd=ROOT, env={**CLEAN_ENV, "PYTHONPATH": str(ROOT)})
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()  # `| head -1`
    status = process.wait(timeout=60)
    assert first.split()[0] == b"A10"
    assert status == 0 and process.stderr.read() == b""


def test_internal_error_is_exit_3_in_one_line_and_debug_shows_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from align import cli_commands

    def broken(*_args: object) -> int:
        raise RuntimeError("catalog exploded\nsecond line")

    monkeypatch.setattr(cli_commands, "cmd_catalog", broken)
    assert cli.main(["catalog"]) == cli.EXIT_INTERNAL
    err = capsys.readouterr().err
    assert err == "align: internal error: RuntimeError: catalog exploded second line (run with --debug for the " \
                  "traceback)\n"
    assert cli.main(["--debug", "catalog"]) == cli.EXIT_INTERNAL
    assert "Traceback (most recent call last)" in capsys.readouterr().err
    assert cli.main(["catalog", "--debug"]) == cli.EXIT_INTERNAL  # after the command too
    assert "Traceback" in capsys.readouterr().err


def test_settings_errors_are_said_once_and_jobs_needs_no_webhook_secret() -> None:
    serve = _align("serve")
    assert serve.returncode == 2
    assert serve.stderr.count("invalid settings:") == 1 and "ALIGN_WEBHOOK_SECRET" in serve.stderr
    jobs = _align("jobs", env={"ALIGN_QUEUE": "redis", "ALIGN_REDIS_URL": "redis://127.0.0.1:1/0"})
    assert "WEBHOOK_SECRET" not in jobs.stdout + jobs.stderr
    assert jobs.returncode == 1 and "Redis unreachable at 127.0.0.1:1" in jobs.stdout


# -- help, completion, colour, progress -----------------------------------------------------------------


def test_every_command_has_a_description_and_an_example() -> None:
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    assert commands is not None and set(commands) == set(cli.COMMANDS)
    for name, sub in commands.items():
        text = sub.format_help()
        assert sub.description and len(sub.description) > 20, name
        assert "examples:\n  align" in text or "examples:\n  ALIGN_" in text, name


def test_completion_scripts_name_every_command(tmp_path: Path) -> None:
    bash = _align("completion", "bash")
    script = tmp_path / "align.bash"
    script.write_text(bash.stdout)
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0
    probe = f'source {script}; COMP_WORDS=(align ch); COMP_CWORD=1; _align; echo "${{COMPREPLY[@]}}"'
    assert subprocess.run(["bash", "-c", probe], capture_output=True, text=True).stdout.split() == ["check"]
    probe = f'source {script}; COMP_WORDS=(align check --st); COMP_CWORD=2; _align; echo "${{COMPREPLY[@]}}"'
    assert subprocess.run(["bash", "-c", probe], capture_output=True, text=True).stdout.split() == ["--staged"]
    for shell in ("zsh", "fish"):
        out = _align("completion", shell).stdout
        for command in cli.COMMANDS:
            assert command in out, (shell, command)


def test_colour_follows_the_terminal_no_color_and_force_color(pr_repo: Path) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert wants_color(Tty(), {}) and not wants_color(io.StringIO(), {})
    assert not wants_color(Tty(), {"NO_COLOR": "1", "FORCE_COLOR": "1"})
    assert wants_color(io.StringIO(), {"FORCE_COLOR": "1"}) and not wants_color(io.StringIO(), {"FORCE_COLOR": "0"})
    assert "\x1b[" in _align("check", "--repo", str(pr_repo), env={"FORCE_COLOR": "1"}).stdout
    assert "\x1b[" not in _align("check", "--repo", str(pr_repo)).stdout


def test_progress_line_only_after_a_second_and_erased() -> None:
    stream = io.StringIO()
    progress = Progress(stream, "reviewing", enabled=False)
    progress.tick(now=progress.started + 0.4)
    assert stream.getvalue() == ""
    progress.tick(now=progress.started + 2.2)
    assert stream.getvalue() == "\r\x1b[2Kalign: reviewing… 2s"
    progress.clear()
    assert stream.getvalue().endswith("\r\x1b[2K") and not progress.shown
    assert not Progress(io.StringIO(), "x").enabled  # not a terminal: never shown


# -- align.yaml: validate, schema, errors in the diff -----------------------------------------------------


def test_validate_points_at_the_typo_with_did_you_mean(tmp_path: Path) -> None:
    bad = tmp_path / "align.yaml"
    bad.write_text(GH200_MANIFEST.replace("count:", "cout:"))
    done = _align("validate", str(bad))
    assert done.returncode == 1
    assert f"{bad}:5: deployments[0].cout: unknown key 'cout'; did you mean 'count'?" in done.stdout
    good = tmp_path / "good.yaml"
    good.write_text(GH200_MANIFEST)
    ok = _align("validate", str(good))
    assert ok.returncode == 0 and "valid (production: 3 × GH200)" in ok.stdout


def test_schema_is_shipped_generated_from_the_models_and_validates_manifests() -> None:
    assert SCHEMA_FILE.read_text() == generated_text(), "run `python -m align.schema --write`"
    printed = json.loads(_align("schema").stdout)
    jsonschema.Draft202012Validator.check_schema(printed)
    import yaml

    validator = jsonschema.Draft202012Validator(printed)
    assert not list(validator.iter_errors(yaml.safe_load(GH200_MANIFEST)))
    alias = yaml.safe_load(GH200_MANIFEST.replace("gpu: GH200", "gpu: Grace Hopper"))
    assert not list(validator.iter_errors(alias))
    errors = {e.message for e in validator.iter_errors(yaml.safe_load(
        GH200_MANIFEST.replace("gpu: GH200", "gpu: H2000").replace("count:", "cout:")))}
    assert "'count' is a required property" in errors and any("'H2000' is not one of" in e for e in errors)
    custom = yaml.safe_load(GH200_MANIFEST.replace("gpu: GH200", "gpu: MyGPU")
                            + "catalog:\n  - {name: MyGPU, memory_gb: 48, arch: x86_64}\n")
    assert not list(validator.iter_errors(custom))  # a GPU of its own catalog


def test_scan_does_not_say_the_manifest_is_added_by_a_change(pr_repo: Path) -> None:
    report = json.loads(_align("scan", "--repo", str(pr_repo), "--format", "json").stdout)
    assert report["conclusion"] == "failure" and not any("added by this change" in n for n in report["notes"])


def test_a_change_that_breaks_align_yaml_gets_the_error_on_its_line(pr_repo: Path) -> None:
    commit_tree(pr_repo, files={"align.yaml": GH200_MANIFEST.replace("count: 3", "cout: 3")})
    report = json.loads(_align("check", "--repo", str(pr_repo), "--format", "json").stdout)
    [typo] = [f for f in report["findings"] if "cout" in f["message"]]
    assert typo["rule"] == "manifest-invalid" and typo["line"] == 5 and typo["in_diff"] is True
    assert "did you mean 'count'?" in typo["message"]


# -- init and fix ---------------------------------------------------------------------------------------


def test_init_proposes_from_infrastructure_and_writes_only_when_asked(tmp_path: Path) -> None:
    repo = tmp_path / "infra"
    init_repo(repo)
    commit_tree(repo, files={
        "terraform/main.tf": 'provider "aws" {\n  region = "us-east-1"\n}\nresource "aws_instance" "gpu" {\n'
                             '  instance_type = "p5.48xlarge"\n  count = 2\n}\n',
        "README.md": "We benchmarked A100 and L4 before settling.\n",
        "tests/fixtures/gpus.yaml": "gpu: T4\n",
    })
    proposed = _align("init", "--repo", str(repo))
    assert proposed.returncode == 0, proposed.stderr
    assert "gpu: H100 SXM" in proposed.stdout and "count: 16" in proposed.stdout  # 2 instances × 8 GPUs
    assert "provider: aws" in proposed.stdout and "instance_type: p5.48xlarge" in proposed.stdout
    assert '"terraform/**"' in proposed.stdout and "T4" not in proposed.stdout
    assert not (repo / "align.yaml").exists()
    written = _align("init", "--repo", str(repo), "--write")
    assert written.returncode == 0 and (repo / "align.yaml").exists()
    assert _align("validate", str(repo / "align.yaml")).returncode == 0
    again = _align("init", "--repo", str(repo), "--write")
    assert again.returncode == 2 and "exists already" in again.stderr


def test_fix_dry_run_shows_the_diff_and_fix_applies_it(pr_repo: Path) -> None:
    (pr_repo / "extra.py").write_text('NODES = "H200"  # not committed yet\n')
    dry = _align("fix", "--repo", str(pr_repo), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert '-GPU = "H200"\n+GPU = "GH200"' in dry.stdout and "+++ b/extra.py" in dry.stdout
    assert (pr_repo / "stack.py").read_text() == 'GPU = "H200"\n'
    assert "would fix 2 finding(s) in 2 file(s)" in dry.stderr
    done = _align("fix", "--repo", str(pr_repo))
    assert done.returncode == 0 and "fixed 2 finding(s)" in done.stderr
    assert (pr_repo / "stack.py").read_text() == 'GPU = "GH200"\n'
    assert (pr_repo / "extra.py").read_text() == 'NODES = "GH200"  # not committed yet\n'
    assert _align("check", "--repo", str(pr_repo), "--worktree").returncode == 0
