"""RepoSource over a local git repository, for `align check` / `align scan`. Read-only: it runs git plumbing
commands, never a checkout, hook or anything from the repository itself."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

from align.source import MAX_FILE_BYTES, ChangeStatus, FileChange, SourceError

# Never let a repository's config run programs: no external diff drivers, textconv, pager or fsmonitor.
_SAFE_GIT = ["git", "-c", "core.fsmonitor=false", "-c", "diff.external=", "--no-pager"]


class GitSource:
    def __init__(self, repo: Path | str) -> None:
        self.repo = Path(repo)
        self._trees: dict[str, list[tuple[str, str]]] = {}  # by commit id: a commit's tree never changes
        self._resolved: dict[str, str] = {}  # ref -> commit, until a fetch may move refs
        try:  # the top and HEAD in one git process (nearly every command asks for HEAD next)
            top, head = self._git("rev-parse", "--show-toplevel", "HEAD^{commit}").splitlines()
            self._resolved["HEAD"] = head
        except (SourceError, ValueError):  # no commit yet, or not a repository: say which
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
                [*_SAFE_GIT, *args], cwd=self.repo, input=stdin, capture_output=True, check=False,
                env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
            )
        except FileNotFoundError as error:
            raise SourceError("git is not installed") from error
        if done.returncode != 0:
            reason = done.stderr.decode(errors="replace").strip().splitlines()
            raise SourceError(reason[-1] if reason else f"git {args[0]} failed")
        return done.stdout

    def resolve(self, ref: str) -> str:
        if ref in self._resolved:  # `check --base HEAD` asks for HEAD twice: one git process fewer
            return self._resolved[ref]
        try:
            sha = self._git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}").strip()
        except SourceError as error:
            raise SourceError(f"unknown revision {ref!r}") from error
        self._resolved[ref] = sha
        return sha

    def default_base(self, head: str = "HEAD") -> str:
        """The merge-base of `head` with the default branch (origin's HEAD, else main, else master).

        In a single-branch clone (what CI checkouts make) `origin/HEAD`, when there is one, points at the
        branch that was cloned, not at the default branch: it is not used there."""
        # Which of the candidates exist, and where origin/HEAD points, in one git process.
        listed = self._git("for-each-ref", "--format=%(refname) %(symref)", "refs/remotes/origin/HEAD",
                           *_DEFAULT_BRANCHES)
        existing = {name: target for name, _, target in (line.partition(" ") for line in listed.splitlines()) if name}
        candidates = []
        origin_head = existing.get("refs/remotes/origin/HEAD")
        if origin_head and not self.single_branch():
            candidates.append(origin_head)
        candidates += [branch for branch in _DEFAULT_BRANCHES if branch in existing]
        for branch in candidates:
            try:
                sha = self._git("merge-base", branch, head).strip()
            except SourceError:
                continue
            self._resolved[sha] = sha  # a commit already: resolving it again would be one more process
            return sha
        if self.single_branch():
            raise SourceError("cannot find the default branch: this is a single-branch clone; pass --base, "
                              "or fetch the default branch first (git fetch origin main)")
        raise SourceError("cannot find the default branch (main or master); pass --base")

    # --- what CI checkouts lack (see align.actions) ---------------------------------------------------------

    def single_branch(self) -> bool:
        """True when `origin` fetches only some branches (`git clone --single-branch`, `--depth`, CI)."""
        try:
            refspecs = self._git("config", "--get-all", "remote.origin.fetch").split()
        except SourceError:
            return False  # no origin at all: nothing to mislead
        return not any(spec.lstrip("+").startswith("refs/heads/*:") for spec in refspecs)

    def is_shallow(self) -> bool:
        return self._git("rev-parse", "--is-shallow-repository").strip() == "true"

    def has_commit(self, rev: str) -> bool:
        try:
            self._git("cat-file", "-e", f"{rev}^{{commit}}")
        except SourceError:
            return False
        return True

    def parents(self, rev: str) -> list[str]:
        """The parents a commit names, read from the commit object (known even past a shallow boundary)."""
        body = self._git("cat-file", "commit", rev)
        return [line.split()[1] for line in body.split("\n\n", 1)[0].splitlines() if line.startswith("parent ")]

    def merge_base(self, a: str, b: str) -> str | None:
        try:
            return self._git("merge-base", a, b).strip() or None
        except SourceError:
            return None

    def fetch(self, *refspecs: str, depth: int | None = None, unshallow: bool = False) -> None:
        """`git fetch` from origin, no tags; raises SourceError with git's last line when it fails."""
        args = ["fetch", "--no-tags", "--quiet", "--no-write-fetch-head"]
        if depth is not None:
            args.append(f"--depth={depth}")
        if unshallow:
            args.append("--unshallow")
        self._git(*args, "origin", *refspecs)
        self._resolved.clear()

    def changed_files(self, base: str, head: str) -> list[FileChange]:
        """Statuses from `--raw`, binary flags from `--numstat`, added lines from `-U0` hunk headers only.

        unidiff parsed a 300,000-line diff in 2.3 s; with zero context lines the hunk headers alone say which
        lines were added, and added files need no diff at all (every line is new).
        """
        raw = self._git_bytes("diff", "--raw", "--numstat", "-z", "-M", "--no-abbrev", base, head, "--")
        entries, numstat = _parse_raw_numstat(raw)
        # A rename is only detected when both of its paths are in the pathspec.
        modified = [p for e in entries if e.status not in ("added", "removed") for p in (e.previous, e.path) if p]
        hunks = self._added_lines(base, head, modified) if modified else {}
        changes = []
        for entry in entries:
            added, _ = numstat.get(entry.path, (None, None))
            binary = added is None
            if entry.status == "added":
                lines = frozenset(range(1, (added or 0) + 1))
            elif entry.status == "removed":
                lines = frozenset()
            else:
                lines = hunks.get(entry.path, frozenset())
            changes.append(FileChange(entry.path, entry.status, lines, previous_path=entry.previous, binary=binary))
        return changes

    def _added_lines(self, base: str, head: str, paths: list[str]) -> dict[str, frozenset[int]]:
        out = self._git_bytes(
            "diff", "--no-color", "--no-ext-diff", "--no-textconv", "-M", "--unified=0", base, head, "--", *paths
        )
        return added_lines_of_diff(out)

    def read(self, ref: str, path: str) -> bytes | None:
        return self.read_many(ref, [path]).get(path)

    def read_many(self, ref: str, paths: Iterable[str]) -> Mapping[str, bytes]:
        """Blob ids from one `ls-tree`, contents from one `cat-file --batch` (by id: no path lookups)."""
        wanted = set(paths)
        if not wanted:
            return {}
        return self._blobs({path: oid for path, oid in self._tree(ref) if path in wanted})

    def _blobs(self, blobs: Mapping[str, str]) -> dict[str, bytes]:
        """Contents by path from blob ids, streamed from one `cat-file --batch`. A blob larger than the engine
        accepts keeps its first MAX_FILE_BYTES + 1 bytes (enough to say it is too large, as the service's
        archive reader does) and the rest is read past, never held: a scan's memory stays bounded. A blob the
        repository lacks (a partial clone, borrowed objects: `<oid> missing`) is left out."""
        if not blobs:
            return {}
        order = list(blobs)
        request = "".join(f"{blobs[path]}\n" for path in order).encode()
        try:
            git = subprocess.Popen([*_SAFE_GIT, "cat-file", "--batch"], cwd=self.repo, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
        except FileNotFoundError as error:
            raise SourceError("git is not installed") from error
        assert git.stdin is not None and git.stdout is not None
        writer = threading.Thread(target=_feed, args=(git.stdin, request), daemon=True)
        writer.start()  # git answers while it reads: writing everything first could fill both pipes
        result: dict[str, bytes] = {}
        try:
            for path in order:
                header = git.stdout.readline().split()
                if len(header) < 3 or not header[2].isdigit():
                    continue
                size = int(header[2])
                keep = min(size, MAX_FILE_BYTES + 1)
                result[path] = git.stdout.read(keep)
                left = size - keep + 1  # what is past the cap, and the newline after the contents
                while left > 0 and (chunk := git.stdout.read(min(left, 1 << 20))):
                    left -= len(chunk)
        finally:
            git.stdout.close()
            git.wait()
            writer.join()
        return result

    def _tree(self, ref: str) -> list[tuple[str, str]]:
        """(path, blob id) of every file. Not `ls-tree -l`: sizes would make git open every blob of the tree
        (in a partial clone, fetch it), and it prints `BAD` for a blob it lacks."""
        if ref in self._trees:
            return self._trees[ref]
        out = self._git_bytes("ls-tree", "-r", "-z", "--full-tree", ref)
        entries = []
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, _, name = record.partition(b"\t")
            mode, kind, oid = meta.split()
            if kind == b"blob" and mode != b"120000":  # symlinks are not files to review
                entries.append((name.decode("utf-8", errors="replace"), oid.decode()))
        if _COMMIT_ID.fullmatch(ref):  # a branch name may move; a review asks by commit id, several times
            if len(self._trees) >= 4:
                self._trees.clear()
            self._trees[ref] = entries
        return entries

    def list_files(self, ref: str) -> list[str]:
        return [path for path, _ in self._tree(ref)]


def added_lines_of_diff(out: bytes) -> dict[str, frozenset[int]]:
    """Head-side added lines per file from a `git diff --unified=0`: the hunk headers alone tell."""
    result: dict[str, set[int]] = {}
    current: set[int] | None = None
    for row in out.split(b"\n"):
        if row.startswith(b"+++ "):
            name = row[4:].decode("utf-8", errors="replace")
            current = result.setdefault(name[2:] if name.startswith("b/") else name, set())
        elif row.startswith(b"@@") and current is not None:
            match = _HUNK_HEADER.match(row)
            if match:
                start, count = int(match.group(1)), int(match.group(2) or 1)
                current.update(range(start, start + count))
    return {path: frozenset(lines) for path, lines in result.items()}


def _feed(pipe: IO[bytes], data: bytes) -> None:
    with contextlib.suppress(BrokenPipeError), pipe:
        pipe.write(data)


_DEFAULT_BRANCHES = ("refs/remotes/origin/main", "refs/heads/main", "refs/remotes/origin/master", "refs/heads/master")
_COMMIT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_HUNK_HEADER = re.compile(rb"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_STATUS = {"A": "added", "D": "removed", "M": "modified", "R": "renamed", "C": "copied", "T": "changed"}


@dataclass(frozen=True, slots=True)
class _RawEntry:
    status: ChangeStatus
    path: str
    previous: str | None


def _parse_raw_numstat(raw: bytes) -> tuple[list[_RawEntry], dict[str, tuple[int | None, int | None]]]:
    """Parse `git diff --raw --numstat -z`: raw records first (":meta\0path\0[path2\0]"), then numstat
    records ("added\tdeleted\tpath\0" or, for renames, "added\tdeleted\t\0old\0new\0"); "-" means binary."""
    fields = raw.split(b"\0")
    entries: list[_RawEntry] = []
    numstat: dict[str, tuple[int | None, int | None]] = {}
    i = 0
    while i < len(fields):
        record = fields[i]
        if not record:
            i += 1
            continue
        if record.startswith(b":"):
            letter = record.split()[-1][:1].decode()
            status = cast(ChangeStatus, _STATUS.get(letter, "modified"))
            if letter in ("R", "C"):
                previous, path = fields[i + 1].decode(errors="replace"), fields[i + 2].decode(errors="replace")
                i += 3
            else:
                previous, path = None, fields[i + 1].decode(errors="replace")
                i += 2
            entries.append(_RawEntry(status, path, previous))
            continue
        added, deleted, name = record.split(b"\t", 2)
        if name:
            path, i = name.decode(errors="replace"), i + 1
        else:  # a rename: the old and new paths follow as their own fields
            path, i = fields[i + 2].decode(errors="replace"), i + 3
        numstat[path] = (None, None) if added == b"-" else (int(added), int(deleted))
    return entries, numstat
