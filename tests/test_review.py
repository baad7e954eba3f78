"""The orchestration path: manifest precedence, skipped reviews, invalid manifests, waivers, ignores."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from align.findings import Waiver
from align.git_source import GitSource
from align.review import review_change, scan_commit
from align.source import FileChange
from tests.gitrepo import commit_tree, git, init_repo
from tests.helpers import GH200_MANIFEST


def _pr(tmp_path: Path, base_files: dict[str, str], head_files: dict[str, str],
        deleted: tuple[str, ...] = ()) -> tuple[GitSource, str, str]:
    repo = tmp_path / "repo"
    init_repo(repo)
    base = commit_tree(repo, files=base_files)
    git(repo, "checkout", "-qb", "pr")
    head = commit_tree(repo, files=head_files, deleted=deleted)
    return GitSource(repo), base, head


def test_no_manifest_on_either_side_is_skipped_with_help(tmp_path: Path) -> None:
    source, base, head = _pr(tmp_path, {"README.md": "hi\n"}, {"gpu.py": 'GPU = "H200"\n'})
    result = review_change(source, base, head)
    assert result.conclusion == "skipped"
    assert not result.findings
    assert "align.yaml" in result.notes[0]


def test_finding_on_a_changed_line_fails_the_check(tmp_path: Path) -> None:
    source, base, head = _pr(tmp_path, {"align.yaml": GH200_MANIFEST}, {"gpu.py": 'GPU = "H200"\n'})
    result = review_change(source, base, head)
    assert result.conclusion == "failure"
    assert [(f.rule, f.path, f.line) for f in result.findings] == [("gpu-model-mismatch", "gpu.py", 1)]
    assert result.findings[0].fingerprint


def test_unchanged_lines_are_not_reviewed(tmp_path: Path) -> None:
    source, base, head = _pr(
        tmp_path, {"align.yaml": GH200_MANIFEST, "old.py": 'GPU = "H200"\n'}, {"new.py": 'GPU = "GH200"\n'}
    )
    assert review_change(source, base, head).conclusion == "success"


def test_pull_request_cannot_switch_off_its_own_rules(tmp_path: Path) -> None:
    disabled = GH200_MANIFEST + "rules:\n  gpu-model-mismatch: off\nfail_on: never\n"
    source, base, head = _pr(tmp_path, {"align.yaml": GH200_MANIFEST}, {"align.yaml": disabled, "g.py": 'G = "H200"\n'})
    result = review_change(source, base, head)
    assert result.conclusion == "failure"
    assert any(f.rule == "gpu-model-mismatch" for f in result.findings)


def test_base_settings_apply_severity_override_and_ignore(tmp_path: Path) -> None:
    settings = GH200_MANIFEST + 'rules:\n  gpu-model-mismatch: warning\nignore: ["docs/archive/**"]\n'
    source, base, head = _pr(
        tmp_path, {"align.yaml": settings}, {"g.py": 'G = "H200"\n', "docs/archive/old.md": "Ran on H200.\n"}
    )
    result = review_change(source, base, head)
    assert [(f.path, f.severity.value) for f in result.findings] == [("g.py", "warning")]
    assert result.conclusion == "neutral"


def test_manifest_added_by_the_pull_request_is_used_and_said(tmp_path: Path) -> None:
    source, base, head = _pr(tmp_path, {"README.md": "hi\n"}, {"align.yaml": GH200_MANIFEST, "g.py": 'G = "H200"\n'})
    result = review_change(source, base, head)
    assert result.conclusion == "failure"
    assert any("added by this change" in note for note in result.notes)


def test_invalid_manifest_is_a_failing_finding_with_line_and_field(tmp_path: Path) -> None:
    broken = GH200_MANIFEST.replace("count: 3", "count: three")
    source, base, head = _pr(tmp_path, {"README.md": "hi\n"}, {"align.yaml": broken})
    result = review_change(source, base, head)
    assert result.conclusion == "failure"
    [finding] = result.findings
    assert finding.rule == "manifest-invalid"
    assert finding.path == "align.yaml" and finding.line == 5
    assert "count" in finding.message


def test_waiver_by_rule_and_by_fingerprint(tmp_path: Path) -> None:
    changed = {"g.py": 'G = "H200"\nPRICE_PER_GPU_HOUR = 2.49\n'}
    source, base, head = _pr(tmp_path, {"align.yaml": GH200_MANIFEST}, changed)
    first = review_change(source, base, head)
    by_rule = {f.rule: f for f in first.findings}
    assert {"gpu-model-mismatch", "cost-mismatch"} <= set(by_rule)
    waivers = [
        Waiver("gpu-model-mismatch", "octocat", "benchmark box"),
        Waiver(by_rule["cost-mismatch"].fingerprint, "octocat", "spot price"),
    ]
    second = review_change(source, base, head, waivers=waivers)
    assert not second.findings
    assert {w.reason for _, w in second.waived} == {"benchmark box", "spot price"}
    assert second.conclusion == "success"


def test_binary_and_non_utf8_files_are_skipped_not_fatal(tmp_path: Path) -> None:
    source, base, _ = _pr(tmp_path, {"align.yaml": GH200_MANIFEST}, {"model.bin": "x"})
    repo = source.repo
    (repo / "blob.bin").write_bytes(b"\x00\x01H200\x00")
    (repo / "latin1.txt").write_bytes("H200 caf\xe9\n".encode("latin-1"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "binary")
    result = review_change(source, base, git(repo, "rev-parse", "HEAD"))
    skipped = {s.path: s.reason for s in result.skipped}
    assert "blob.bin" in skipped and "latin1.txt" in skipped


def test_broken_yaml_and_python_do_not_crash(tmp_path: Path) -> None:
    source, base, head = _pr(
        tmp_path, {"align.yaml": GH200_MANIFEST},
        {"k8s.yaml": "a: [unclosed\n  gpu: H200\n", "bad.py": "def f(:\n    GPU = 'H200'\n"},
    )
    result = review_change(source, base, head)
    assert {f.path for f in result.findings if f.rule == "gpu-model-mismatch"} == {"k8s.yaml", "bad.py"}


def test_scan_reads_every_file(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    init_repo(repo)
    head = commit_tree(repo, files={"align.yaml": GH200_MANIFEST, "a.py": 'GPU = "H200"\n', "b.md": "GH200 only\n"})
    result = scan_commit(GitSource(repo), head)
    assert [(f.rule, f.path) for f in result.findings] == [("gpu-model-mismatch", "a.py")]
    assert result.files_reviewed == 3


@pytest.mark.parametrize("bad", ["H200", "NVIDIA-H200"])
def test_every_suggestion_applied_leaves_the_line_clean(tmp_path: Path, bad: str) -> None:
    source, base, head = _pr(tmp_path, {"align.yaml": GH200_MANIFEST}, {"g.yaml": f"gpu: {bad}  # was GH200 before\n"})
    [finding] = review_change(source, base, head).findings
    assert finding.suggestion is not None
    assert "GGH200" not in finding.suggestion


def test_a_line_over_the_limit_is_data_not_read_and_the_report_says_so(tmp_path: Path) -> None:
    from align.source import MAX_LINE_CHARS

    data = '"' + ", ".join(["H200"] * (MAX_LINE_CHARS // 6)) + '"'  # a minified list: one line, 4 KB+
    source, base, head = _pr(tmp_path, {"align.yaml": GH200_MANIFEST, "gpus.py": f"DATA = {data}\n"},
                             {"gpus.py": f'DATA = {data}\nGPU = "H200"\nMORE = {data}\n'})
    result = review_change(source, base, head)
    assert [(f.rule, f.line) for f in result.findings] == [("gpu-model-mismatch", 2)]
    [skipped] = result.skipped  # line 1 did not change: only line 3 is worth a word
    assert skipped.path == "gpus.py" and "1 line(s) longer than 4,096 characters not read (line 3)" in skipped.reason


def test_a_file_is_read_up_to_its_number_budget_and_the_report_says_where_it_stopped(tmp_path: Path) -> None:
    from align.source import MAX_FILE_NUMBERS

    rows = "".join(f"sample_{n} = {n}\n" for n in range(MAX_FILE_NUMBERS // 2))  # two numbers a row
    source, base, head = _pr(tmp_path, {"align.yaml": GH200_MANIFEST, "data.py": rows},
                             {"data.py": f'GPU = "H200"\n{rows}GPU_TOO = "H200"\n'})
    result = review_change(source, base, head)
    # Line 1 is read; the last line comes after the 30,000th number: data, not read, and said so.
    assert [(f.rule, f.line) for f in result.findings] == [("gpu-model-mismatch", 1)]
    [skipped] = result.skipped
    end = MAX_FILE_NUMBERS // 2 + 1  # line 1 holds one number ("H200"), each row two
    assert skipped.path == "data.py"
    assert f"not read from line {end:,} on: the file holds more than {MAX_FILE_NUMBERS:,} numbers" in skipped.reason


def test_a_change_before_the_number_budget_is_reviewed_without_a_note(tmp_path: Path) -> None:
    from align.source import MAX_FILE_NUMBERS

    rows = "".join(f"sample_{n} = {n}\n" for n in range(MAX_FILE_NUMBERS))
    source, base, head = _pr(tmp_path, {"align.yaml": GH200_MANIFEST, "data.py": rows},
                             {"data.py": f'GPU = "H200"\n{rows}'})
    result = review_change(source, base, head)
    assert [(f.rule, f.line) for f in result.findings] == [("gpu-model-mismatch", 1)]
    assert result.skipped == ()  # the lines not read did not change: nothing to check by hand


def test_the_number_budget_counts_numbers_not_lines_and_keeps_line_numbers() -> None:
    from align.source import MAX_FILE_NUMBERS, as_read

    few = 'GPU = "GH200"  # the serving pool\n' * (MAX_FILE_NUMBERS - 1)  # a number a line, 29,999 in all: read whole
    assert as_read(few).numbers_end_at is None and as_read(few).text == few
    dense = "1 2 3 4\n" * (MAX_FILE_NUMBERS // 4) + "5\n" + "tail\n"
    read = as_read(dense)
    assert read.numbers_end_at == MAX_FILE_NUMBERS // 4 + 1  # the line of the 30,001st number
    assert read.text.count("\n") == dense.count("\n")  # every line keeps its number
    assert read.text.splitlines()[-3:] == ["1 2 3 4", "", ""]
    assert as_read("x" * 40_000).numbers_end_at is None  # long, but no numbers: the digit count spares it


def test_lines_are_emptied_only_past_the_limit_and_keep_their_numbers() -> None:
    from align.source import MAX_LINE_CHARS, without_long_lines

    short = "a" * MAX_LINE_CHARS
    assert without_long_lines(f"{short}\n{short}x\nend\n") == (f"{short}\n\nend\n", (2,))
    assert without_long_lines("GPU: H200\n") == ("GPU: H200\n", ())
    assert without_long_lines(short * 3) == ("", (1,))


def test_a_file_without_a_patch_changed_past_its_number_budget_says_so(tmp_path: Path) -> None:
    """GitHub leaves the patch out above about 100 KB: the lines are worked out from both sides as they are,
    so that a change in the part not read is still named."""
    from align.source import MAX_FILE_NUMBERS

    rows = "".join(f"sample_{n} = {n}\n" for n in range(MAX_FILE_NUMBERS))  # 60,000 numbers
    source, base, head = _pr(tmp_path, {"align.yaml": GH200_MANIFEST, "data.py": rows + "last = 1\n"},
                             {"data.py": rows + "last = 2\n"})

    class WithoutPatches(GitSource):
        def changed_files(self, base: str, head: str) -> list[FileChange]:
            return [replace(c, binary=True, added_lines=frozenset(), patch=None)
                    for c in super().changed_files(base, head)]

    result = review_change(WithoutPatches(source.repo), base, head)
    [skipped] = result.skipped
    assert skipped.path == "data.py" and f"more than {MAX_FILE_NUMBERS:,} numbers" in skipped.reason
