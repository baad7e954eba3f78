"""GitSource against real repositories built in tmp dirs."""

from __future__ import annotations

from pathlib import Path

import pytest

from align.git_source import GitSource
from align.source import SourceError, added_lines_from_patch, diff_lines_from_patch
from tests.gitrepo import commit_tree, git, init_repo


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    init_repo(tmp_path / "r")
    return tmp_path / "r"


def test_statuses_added_lines_renames_and_binaries(repo: Path) -> None:
    base = commit_tree(repo, files={
        "keep.py": "a = 1\nb = 2\nc = 3\nd = 4\n",
        "gone.txt": "bye\n",
        "old/name.md": "".join(f"line {i}\n" for i in range(30)),
    })
    commit_tree(
        repo,
        files={
            "keep.py": "a = 1\nb = 20\nc = 3\nd = 4\ne = 5\n",
            "new.yaml": "x: 1\ny: 2\n",
            "img.png": b"\x89PNG\x00\x01",
        },
        deleted=["gone.txt"],
    )
    (repo / "new").mkdir()
    git(repo, "mv", "old/name.md", "new/name.md")
    git(repo, "commit", "-qm", "rename")
    head = git(repo, "rev-parse", "HEAD")
    changes = {c.path: c for c in GitSource(repo).changed_files(base, head)}
    assert changes["keep.py"].status == "modified"
    assert changes["keep.py"].added_lines == frozenset({2, 5})
    assert changes["new.yaml"].status == "added" and changes["new.yaml"].added_lines == frozenset({1, 2})
    assert changes["gone.txt"].status == "removed"
    assert changes["img.png"].binary
    assert changes["new/name.md"].status == "renamed"
    assert changes["new/name.md"].previous_path == "old/name.md"
    assert changes["new/name.md"].added_lines == frozenset()


def test_read_many_and_list_files(repo: Path) -> None:
    head = commit_tree(repo, files={"a.txt": "A\n", "dir/b file.txt": "B\n"})
    source = GitSource(repo)
    assert source.read_many(head, ["a.txt", "dir/b file.txt", "missing"]) == {"a.txt": b"A\n", "dir/b file.txt": b"B\n"}
    assert source.read(head, "missing") is None
    assert sorted(source.list_files(head)) == ["a.txt", "dir/b file.txt"]


def test_unknown_ref_and_not_a_repository(repo: Path, tmp_path: Path) -> None:
    commit_tree(repo, files={"a": "1\n"})
    with pytest.raises(SourceError, match="unknown revision 'nope'"):
        GitSource(repo).resolve("nope")
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(SourceError, match="not a git repository"):
        GitSource(plain)


def test_default_base_is_the_merge_base_with_main(repo: Path) -> None:
    base = commit_tree(repo, files={"a": "1\n"})
    git(repo, "checkout", "-qb", "feature")
    commit_tree(repo, files={"a": "2\n"})
    assert GitSource(repo).default_base("HEAD") == base


def test_patch_line_maps() -> None:
    patch = "@@ -1,3 +1,4 @@\n ctx\n-old\n+new\n+added\n ctx2\n@@ -10 +11 @@\n-x\n+y\n"
    assert added_lines_from_patch(patch) == frozenset({2, 3, 11})
    assert diff_lines_from_patch(patch) == frozenset({1, 2, 3, 4, 11})
    assert added_lines_from_patch(None) == frozenset()


def test_a_file_over_the_size_cap_is_read_no_further_than_one_byte_past_it(repo: Path) -> None:
    from align.source import MAX_FILE_BYTES

    big = b"GH200 " * (3 * MAX_FILE_BYTES // 6)
    head = commit_tree(repo, files={"big.txt": big, "small.txt": "H100\n"})
    contents = GitSource(repo).read_many(head, ["big.txt", "small.txt"])
    assert contents["big.txt"] == big[: MAX_FILE_BYTES + 1]  # sizes come from ls-tree, before any content
    assert contents["small.txt"] == b"H100\n"


def test_a_scan_skips_files_over_the_size_cap_as_too_large(repo: Path) -> None:
    from align.review import scan_commit
    from tests.helpers import GH200_MANIFEST

    head = commit_tree(repo, files={"align.yaml": GH200_MANIFEST, "data/big.csv": "H200,1\n" * 400_000,
                                    "deploy.py": 'GPU = "H200"\n'})
    result = scan_commit(GitSource(repo), head)
    assert [(s.path, s.reason) for s in result.skipped] == [("data/big.csv", "larger than 1 MB")]
    assert [f.path for f in result.findings] == ["deploy.py"]


def test_a_blob_the_repository_lacks_is_not_read_and_stops_nothing(repo: Path) -> None:
    """A partial clone or a repository that borrows objects may list a file whose blob it does not have:
    `ls-tree -l` would print `BAD` as its size. The other files are read as usual."""
    sha = commit_tree(repo, files={"present.txt": "GH200\n", "absent.txt": "a blob that goes missing\n"})
    oid = git(repo, "rev-parse", f"{sha}:absent.txt")
    (repo / ".git" / "objects" / oid[:2] / oid[2:]).unlink()
    source = GitSource(repo)
    found = source.read_many(sha, ["present.txt", "absent.txt"])
    assert found == {"present.txt": b"GH200\n"}
    assert "absent.txt" in source.list_files(sha)
