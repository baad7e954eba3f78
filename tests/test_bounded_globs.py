"""Globs from align.yaml (catalog instance types, `paths:`, `ignore:`) are matched in linear work: a pull
request cannot freeze a review with a pattern that makes a backtracking regex explode (issue 8, item 7)."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from align.catalog import Catalog
from align.catalog.matcher import _glob_nfa
from align.git_source import GitSource
from align.manifest import matches_any, parse_manifest
from align.path_glob import compile_glob
from align.review import review_change
from tests.gitrepo import commit_tree, git, init_repo

STARS = 20
PATHOLOGICAL = "x" + "*a" * STARS + "*b"  # as a regex: 20 nested `[A-Za-z0-9]+`, exponential on "xaaaa…"


def _manifest(glob: str) -> str:
    return f"""\
version: 1
deployments:
  - name: production
    gpu: Mine
    count: 1
    price_per_gpu_hour: 1.0
catalog:
  - name: Mine
    memory_gb: 24
    arch: x86_64
    instance_types: ["{glob}"]
"""


def test_the_attack_manifest_is_small() -> None:
    assert len(_manifest(PATHOLOGICAL).encode()) < 450


def test_many_star_catalog_glob_takes_work_proportional_to_the_text() -> None:
    nfa = _glob_nfa(PATHOLOGICAL)
    steps = []
    for size in (10_000, 20_000, 40_000):
        nfa.steps = 0
        assert not nfa.fullmatch("x" + "a" * size)
        steps.append(nfa.steps)
    # Twice the text, twice the work (a backtracking matcher: 2**20 times the work, or more).
    assert steps[1] == pytest.approx(2 * steps[0], rel=0.01)
    assert steps[2] == pytest.approx(2 * steps[1], rel=0.01)
    assert steps[0] <= 10_000 * 2 * (2 * STARS + 4)  # at most every state, once per character


@pytest.mark.timeout(30)
def test_many_star_catalog_glob_does_not_freeze_finding_mentions() -> None:
    catalog = parse_manifest(_manifest(PATHOLOGICAL), "align.yaml", Catalog.builtin()).catalog
    text = "runs on x" + "a" * 20_000 + " and on H100"
    assert [m.text for m in catalog.find_mentions(text)] == ["H100"]  # backtracking: hours


def test_many_star_catalog_glob_still_finds_and_resolves_its_instance_types() -> None:
    catalog = parse_manifest(_manifest("gpu_*x_*_priv"), "align.yaml", Catalog.builtin()).catalog
    mentions = catalog.find_mentions("launch gpu_8x_big_priv, not H100 or gpu_8x_priv.")
    assert [(m.text, m.gpu.name, m.kind) for m in mentions] == [
        ("gpu_8x_big_priv", "Mine", "instance_type"), ("H100", "H100", "name")]
    assert catalog.resolve("GPU-2X-SMALL-PRIV") is not None  # separators and case are flexible, as before
    assert catalog.resolve("gpu_8x__priv") is None  # `*` is one run of letters and digits, never empty


def test_one_star_catalog_globs_match_as_before() -> None:
    catalog = Catalog.builtin()
    assert catalog.resolve("g5.12xlarge") is not None
    assert [m.text for m in catalog.find_mentions("use a g5.12xlarge node")] == ["g5.12xlarge"]


@pytest.mark.timeout(30)
def test_many_star_path_glob_against_a_long_path_is_not_catastrophic() -> None:
    pattern = "*a" * 30 + "*b"
    path = "a" * 100_000
    assert not matches_any(path, [pattern])
    assert not matches_any("dir/" + path, ["**/" + pattern])
    assert matches_any("dir/" + "a" * 1000 + "b", [pattern])


@pytest.mark.timeout(30)
def test_path_glob_with_double_stars_inside_a_name_uses_linear_work() -> None:
    pattern = "a**" * 30 + "b"  # `**` inside a name: matched by the NFA, whose work is counted
    glob = compile_glob(pattern)
    assert glob.units is None
    glob.nfa.steps = 0
    assert not glob.matches("a/" * 2_000 + "c")
    assert glob.nfa.steps <= 4_001 * 4 * (3 * 30 + 10)


def _backtracking_glob(pattern: str) -> re.Pattern[str]:
    """The regex translation the linear matcher replaced: the oracle for what a pattern means."""
    text = pattern.strip().removeprefix("./")
    anchored = "/" in text.rstrip("/")
    text = text.strip("/")
    out, i = [], 0
    while i < len(text):
        if text.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif text.startswith("**", i):
            out.append(".*")
            i += 2
        elif text[i] in "*?":
            out.append("[^/]*" if text[i] == "*" else "[^/]")
            i += 1
        elif text[i] == "[" and "]" in text[i + 2 :]:
            close = text.index("]", i + 2)
            body = text[i + 1 : close]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]")
            i = close + 1
        else:
            out.append(re.escape(text[i]))
            i += 1
    return re.compile(("" if anchored else "(?:.*/)?") + "".join(out) + "(?:/.*)?", re.DOTALL)


def test_path_globs_mean_what_the_regex_translation_meant() -> None:
    rng = random.Random(8)
    pieces = ["ab", "a*b", "a", "b", "/", "*", "**", "?", "[ab]", "[!a]", ".", "**/", "x"]
    for _ in range(5_000):
        pattern = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 7)))
        path = "".join(rng.choice("ab/x.") for _ in range(rng.randint(0, 14))).lstrip("/").removeprefix("./")
        expected = _backtracking_glob(pattern).fullmatch(path) is not None
        glob = compile_glob(pattern)
        assert glob.matches(path) == expected, (pattern, path)
        assert glob.nfa.fullmatch(path) == expected, (pattern, path)


@pytest.mark.parametrize(("pattern", "path", "expected"), [
    ("docs/archive/**", "docs/archive/2023/old.md", True),
    ("docs/archive/**", "docs/archive", False),
    ("docs/archive", "docs/archive/old.md", True),
    ("*.md", "deep/down/README.md", True),
    ("deploy/*.yaml", "deploy/sub/x.yaml", False),
    ("**/k8s/*.yaml", "k8s/a.yaml", True),
    ("infra/**/main.tf", "infra/main.tf", True),
    ("src/[!t]*.py", "src/app.py", True),
    ("src/[!t]*.py", "src/test.py", False),
])
def test_path_glob_examples(pattern: str, path: str, expected: bool) -> None:
    assert matches_any(path, [pattern]) is expected


@pytest.mark.timeout(60)
def test_review_with_a_pathological_catalog_glob_completes(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    init_repo(repo)
    base = commit_tree(repo, files={"align.yaml": _manifest(PATHOLOGICAL)})
    git(repo, "checkout", "-qb", "pr")
    head = commit_tree(repo, files={"notes.md": "Our node: x" + "a" * 5_000 + "\n\nWe run on the H100.\n"})
    result = review_change(GitSource(repo), base, head)
    assert [(f.rule, f.line) for f in result.findings] == [("gpu-model-mismatch", 3)]


@pytest.mark.timeout(60)
def test_a_megabyte_token_against_the_most_many_star_globs_allowed() -> None:
    globs = ", ".join(f'"x{n}' + "*a" * STARS + '*b"' for n in range(10))  # the limit: 10 such globs
    text = _manifest(PATHOLOGICAL).replace(f'["{PATHOLOGICAL}"]', f"[{globs}]")
    catalog = parse_manifest(text, "align.yaml", Catalog.builtin()).catalog
    assert catalog.find_mentions("x1" + "a" * 1_000_000) == []  # each glob a DFA step per character
