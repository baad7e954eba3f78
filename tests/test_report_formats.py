"""The `github` (workflow commands) and `junit` reporters, columns, and what every format says about
suppressed, waived, baselined and skipped runs."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace

import jsonschema
import pytest

from align.columns import with_columns
from align.findings import Finding, Severity, Waiver
from align.report import FORMATS, render
from align.report.github import escape_data, escape_property, finding_command
from align.report.sarif import SCHEMA_PATH
from align.result import ReviewResult
from align.suppressions import Suppression

BASE, HEAD = "a" * 40, "b" * 40


def _finding(rule: str = "gpu-model-mismatch", severity: Severity = Severity.ERROR, path: str = "app.py",
             line: int = 3, message: str = "Names H200", **extra: object) -> Finding:
    base = Finding(rule=rule, severity=severity, path=path, line=line, end_line=line, message=message,
                   evidence=message)
    return replace(base, **extra).with_fingerprint()  # type: ignore[arg-type]


def test_workflow_command_escaping_follows_the_runner() -> None:
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a:b,c%d\ne") == "a%3Ab%2Cc%25d%0Ae"
    command = finding_command(_finding(path="dir,with:odd/file.py", message="line one\n::warning::injected 100%",
                                       suggestion="x = 1\ny = 2", column=5, end_column=9))
    assert "\n" not in command  # one finding, one command: text cannot start a command of its own
    assert command == ("::error file=dir%2Cwith%3Aodd/file.py,line=3,endLine=3,col=5,endColumn=9,"
                       "title=Align%3A gpu-model-mismatch::line one%0A::warning::injected 100%25"
                       "%0ASuggested:%0Ax = 1%0Ay = 2")


def test_workflow_commands_for_each_severity_and_a_plain_summary() -> None:
    findings = (_finding(), _finding("cost-mismatch", Severity.WARNING, line=4),
                _finding("manifest-changed", Severity.NOTICE, path="align.yaml", line=0))
    out = render(ReviewResult(BASE, HEAD, "failure", findings=findings), "github").splitlines()
    assert [line.split(" ", 1)[0] for line in out[:3]] == ["::notice", "::error", "::warning"]
    assert "line=1" in out[0]  # a line 0 (the whole file) is still a valid position
    assert out[-1] == "Align check: 1 error, 1 warning, 1 notice; conclusion: failure"
    assert not out[-1].startswith("::")


def test_junit_failures_by_fail_on_and_skips_with_reasons() -> None:
    suppression = Suppression("b.py", 1, ("cost-mismatch",), "bench box")
    result = ReviewResult(
        BASE, HEAD, "failure", fail_on="error",
        findings=(_finding(), _finding("cost-mismatch", Severity.WARNING, line=9)),
        suppressed=((_finding("cost-mismatch", Severity.WARNING, path="b.py", line=1), suppression),),
        waived=((_finding(path="c.py"), Waiver("gpu-model-mismatch", "octocat", "lab only")),),
        baselined=(_finding(path="d.py"),),
    )
    root = ET.fromstring(render(result, "junit"))
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("5", "1", "3")
    failures = [case.get("name") for case in suite if case.find("failure") is not None]
    assert failures == ["gpu-model-mismatch at app.py:3"]
    skipped = sorted(str(s.get("message")) for s in suite.iter("skipped"))
    assert skipped == ["in the baseline", "suppressed inline: bench box", "waived by octocat: lab only"]


def test_a_clean_and_a_skipped_run_in_every_format() -> None:
    clean = ReviewResult(BASE, HEAD, "success")
    skipped = ReviewResult(BASE, BASE, "skipped", skipped_reason="base and head are the same commit")
    for fmt in FORMATS:
        assert render(clean, fmt)
        said = render(skipped, fmt)
        assert "base and head are the same commit" in said, fmt
    junit = ET.fromstring(render(clean, "junit"))
    assert junit.get("tests") == "1" and junit.get("failures") == "0"


def test_sarif_with_columns_suppressions_and_baseline_is_valid() -> None:
    suppression = Suppression("b.py", 1, ("gpu-model-mismatch",), "bench box")
    result = ReviewResult(BASE, HEAD, "failure",
                          findings=(_finding(column=8, end_column=12, suggestion='GPU = "GH200"'),),
                          suppressed=((_finding(path="b.py", line=1), suppression),),
                          baselined=(_finding(path="d.py"),))
    sarif = json.loads(render(result, "sarif"))
    jsonschema.validate(sarif, json.loads(SCHEMA_PATH.read_text()))
    first, inline, known = sarif["runs"][0]["results"]
    region = first["locations"][0]["physicalLocation"]["region"]
    assert (region["startColumn"], region["endColumn"]) == (8, 12)
    fix_region = first["fixes"][0]["artifactChanges"][0]["replacements"][0]["deletedRegion"]
    assert "startColumn" not in fix_region  # a suggestion replaces whole lines
    assert inline["suppressions"][0]["kind"] == "inSource"
    assert known["suppressions"][0]["justification"] == "in the baseline file"


@pytest.mark.parametrize(
    ("line", "finding", "span"),
    [
        ('GPU = "H200"', _finding(suggestion='GPU = "GH200"', stated="H200"), (8, 12)),
        ("FROM --platform=linux/amd64 img", _finding(suggestion="FROM --platform=linux/arm64 img"), (23, 28)),
        ("| Memory | 141GB |", _finding(stated="141GB"), (12, 17)),
        ("runs on h200 nodes", _finding(stated="H200"), (9, 13)),
        ("GH200 only", _finding(stated="H200"), None),  # never inside a longer word
    ],
)
def test_columns_from_the_suggestion_or_the_stated_text(line: str, finding: Finding,
                                                        span: tuple[int, int] | None) -> None:
    [found] = with_columns([replace(finding, line=1, end_line=1)], {"app.py": line + "\n"})
    assert ((found.column, found.end_column) if found.column else None) == span
