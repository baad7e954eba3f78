"""Reporters: JSON shape, SARIF schema validity, the alignment report's sections and size limit, text grouping."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace

import jsonschema
import pytest

from align import __version__
from align.catalog import GpuSpec
from align.findings import Finding, Severity, Waiver
from align.manifest import Deployment, EffectiveManifest, Manifest
from align.report import FORMATS, OPTIONS, keyword_options, render, renderer
from align.report.markdown import impact
from align.report.sarif import FINGERPRINT_KEY, SCHEMA_PATH
from align.report.text import wants_color
from align.review import ReviewResult, SkippedFile

GH200 = GpuSpec(name="GH200", family="GH200", memory_gb=96.0, arch="arm64")
PRODUCTION = Deployment(name="production", gpu=GH200, count=3, price_per_gpu_hour=1.49, gpu_memory_gb=96.0,
                        arch="arm64", provider="lambda", instance_type="gpu_1x_gh200")
EFFECTIVE = EffectiveManifest(manifest=Manifest(path="align.yaml", deployments=(PRODUCTION,)), base=None,
                              origin="both")
BASE, HEAD = "a" * 40, "b" * 40

SOURCES = {
    "infra/stack.ts": 'import * as lambda from "./lambda";\n\nconst gpu = "H200";\n',
    "backend/config.py": "\n\n\n\nGPU_MEMORY_GB = 141\n",
}


def _finding(rule: str, severity: Severity, path: str, line: int, message: str, **extra: object) -> Finding:
    base = Finding(rule=rule, severity=severity, path=path, line=line, end_line=line, message=message,
                   deployment="production", evidence=message)
    return replace(base, **extra).with_fingerprint()  # type: ignore[arg-type]


FINDINGS = (
    _finding("gpu-model-mismatch", Severity.ERROR, "infra/stack.ts", 3, "H200 named, production runs GH200",
             suggestion='const gpu = "GH200";', component="GPU model", stated="H200", expected="GH200"),
    _finding("gpu-memory-mismatch", Severity.ERROR, "backend/config.py", 5, "141 GB per GPU, GH200 has 96 GB",
             suggestion="GPU_MEMORY_GB = 96", component="Memory/GPU", stated="141GB", expected="96GB"),
    _finding("cost-mismatch", Severity.WARNING, "docs/cost.md", 2, "$2.49/hour, production pays $1.49",
             component="Cost/hour", stated="$2.49", expected="$1.49"),
    _finding("capacity-mismatch", Severity.ERROR, "docs/cost.md", 9, "3 × 141GB = 423GB, deployment has 288GB",
             component="Total memory", stated="423GB (3×141)", expected="288GB (3×96)"),
    _finding("gpu-memory-overcommit", Severity.ERROR, "backend/memory.py", 10, "pools need 141 GB of 96 GB",
             end_line=13, details=("60+40+30+11 = 141 GB > 96 GB", "active_models: 60GB → 40GB",
                                   "buffer: 11GB → 6GB")),
    _finding("stale-reference", Severity.WARNING, "docs/old.md", 7, "still says H200", in_diff=False),
    _finding("manifest-changed", Severity.NOTICE, "align.yaml", 4, "H200 → GH200: 141 → 96 GB per GPU (−32 %)"),
)
WAIVED_FINDING = _finding("arithmetic-error", Severity.WARNING, "README.md", 12, "60+40 = 96 is false")


def _result(**overrides: object) -> ReviewResult:
    fields: dict[str, object] = dict(
        base=BASE, head=HEAD, conclusion="failure", findings=FINDINGS,
        waived=((WAIVED_FINDING, Waiver(WAIVED_FINDING.fingerprint, "alice", "the README is historical")),),
        effective=EFFECTIVE, skipped=(SkippedFile("weights.bin", "binary"),),
        notes=("plugin 'broken' (x:y): boom",), files_reviewed=6,
    )
    fields.update(overrides)
    return ReviewResult(**fields)  # type: ignore[arg-type]


class FakeModelRule:
    """Catches GPU names other than the deployment's.

    Example: `H200` where production runs GH200.
    """

    id = "gpu-model-mismatch"
    default_severity = Severity.ERROR
    summary = "A changed line names another GPU"
    fix_safe = True


class FakeCostRule:
    """Catches prices other than the declared one."""

    id = "cost-mismatch"
    default_severity = Severity.WARNING
    summary = "A stated GPU price differs"
    fix_safe = False


# -- dispatch -----------------------------------------------------------------------------------------


def test_formats_and_option_dispatch() -> None:
    assert FORMATS == ("text", "json", "markdown", "sarif", "github", "junit")
    for fmt in FORMATS:  # the declared options are exactly what each renderer accepts
        assert keyword_options(renderer(fmt)) == OPTIONS[fmt], fmt
    with pytest.raises(ValueError, match="unknown format"):
        render(_result(), "html")
    with pytest.raises(TypeError, match="colour"):
        render(_result(), "json", colour=True)
    # An option meant for another format is ignored, so the CLI may pass `sources` to every format.
    assert json.loads(render(_result(), "json", sources=SOURCES, max_chars=10))["version"] == 1


# -- json ---------------------------------------------------------------------------------------------


def test_json_is_exactly_the_spec_object() -> None:
    out = render(_result(), "json")
    data = json.loads(out)
    # The spec's keys first, in its order; then what else the run knows.
    assert list(data) == ["version", "conclusion", "base", "head", "deployments", "findings", "suppressed", "waived",
                          "baselined", "skipped_reason", "notes"]
    assert data["deployments"] == [{"name": "production", "gpu": "GH200", "gpu_memory_gb": 96, "count": 3,
                                    "price_per_gpu_hour": 1.49, "arch": "arm64"}]
    assert '"gpu_memory_gb": 96,' in out  # written as the spec writes it, not 96.0
    assert data["conclusion"] == "failure" and data["base"] == BASE and data["head"] == HEAD
    expected = sorted(FINDINGS, key=lambda f: f.sort_key)
    assert data["findings"] == [f.to_json() for f in expected]
    assert list(data["findings"][0]) == ["rule", "severity", "path", "line", "end_line", "message", "suggestion",
                                         "deployment", "in_diff", "fingerprint", "bound_by", "column", "end_column"]
    assert out.startswith('{\n  "version": 1,')


def test_json_without_a_manifest() -> None:
    data = json.loads(render(ReviewResult(BASE, HEAD, "skipped", notes=("add one",), skipped_reason="no align.yaml"),
                             "json"))
    assert data == {"version": 1, "conclusion": "skipped", "base": BASE, "head": HEAD, "deployments": [],
                    "findings": [], "suppressed": [], "waived": [], "baselined": 0, "skipped_reason": "no align.yaml",
                    "notes": ["add one"]}


# -- sarif --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def test_sarif_is_valid_and_complete(sarif_validator: jsonschema.protocols.Validator) -> None:
    sarif = json.loads(render(_result(), "sarif", rules=[FakeModelRule, FakeCostRule()]))
    sarif_validator.validate(sarif)
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    (run,) = sarif["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "Align" and driver["version"] == __version__
    rules = driver["rules"]
    assert [r["id"] for r in rules[:2]] == ["gpu-model-mismatch", "cost-mismatch"]
    model = rules[0]
    assert model["name"] == "GpuModelMismatch"
    assert model["shortDescription"]["text"] == "A changed line names another GPU"
    assert model["fullDescription"]["text"].startswith("Catches GPU names other than the deployment's.\n\nExample")
    assert model["defaultConfiguration"]["level"] == "error"
    assert "autofix" in model["properties"]["tags"]
    assert rules[1]["defaultConfiguration"]["level"] == "warning"
    # Every result's rule resolves, including rules missing from the list (fallback descriptors).
    results = run["results"]
    assert len(results) == len(FINDINGS) + 1
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["partialFingerprints"][FINGERPRINT_KEY]
    levels = {r["ruleId"]: r["level"] for r in results}
    assert levels["manifest-changed"] == "note" and levels["cost-mismatch"] == "warning"
    model_result = next(r for r in results if r["ruleId"] == "gpu-model-mismatch")
    location = model_result["locations"][0]["physicalLocation"]
    assert location == {"artifactLocation": {"uri": "infra/stack.ts", "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": 3, "endLine": 3}}
    (replacement,) = model_result["fixes"][0]["artifactChanges"][0]["replacements"]
    assert replacement == {"deletedRegion": {"startLine": 3, "endLine": 3},
                           "insertedContent": {"text": 'const gpu = "GH200";'}}
    overcommit = next(r for r in results if r["ruleId"] == "gpu-memory-overcommit")
    assert overcommit["locations"][0]["physicalLocation"]["region"] == {"startLine": 10, "endLine": 13}
    assert "fixes" not in overcommit
    waived = next(r for r in results if r["ruleId"] == "arithmetic-error")
    assert waived["suppressions"][0]["justification"] == "the README is historical"


def test_sarif_edge_cases_stay_valid(sarif_validator: jsonschema.protocols.Validator) -> None:
    invalid_manifest = _finding("manifest-invalid", Severity.ERROR, "docs/a b.md", 0, "does not parse")
    result = ReviewResult(BASE, HEAD, "failure", findings=(invalid_manifest,))
    sarif = json.loads(render(result, "sarif", rules=(), help_uri="https://example.test/rules/{rule}"))
    sarif_validator.validate(sarif)
    (entry,) = sarif["runs"][0]["results"]
    location = entry["locations"][0]["physicalLocation"]
    assert location["region"]["startLine"] == 1  # SARIF lines start at 1
    assert location["artifactLocation"]["uri"] == "docs/a%20b.md"
    empty = json.loads(render(ReviewResult(BASE, HEAD, "skipped"), "sarif", rules=[FakeModelRule]))
    sarif_validator.validate(empty)
    assert empty["runs"][0]["results"] == []
    with_help = json.loads(render(result, "sarif", rules=[FakeModelRule], help_uri="https://example.test/{rule}"))
    assert with_help["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"] == "https://example.test/gpu-model-mismatch"


def test_sarif_schema_rejects_a_broken_log(sarif_validator: jsonschema.protocols.Validator) -> None:
    sarif = json.loads(render(_result(), "sarif", rules=[]))
    sarif["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        sarif_validator.validate(sarif)


# -- markdown -----------------------------------------------------------------------------------------


def test_markdown_alignment_report_sections() -> None:
    report = render(_result(), "markdown", sources=SOURCES, extra_sections=["### ✔️ Fixed since last run\n\n- x"],
                    title="Align report for #136")
    assert report.startswith("## Align report for #136\n\n**Status**: ❌ **failure**")
    order = ["📋 Executive summary", "Fixed since last run", "🚨 Critical discrepancies", "Memory pool adjustments",
             "🔍 Findings", "Files that need updating", "Waived", "Recommended actions", "Skipped files and notes"]
    positions = [report.index(heading) for heading in order]
    assert positions == sorted(positions)
    # Executive summary: the deployment's facts, the change's claims, the counts.
    assert "**production**: 3 × GH200 · 96 GB per GPU, 288 GB total" in report
    assert "$1.49/GPU-hour, $3,263.10/month at 730 h · arm64 · lambda gpu_1x_gh200" in report
    assert "**What the change claims instead**: GPU model `H200` (deployment: `GH200`), Memory/GPU `141GB`" in report
    assert "4 errors, 2 warnings, 1 notice in 6 files (1 outside the changed lines) · 1 waived" in report
    assert "**Deployment change in this pull request**: H200 → GH200" in report
    # The discrepancy table, with impact computed from the numbers.
    table = report[report.index("Critical discrepancies"):report.index("Memory pool adjustments")]
    assert [row.split("|")[1].strip() for row in table.splitlines() if row.startswith("| **")] == \
        ["**GPU model**", "**Memory/GPU**", "**Total memory**", "**Cost/hour**"]
    assert "| **GPU model** | H200 | GH200 | reference needs updating |" in report
    assert "| **Memory/GPU** | 141GB | 96GB | 32% less memory |" in report
    assert "| **Cost/hour** | $2.49 | $1.49 | 40% cheaper |" in report
    assert "| **Total memory** | 423GB (3×141) | 288GB (3×96) | 32% less memory |" in report
    assert "```text\n60+40+30+11 = 141 GB > 96 GB\nactive_models: 60GB → 40GB\nbuffer: 11GB → 6GB\n```" in report
    # Findings grouped by file, before → after trimmed to what changed.
    assert "#### `infra/stack.ts`\n\n- ❌ **`gpu-model-mismatch`** · line 3: H200 named" in report
    assert '`"H200";` → `"GH200";`' in report
    assert "`GPU_MEMORY_GB = 141` → `GPU_MEMORY_GB = 96`" in report or "`141` → `96`" in report
    assert "`backend/memory.py` lines 10–13, deployment production:" in report
    assert "**`gpu-memory-overcommit`** · lines 10–13: pools" in report
    assert "- `docs/old.md` — line 7 (stale-reference)" in report
    assert "| ⚠️ `arithmetic-error` at `README.md:12` | @alice | the README is historical |" in report
    actions = report[report.index("Recommended actions"):report.index("Skipped files")]
    steps = ["1. **Fix the 4 findings that fail this check**", "2. Review the 1 other finding on the changed lines "
             "(1 warning).", "3. **Update 1 file outside this change**", "4. **Confirm the deployment"]
    positions = [actions.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "- `weights.bin`: binary" in report and "plugin 'broken'" in report
    assert report.rstrip().endswith("</sub>") and "`aaaaaaa`…`bbbbbbb`" in report


def test_markdown_without_sources_shows_the_suggestion() -> None:
    report = render(_result(), "markdown")
    assert 'suggested: `const gpu = "GH200";`' in report


def test_markdown_when_aligned() -> None:
    report = render(ReviewResult(BASE, HEAD, "success", effective=EFFECTIVE, files_reviewed=3), "markdown")
    assert "**Status**: ✅ **success** — aligned with production: 3 × GH200" in report
    for absent in ("Critical discrepancies", "🔍 Findings", "Files that need updating", "Waived", "Skipped"):
        assert absent not in report
    assert "No action needed" in report
    assert "0 errors, 0 warnings, 0 notices · 3 files reviewed" in report


def test_markdown_skipped_and_invalid_manifest() -> None:
    skipped = render(ReviewResult(BASE, HEAD, "skipped", notes=("Add one:\n\n```yaml\nversion: 1\n```",)),
                     "markdown")
    assert "⏭️ **skipped** — no `align.yaml`" in skipped
    assert "```yaml\nversion: 1\n```" in skipped and "Findings" not in skipped
    invalid = _finding("manifest-invalid", Severity.ERROR, "align.yaml", 3, "deployments[0].gpu: unknown GPU")
    report = render(ReviewResult(BASE, HEAD, "failure", findings=(invalid,)), "markdown")
    assert "`align.yaml` is invalid" in report and "Deployment**: unknown" in report


def _many_findings(count: int) -> tuple[Finding, ...]:
    return tuple(
        _finding("gpu-model-mismatch", Severity.ERROR, f"services/svc{i // 10:03d}/deploy.yaml", i % 10 + 1,
                 f"H200 named in node selector {i}, production runs GH200",
                 suggestion="nvidia.com/gpu.product: NVIDIA-GH200-480GB", component="GPU model", stated="H200",
                 expected="GH200", in_diff=i % 3 != 0)
        for i in range(count)
    )


def test_markdown_fits_the_check_run_limit() -> None:
    findings = _many_findings(3000)
    result = _result(findings=findings)
    full = render(result, "markdown", max_chars=10_000_000)
    assert len(full) > 65_535  # the test means something
    report = render(result, "markdown", max_chars=65_535)
    assert len(report) <= 65_535
    shown = len(re.findall(r"^- ❌ \*\*`gpu-model-mismatch`\*\*", report, flags=re.MULTILINE))
    note = re.search(r"…([\d,]+) more findings not shown \(limit 65,535 characters\); run `align check` locally "
                     r"or see annotations", report)
    assert note is not None
    assert shown > 100 and shown + int(note.group(1).replace(",", "")) == 3000
    # Bulk lists are cut, the essentials stay; no file heading is left without its findings.
    for kept in ("**Status**", "Executive summary", "Recommended actions", "Critical discrepancies", "</sub>"):
        assert kept in report
    assert "| **GPU model** | H200 | GH200 | references need updating (3,000 places) |" in report
    assert not re.search(r"#### `[^`]+`\n\n(?!- )", report)
    tiny = render(result, "markdown", max_chars=1500)
    assert len(tiny) <= 1500 and "**Status**" in tiny


def test_impact_wording() -> None:
    assert impact("Memory/GPU", "141GB", "96GB") == "32% less memory"
    assert impact("Cost/hour", "$2.49/hour", "$1.49/hour") == "40% cheaper"
    assert impact("Cost/month", "$2,000", "$3,000") == "50% more expensive"
    assert impact("Total memory", "3 × 141 = 423GB", "288GB") == "32% less memory"
    assert impact("GPU count", "4", "3") == "25% fewer GPUs"
    assert impact("GPU model", "H200", "GH200") is None


# -- text ---------------------------------------------------------------------------------------------


def test_text_groups_by_file_with_lines_and_diff() -> None:
    out = render(_result(), "text", sources=SOURCES)
    assert "\x1b[" not in out
    lines = out.splitlines()
    headings = [line for line in lines if line in {f.path for f in FINDINGS}]
    assert headings == sorted(headings) and len(headings) == 6
    stack = lines.index("infra/stack.ts")
    assert lines[stack + 1] == "infra/stack.ts:3  error  gpu-model-mismatch  H200 named, production runs GH200"
    assert lines[stack + 2].strip() == '3 │ const gpu = "H200";'
    assert lines[stack + 3].strip() == '- const gpu = "H200";'
    assert lines[stack + 4].strip() == '+ const gpu = "GH200";'
    assert "docs/old.md:7  warning  stale-reference  still says H200  (outside the diff)" in out
    assert "· 60+40+30+11 = 141 GB > 96 GB" in out
    assert "README.md:12  arithmetic-error  by alice: the README is historical" in out
    assert lines[-1] == ("4 errors, 2 warnings, 1 notice in 6 files · 1 waived · 1 skipped · "
                         "conclusion: failure (fail_on: error)")


def test_text_without_sources_and_in_colour() -> None:
    out = render(_result(), "text")
    assert '+ const gpu = "GH200";' in out and '- const gpu = "H200";' not in out
    coloured = render(_result(), "text", sources=SOURCES, color=True)
    assert "\x1b[" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == render(_result(), "text", sources=SOURCES)
    skipped = render(ReviewResult(BASE, HEAD, "skipped", notes=("no align.yaml",)), "text")
    assert skipped.splitlines()[-1] == "0 errors, 0 warnings, 0 notices · conclusion: skipped"


def test_wants_color_only_for_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert not wants_color(io.StringIO(), {})
    assert wants_color(Tty(), {})
    assert not wants_color(Tty(), {"NO_COLOR": "1"})


def test_discrepancy_rows_merge_one_claim_and_keep_arithmetic_apart() -> None:
    findings = (
        _finding("capacity-mismatch", Severity.ERROR, "a.md", 3, "total", component="Total GPU memory",
                 stated="423 GB", expected="288 GB (3 × 96)"),
        _finding("capacity-mismatch", Severity.ERROR, "b.py", 9, "total", component="Total GPU memory",
                 stated="423 GB (3 × 141)", expected="288 GB (3 × 96)"),
        _finding("arithmetic-error", Severity.WARNING, "a.md", 17, "sum", component="Arithmetic",
                 stated="96GB", expected="141"),
    )
    report = render(_result(findings=findings), "markdown")
    rows = [line for line in report.splitlines() if line.startswith("| **")]
    assert rows == [
        "| **Total GPU memory** | 423 GB (3 × 141) | 288 GB (3 × 96) | 32% less memory (2 places) |",
        "| **Arithmetic** | 96GB | (correct result: 141) | false calculation |",
    ]
