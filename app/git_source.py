"""RepoSource over a local git repository, for `align check` / `align scan`. Read-only: it runs git plumbing
commands, never a checkout, hook or anything from the repository itself."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

from unidiff import PatchSet

from app.source import FileChange, SourceError

# Never let a repository's config run programs: no external diff drivers, textconv, pager or fsmonitor.
_SAFE_GIT = ["git", "-c", "core.fsmonitor=false", "-c", "diff.external=", "--no-pager"]


class GitSource:
    def __init__(self, repo: Path | str) -> None:
        self.repo = Path(repo)
        try:
            top = self._git("rev-parse", "--show-toplevel").strip()
        except SourceError as error:
            raise SourceError(f"{self.repo} is not a git repository") from error
        self.repo = Path(top)

    def _git(self, *args: str, stdin: bytes | None = None) -> str:
        return self._git_bytes(*args, stdin=stdin).decode("utf-8", errors="replace")

    def _git_bytes(self, *args: str, stdin: bytes | None = None) -> bytes:
        try:
            done = subprocess.run(
                [*_SAFE_GIT, *args], cwd=self.repo, input=stdin, capture_output=True, check=False
            )
        except FileNotFoundError as error:
            raise SourceError("git is not installed") from error
        if done.returncode != 0:
            reason = done.stderr.decode(errors="replace").strip().splitlines()
            raise SourceError(reason[-1] if reason else f"git {args[0]} failed")
        return done.stdout

    def resolve(self, ref: str) -> str:
        try:
            return self._git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}").strip()
        except SourceError as error:
            raise SourceError(f"unknown revision {ref!r}") from error

    def default_base(self, head: str = "HEAD") -> str:
        """The merge-base of `head` with the default branch (origin's HEAD, else main, else master)."""
        candidates = []
        try:
            candidates.append(self._git("symbolic-ref", "--quiet", "refs/remotes/origin/HEAD").strip())
        except SourceError:
            pass
        candidates += ["refs/remotes/origin/main", "refs/heads/main", "refs/remotes/origin/master", "refs/heads/master"]
        for branch in candidates:
            try:
                return self._git("merge-base", branch, head).strip()
            except SourceError:
                continue
        raise SourceError("cannot find the default branch (main or master); pass --base")

    def changed_files(self, base: str, head: str) -> list[FileChange]:
        raw = self._git_bytes(
            "diff", "--no-color", "--no-ext-diff", "--no-textconv", "-M", "--unified=0", base, head, "--"
        )
        changes = []
        for patched in PatchSet(raw.decode("utf-8", errors="replace")):
            if patched.is_removed_file:
                status = "removed"
            elif patched.is_added_file:
                status = "added"
            elif patched.is_rename:
                status = "renamed"
            else:
                status = "modified"
            added = frozenset(
                line.target_line_no for hunk in patched for line in hunk if line.is_added and line.target_line_no
            )
            path = patched.path
            previous = patched.source_file[2:] if patched.is_rename and patched.source_file.startswith("a/") else None
            changes.append(FileChange(path, status, added, previous_path=previous, binary=patched.is_binary_file))
        return changes

    def read(self, ref: str, path: str) -> bytes | None:
        return self.read_many(ref, [path]).get(path)

    def read_many(self, ref: str, paths: Iterable[str]) -> Mapping[str, bytes]:
        """One `git cat-file --batch` for all paths."""
        wanted = [p for p in paths if "\n" not in p]
        if not wanted:
            return {}
        request = "".join(f"{ref}:{p}\n" for p in wanted).encode()
        out = self._git_bytes("cat-file", "--batch", stdin=request)
        result: dict[str, bytes] = {}
        cursor = 0
        for path in wanted:
            header_end = out.index(b"\n", cursor)
            header = out[cursor:header_end].split()
            cursor = header_end + 1
            if len(header) < 3 or header[-1] == b"missing":
                continue
            size = int(header[2])
            if header[1] == b"blob":
                result[path] = out[cursor : cursor + size]
            cursor += size + 1
        return result

    def list_files(self, ref: str) -> list[str]:
        out = self._git_bytes("ls-tree", "-r", "-z", "--name-only", "--full-tree", ref)
        return [p.decode("utf-8", errors="replace") for p in out.split(b"\0") if p]
