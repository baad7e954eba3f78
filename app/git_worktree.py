"""The index and the working tree as the "head" of a review, for `align check --staged` (pre-commit) and
`align check --worktree` (everything not yet committed), against `HEAD`.

They are pseudo-revisions (`INDEX`, `WORKTREE`) of a GitSource: every other revision reads as usual.
Still read-only: the index is read with `git ls-files` / `git cat-file`, the working tree from disk;
nothing is written to the repository (no `write-tree`, no stash). Untracked files that git does not
ignore count as added in the working tree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

from align.git_source import GitSource, _parse_raw_numstat, added_lines_of_diff
from align.source import MAX_FILE_BYTES, FileChange

INDEX = "(index)"
WORKTREE = "(working tree)"
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's empty tree: the base before a first commit

Pending = Literal["staged", "worktree"]


class PendingSource(GitSource):
    """A GitSource whose `head` may be INDEX or WORKTREE."""

    def __init__(self, repo: Path | str, pending: Pending) -> None:
        super().__init__(repo)
        self.pending = pending
        self.head_name = INDEX if pending == "staged" else WORKTREE

    def base(self) -> str:
        """HEAD, or the empty tree in a repository without commits yet."""
        return self.resolve("HEAD") if self.has_commit("HEAD") else EMPTY_TREE

    def resolve(self, ref: str) -> str:
        if ref in (self.head_name, EMPTY_TREE):
            return ref
        return super().resolve(ref)

    def changed_files(self, base: str, head: str) -> list[FileChange]:
        if head != self.head_name:
            return super().changed_files(base, head)
        scope = ["--cached"] if self.pending == "staged" else []
        raw = self._git_bytes("diff", *scope, "--raw", "--numstat", "-z", "-M", "--no-abbrev", base, "--")
        entries, numstat = _parse_raw_numstat(raw)
        modified = [p for e in entries if e.status not in ("added", "removed") for p in (e.previous, e.path) if p]
        hunks = self._pending_added_lines(base, scope, modified) if modified else {}
        changes = []
        for entry in entries:
            added, _ = numstat.get(entry.path, (None, None))
            if entry.status == "added":
                lines = frozenset(range(1, (added or 0) + 1))
            elif entry.status == "removed":
                lines = frozenset()
            else:
                lines = hunks.get(entry.path, frozenset())
            changes.append(FileChange(entry.path, entry.status, lines, previous_path=entry.previous,
                                      binary=added is None))
        if self.pending == "worktree":
            for path in self._untracked():
                data = self._disk(path)
                if data is not None:
                    count = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
                    changes.append(FileChange(path, "added", frozenset(range(1, count + 1)),
                                              binary=b"\0" in data[:8192]))
        return changes

    def _pending_added_lines(self, base: str, scope: list[str], paths: list[str]) -> dict[str, frozenset[int]]:
        out = self._git_bytes("diff", *scope, "--no-color", "--no-ext-diff", "--no-textconv", "-M", "--unified=0",
                              base, "--", *paths)
        return added_lines_of_diff(out)

    def read_many(self, ref: str, paths: Iterable[str]) -> Mapping[str, bytes]:
        if ref != self.head_name:
            return super().read_many(ref, paths)
        wanted = set(paths)
        if self.pending == "worktree":
            found = {p: self._disk(p) for p in wanted}
            return {p: data for p, data in found.items() if data is not None}
        blobs = {path: oid for path, oid in self._index() if path in wanted}
        return self._blobs(blobs)

    def list_files(self, ref: str) -> list[str]:
        if ref != self.head_name:
            return super().list_files(ref)
        indexed = [path for path, _ in self._index()]
        if self.pending == "staged":
            return indexed
        present = [p for p in indexed if (self.repo / p).is_file() and not (self.repo / p).is_symlink()]
        return sorted({*present, *self._untracked()})

    # --- reading -----------------------------------------------------------------------------------

    def _index(self) -> list[tuple[str, str]]:
        """(path, blob id) of stage-0 regular files in the index (no symlinks, no submodules)."""
        out = self._git_bytes("ls-files", "--stage", "-z")
        entries = []
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, name = record.partition(b"\t")
            mode, oid, stage = meta.split()
            if stage == b"0" and mode in (b"100644", b"100755"):
                entries.append((name.decode("utf-8", errors="replace"), oid.decode()))
        return entries

    def _untracked(self) -> list[str]:
        out = self._git_bytes("ls-files", "--others", "--exclude-standard", "-z")
        return [p.decode("utf-8", errors="replace") for p in out.split(b"\0") if p]

    def _disk(self, path: str) -> bytes | None:
        target = self.repo / path
        try:
            resolved = target.resolve()
            if target.is_symlink() or not resolved.is_relative_to(self.repo.resolve()) or not target.is_file():
                return None
            with target.open("rb") as handle:  # one byte past the cap says "too large" without reading it all
                return handle.read(MAX_FILE_BYTES + 1)
        except OSError:
            return None


def pending_source(repo: Path | str, pending: Pending) -> PendingSource:
    return PendingSource(repo, pending)
