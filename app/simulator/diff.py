"""Unified diffs between two snapshots, the way GitHub shows them.

Gives the per-file entries of `GET /pulls/{n}/files` (status, counts, `patch` hunks with 3 lines of context)
and the map of which lines a review comment may anchor on: a line is commentable only inside a hunk,
RIGHT side for added and context lines, LEFT side for deleted and context lines.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from align.simulator.gitstore import Tree, blob_sha

CONTEXT_LINES = 3
RENAME_SIMILARITY = 0.5  # git's default rename threshold
# GitHub omits `patch` for very large file diffs without documenting the cut-off; these mirror the
# per-file limits of its diff viewer.
MAX_PATCH_LINES = 3_000
MAX_PATCH_BYTES = 100_000
NO_NEWLINE = "\\ No newline at end of file"


@dataclass(frozen=True)
class DiffLine:
    kind: str  # " " context, "+" added, "-" deleted
    text: str
    old: int | None
    new: int | None
    no_newline: bool = False  # the file ends on this line without a newline


@dataclass
class Hunk:
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    lines: list[DiffLine] = field(default_factory=list)

    @property
    def header(self) -> str:
        return f"@@ -{_range(self.old_start, self.old_len)} +{_range(self.new_start, self.new_len)} @@"

    def render(self, upto: int | None = None) -> list[str]:
        out = [self.header]
        for index, line in enumerate(self.lines):
            if upto is not None and index > upto:
                break
            out.append(line.kind + line.text)
            if line.no_newline:
                out.append(NO_NEWLINE)
        return out


@dataclass
class FileDiff:
    path: str
    status: str  # added | removed | modified | renamed
    previous_path: str | None
    old_sha: str | None
    new_sha: str | None
    binary: bool
    hunks: list[Hunk]
    additions: int
    deletions: int

    @property
    def changes(self) -> int:
        return self.additions + self.deletions

    def patch_lines(self) -> list[str]:
        return [text for hunk in self.hunks for text in hunk.render()]

    @property
    def patch(self) -> str | None:
        """The `patch` field, or None when GitHub would leave it out (binary or too large)."""
        if self.binary or not self.hunks:
            return None
        lines = self.patch_lines()
        text = "\n".join(lines)
        if len(lines) > MAX_PATCH_LINES or len(text.encode()) > MAX_PATCH_BYTES:
            return None
        return text

    def locate(self, side: str, line: int) -> tuple[int, int] | None:
        """(hunk index, line index within the hunk) of a commentable line, or None if outside the diff."""
        for h_index, hunk in enumerate(self.hunks):
            for l_index, diff_line in enumerate(hunk.lines):
                if side == "RIGHT" and diff_line.kind != "-" and diff_line.new == line:
                    return h_index, l_index
                if side == "LEFT" and diff_line.kind != "+" and diff_line.old == line:
                    return h_index, l_index
        return None

    def at_position(self, position: int) -> tuple[int, int] | None:
        """Resolve the deprecated `position` (lines below the first hunk header, counting later headers)."""
        offset = 0
        for h_index, hunk in enumerate(self.hunks):
            if h_index > 0:
                offset += 1  # the next hunk's header line counts as a position
            if offset < position <= offset + len(hunk.lines):
                return h_index, position - offset - 1
            offset += len(hunk.lines)
        return None

    def position_of(self, hunk_index: int, line_index: int) -> int:
        return sum(len(h.lines) + 1 for h in self.hunks[:hunk_index]) + line_index + 1

    def diff_hunk(self, hunk_index: int, line_index: int) -> str:
        """What GitHub stores as a review comment's `diff_hunk`: the hunk up to the commented line."""
        return "\n".join(self.hunks[hunk_index].render(upto=line_index))


def _range(start: int, length: int) -> str:
    return str(start) if length == 1 else f"{start},{length}"


def is_binary(content: bytes) -> bool:
    """git's heuristic: a NUL byte in the first 8,000 bytes."""
    return b"\0" in content[:8000]


def _split(content: bytes) -> list[str]:
    """Lines with their newline, split on "\\n" only (as git does; str.splitlines also splits on \\r, \\f...)."""
    parts = content.decode("utf-8", errors="replace").split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _line(kind: str, raw: str, old: int | None, new: int | None) -> DiffLine:
    ends = raw.endswith("\n")
    return DiffLine(kind, raw[:-1] if ends else raw, old, new, not ends)


def make_hunks(old: bytes, new: bytes, context: int = CONTEXT_LINES) -> list[Hunk]:
    a, b = _split(old), _split(new)
    hunks: list[Hunk] = []
    for group in difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(context):
        i1, j1 = group[0][1], group[0][3]
        i2, j2 = group[-1][2], group[-1][4]
        hunk = Hunk(i1 + 1 if i2 > i1 else i1, i2 - i1, j1 + 1 if j2 > j1 else j1, j2 - j1)
        for tag, ai1, ai2, bj1, bj2 in group:
            if tag == "equal":
                for offset in range(ai2 - ai1):
                    hunk.lines.append(_line(" ", a[ai1 + offset], ai1 + offset + 1, bj1 + offset + 1))
                continue
            for index in range(ai1, ai2):
                hunk.lines.append(_line("-", a[index], index + 1, None))
            for index in range(bj1, bj2):
                hunk.lines.append(_line("+", b[index], None, index + 1))
        hunks.append(hunk)
    return hunks


def _file_diff(path: str, status: str, old: bytes | None, new: bytes | None, previous: str | None = None) -> FileDiff:
    old_b, new_b = old or b"", new or b""
    binary = is_binary(old_b) or is_binary(new_b)
    hunks = [] if binary else make_hunks(old_b, new_b)
    adds = sum(1 for h in hunks for ln in h.lines if ln.kind == "+")
    dels = sum(1 for h in hunks for ln in h.lines if ln.kind == "-")
    return FileDiff(
        path=path,
        status=status,
        previous_path=previous,
        old_sha=blob_sha(old) if old is not None else None,
        new_sha=blob_sha(new) if new is not None else None,
        binary=binary,
        hunks=hunks,
        additions=adds,
        deletions=dels,
    )


def _similarity(old: bytes, new: bytes) -> float:
    if old == new:
        return 1.0
    if is_binary(old) or is_binary(new):
        return 0.0
    matcher = difflib.SequenceMatcher(None, _split(old), _split(new), autojunk=False)
    if matcher.real_quick_ratio() < RENAME_SIMILARITY or matcher.quick_ratio() < RENAME_SIMILARITY:
        return 0.0
    return matcher.ratio()


def _pair_renames(removed: dict[str, bytes], added: dict[str, bytes]) -> dict[str, str]:
    """new path -> old path for files git would report as renamed (exact first, then >= 50% similar)."""
    pairs: dict[str, str] = {}
    by_sha = {blob_sha(data): path for path, data in removed.items() if data}
    for path, data in added.items():
        old_path = by_sha.get(blob_sha(data))
        if data and old_path is not None and old_path not in pairs.values():
            pairs[path] = old_path
    if len(removed) * len(added) > 10_000:  # keep the similarity search cheap on huge changes
        return pairs
    for path, data in added.items():
        if path in pairs:
            continue
        candidates = [
            (_similarity(old_data, data), old_path)
            for old_path, old_data in removed.items()
            if old_path not in pairs.values()
        ]
        best = max(candidates, default=(0.0, ""))
        if best[0] >= RENAME_SIMILARITY:
            pairs[path] = best[1]
    return pairs


def diff_trees(old: Tree, new: Tree) -> list[FileDiff]:
    """Per-file differences from old to new, sorted by path like git."""
    removed = {p: d for p, d in old.items() if p not in new}
    added = {p: d for p, d in new.items() if p not in old}
    renames = _pair_renames(removed, added)
    diffs: list[FileDiff] = []
    for path in sorted(set(old) | set(new)):
        if path in old and path in new:
            if old[path] != new[path]:
                diffs.append(_file_diff(path, "modified", old[path], new[path]))
        elif path in new:
            if path in renames:
                previous = renames[path]
                diffs.append(_file_diff(path, "renamed", old[previous], new[path], previous))
            else:
                diffs.append(_file_diff(path, "added", None, new[path]))
        elif path not in renames.values():
            diffs.append(_file_diff(path, "removed", old[path], None))
    return diffs


def render_unified(diffs: list[FileDiff]) -> str:
    """The whole diff as `git diff` prints it (the `application/vnd.github.diff` media type)."""
    out: list[str] = []
    for fd in diffs:
        old_name = fd.previous_path or fd.path
        out.append(f"diff --git a/{old_name} b/{fd.path}")
        if fd.status == "added":
            out.append("new file mode 100644")
        elif fd.status == "removed":
            out.append("deleted file mode 100644")
        elif fd.status == "renamed":
            out += [f"similarity index {100 if not fd.hunks else 90}%", f"rename from {old_name}",
                    f"rename to {fd.path}"]
        if fd.hunks or fd.binary:
            old_sha = (fd.old_sha or "0" * 40)[:7]
            new_sha = (fd.new_sha or "0" * 40)[:7]
            mode = "" if fd.status in ("added", "removed") else " 100644"
            out.append(f"index {old_sha}..{new_sha}{mode}")
        a = "/dev/null" if fd.status == "added" else f"a/{old_name}"
        b = "/dev/null" if fd.status == "removed" else f"b/{fd.path}"
        if fd.binary:
            out.append(f"Binary files {a} and {b} differ")
        elif fd.hunks:
            out += [f"--- {a}", f"+++ {b}", *fd.patch_lines()]
    return "\n".join(out) + ("\n" if out else "")
