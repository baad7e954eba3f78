"""A `RepoSource` that reads a pull request through GitHub's API at exact commit SHAs.

Changed files come from the pull request files API (patches included, up to 3,000 files); file contents
from ONE tarball of the commit, read as a stream within limits and held in memory; single files at other
commits (the base `align.yaml`) from the contents API, unless the change leaves the file alone (then the
head's copy is the same). When the archive cannot be had (its host unreachable, an error, garbage, a cut-off
stream, over a limit), every file is read through the contents API instead, within MAX_SINGLE_READS.
Nothing is checked out and nothing from the pull request is executed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any, get_args

from align.service.github_client import GitHubCallError, RepoClient
from align.service.github_stream import raw_contents, tarball
from align.service.tarball import Archive, ArchiveLimits, read_archive
from align.source import MAX_FILE_BYTES, ChangeStatus, FileChange, SourceError, added_lines_from_patch

log = logging.getLogger("align.source")

_SHA = re.compile(r"^[0-9a-f]{40}$")
_STATUSES = frozenset(get_args(ChangeStatus))
MAX_SINGLE_READS = 300  # contents-API reads allowed when the archive cannot be read
PULL_FILES_CAP = 3000  # GitHub lists at most this many files of a pull request
COMPARE_FILES_CAP = 300  # ... and of a comparison


def file_change(entry: Mapping[str, Any]) -> FileChange:
    """One entry of GET pulls/{n}/files (or compare's `files`) as the engine's FileChange."""
    status = entry.get("status", "modified")
    patch = entry.get("patch")
    # GitHub leaves `patch` out for binary files and diffs too large to show; a pure rename has none either.
    binary = patch is None and status != "removed" and int(entry.get("changes", 1) or 0) > 0
    return FileChange(
        path=str(entry["filename"]),
        status=status if status in _STATUSES else "modified",
        added_lines=added_lines_from_patch(patch),
        previous_path=entry.get("previous_filename"),
        binary=binary,
        patch=patch,
    )


class GitHubSource:
    def __init__(
        self,
        client: RepoClient,
        pull_number: int,
        head: str,
        *,
        pull_head: str | None = None,
        max_files: int = 3000,
        max_archive_bytes: int = 200 * 1024 * 1024,
        max_extracted_bytes: int = 512 * 1024 * 1024,
        limits: ArchiveLimits | None = None,
    ) -> None:
        """`limits` (default: ArchiveLimits' own, with the two byte limits given) bound the archive read."""
        self.client = client
        self.pull_number = pull_number
        self.head = head  # the commit under review: read from its archive
        self.pull_head = pull_head or head  # the pull request's current head: its files API describes it
        self.max_files = max_files
        self.limits = limits or ArchiveLimits(compressed=max_archive_bytes, kept=max_extracted_bytes)
        self._changes: dict[tuple[str, str], list[FileChange]] = {}
        self._complete: dict[tuple[str, str], bool] = {}  # the listing names every changed path
        self._archives: dict[str, Archive | None] = {}  # None: unavailable, read file by file
        self._single_reads = 0
        self._singles: dict[tuple[str, str], bytes | None] = {}

    def resolve(self, ref: str) -> str:
        if _SHA.match(ref):
            return ref
        try:
            return self.client.commit_sha(ref)
        except Exception as error:
            raise SourceError(f"unknown ref {ref!r}") from error

    def changed_files(self, base: str, head: str) -> list[FileChange]:
        key = (base, head)
        if key not in self._changes:
            if head == self.pull_head == self.head:
                entries = self.client.list_pull_files(self.pull_number, limit=self.max_files)
                cap = min(self.max_files, PULL_FILES_CAP)
            else:  # an older head (a re-run on a previous commit): the pull's files describe the newest one
                entries = self.client.compare_files(base, head)
                cap = COMPARE_FILES_CAP
            self._changes[key] = [file_change(e) for e in entries]
            self._complete[key] = len(entries) < cap
        return self._changes[key]

    def _same_as_head(self, ref: str, path: str) -> bool:
        """True when `path` is known to be the same at `ref` (the base) as at the head under review: the
        change's complete file list does not name it (renames name their old path too). Such a file, like
        the base `align.yaml` of most pull requests, is read from the head's archive instead of one more
        request. The list compares the head with its merge base, so the base's version is the one the
        pull request started from: a pull request that does not touch the file cannot have changed it."""
        key = (ref, self.head)
        if ref == self.head or not self._complete.get(key):
            return False
        touched = {c.path for c in self._changes[key]} | {c.previous_path for c in self._changes[key]}
        return path not in touched

    def _archive(self, ref: str) -> Archive | None:
        if ref not in self._archives and self.limits.compressed <= 0:
            self._archives[ref] = None  # archives switched off: their host (codeload) may be unreachable
        if ref not in self._archives:
            try:
                with tarball(self.client, ref) as chunks:
                    self._archives[ref] = read_archive(chunks, self.limits)
            except Exception as error:  # whatever went wrong, the files can still be read one by one
                log.warning("archive of %s unavailable (%s: %s); reading the files one by one",
                            ref[:7], type(error).__name__, str(error)[:300])
                self._archives[ref] = None
        return self._archives[ref]

    def _read_single(self, ref: str, path: str) -> bytes | None:
        key = (ref, path)
        if key not in self._singles:  # the manifest is read once per side, then again by rules: ask once
            if self._single_reads >= MAX_SINGLE_READS:
                return None
            self._single_reads += 1
            self._singles[key] = self._contents(ref, path)
        return self._singles[key]

    def _contents(self, ref: str, path: str) -> bytes | None:
        try:
            return self.client.get_contents(path, ref)
        except GitHubCallError as error:
            if error.status != 403 or "too large" not in str(error):
                raise
        # Over 1 MB: one byte more than the engine accepts, so that it is reported as too large (as from
        # the archive) rather than failing the review.
        return raw_contents(self.client, path, ref, MAX_FILE_BYTES + 1)

    def read(self, ref: str, path: str) -> bytes | None:
        if self._same_as_head(ref, path):
            ref = self.head
        if ref in self._archives or ref == self.head:
            archive = self._archive(ref)
            if archive is not None:
                return archive.files.get(path)
        return self._read_single(ref, path)

    def read_many(self, ref: str, paths: Iterable[str]) -> Mapping[str, bytes]:
        wanted = list(paths)
        if ref != self.head and wanted and all(self._same_as_head(ref, p) for p in wanted):
            return self.read_many(self.head, wanted)
        if ref == self.head or ref in self._archives:
            archive = self._archive(ref)
            if archive is not None:
                return {p: archive.files[p] for p in wanted if p in archive.files}
        found: dict[str, bytes] = {}
        for path in wanted:
            data = self._read_single(ref, path)
            if data is not None:
                found[path] = data
        return found

    def list_files(self, ref: str) -> list[str]:
        archive = self._archive(ref)
        return sorted(archive.files) if archive is not None else []

    def unlisted(self, ref: str) -> str | None:
        """Why the files of `ref` beyond the change were not listed (and so not read), or None if they were
        or were never asked for: without the archive only the changed files are read, one by one."""
        if ref not in self._archives or self._archives[ref] is not None:
            return None
        if self.limits.compressed <= 0:
            return "reading the repository's archive is switched off (ALIGN_MAX_TARBALL_BYTES=0)"
        return "the repository's archive could not be downloaded"

    def texts(self, ref: str, paths: Iterable[str]) -> dict[str, str]:
        """Head texts of already-read files for the report (no extra request)."""
        archive = self._archives.get(ref)
        out: dict[str, str] = {}
        for path in paths:
            data = archive.files.get(path) if archive is not None else self._singles.get((ref, path))
            if data is not None:
                try:
                    out[path] = data.decode("utf-8")
                except UnicodeDecodeError:
                    continue
        return out
