"""A tiny content-addressed commit store with git's own object hashing.

Blob and tree ids are exactly what git would compute, so SHAs look and behave like real ones (40 hex digits,
stable for identical content). Commits hash a git-format text that includes a timestamp and parents.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

Tree = Mapping[str, bytes]  # path -> file content; the whole snapshot of one commit

FILE_MODE = "100644"
DIR_MODE = "040000"


def blob_sha(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


@dataclass(frozen=True)
class TreeEntry:
    name: str
    mode: str
    kind: str  # "blob" | "tree"
    sha: str
    size: int | None  # blobs only


@dataclass
class Commit:
    sha: str
    tree_sha: str
    parents: tuple[str, ...]
    files: dict[str, bytes]
    message: str
    author_login: str
    author_name: str
    author_email: str
    timestamp: float
    order: int  # creation order, to sort commits made within the same second


@dataclass
class GitStore:
    """Commits and tree objects of one repository."""

    commits: dict[str, Commit] = field(default_factory=dict)
    trees: dict[str, list[TreeEntry]] = field(default_factory=dict)
    tree_paths: dict[str, str] = field(default_factory=dict)  # tree sha -> directory path ("" = root)

    def write_tree(self, files: Tree) -> str:
        """Store the tree objects of a snapshot and return the root tree sha (git-compatible)."""
        return self._write_dir("", files)

    def _write_dir(self, prefix: str, files: Tree) -> str:
        children: dict[str, dict[str, bytes]] = {}
        blobs: dict[str, bytes] = {}
        for path, content in files.items():
            rel = path[len(prefix) :] if prefix else path
            head, sep, _ = rel.partition("/")
            if sep:
                children.setdefault(head, {})[path] = content
            else:
                blobs[head] = content
        entries = [TreeEntry(name, FILE_MODE, "blob", blob_sha(data), len(data)) for name, data in blobs.items()]
        for name, sub in children.items():
            sub_prefix = f"{prefix}{name}/"
            entries.append(TreeEntry(name, DIR_MODE, "tree", self._write_dir(sub_prefix, sub), None))
        # git sorts tree entries by name, with directories compared as if they ended in "/"
        entries.sort(key=lambda e: e.name + ("/" if e.kind == "tree" else ""))
        raw = b"".join(
            f"{e.mode.lstrip('0')} {e.name}".encode() + b"\0" + bytes.fromhex(e.sha) for e in entries
        )
        sha = hashlib.sha1(b"tree %d\0" % len(raw) + raw).hexdigest()
        self.trees[sha] = entries
        self.tree_paths[sha] = prefix.rstrip("/")
        return sha

    def add_commit(
        self,
        files: Tree,
        parents: tuple[str, ...],
        message: str,
        author_login: str,
        author_name: str,
        author_email: str,
        timestamp: float,
    ) -> Commit:
        tree_sha = self.write_tree(files)
        lines = [f"tree {tree_sha}"] + [f"parent {p}" for p in parents]
        who = f"{author_name} <{author_email}> {int(timestamp)} +0000"
        text = "\n".join([*lines, f"author {who}", f"committer {who}", "", message]).encode()
        sha = hashlib.sha1(b"commit %d\0" % len(text) + text).hexdigest()
        if sha in self.commits:  # same content, parents and second: git would produce the same object
            return self.commits[sha]
        commit = Commit(sha, tree_sha, parents, dict(files), message, author_login, author_name, author_email,
                        timestamp, len(self.commits))
        self.commits[sha] = commit
        return commit

    def ancestors(self, sha: str) -> Iterator[str]:
        """Breadth-first walk from a commit through its parents (the commit itself first)."""
        seen: set[str] = set()
        queue = deque([sha])
        while queue:
            current = queue.popleft()
            if current in seen or current not in self.commits:
                continue
            seen.add(current)
            yield current
            queue.extend(self.commits[current].parents)

    def merge_base(self, a: str, b: str) -> str | None:
        reachable = set(self.ancestors(a))
        return next((sha for sha in self.ancestors(b) if sha in reachable), None)

    def commits_between(self, base: str, head: str) -> list[Commit]:
        """Commits reachable from head but not from base, oldest first (what `git log base..head` lists)."""
        excluded = set(self.ancestors(base))
        found = [self.commits[sha] for sha in self.ancestors(head) if sha not in excluded]
        return sorted(found, key=lambda c: c.order)

    def resolve_prefix(self, prefix: str) -> str | None:
        if len(prefix) < 4:
            return None
        matches = [sha for sha in self.commits if sha.startswith(prefix.lower())]
        return matches[0] if len(matches) == 1 else None
