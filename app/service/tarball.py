"""Read a repository archive in memory: regular files only, with size limits, never written to disk.

Nothing in it is ever executed or extracted to the filesystem; links, devices and paths that try to
leave the tree are skipped.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field

from app.source import MAX_FILE_BYTES


class ArchiveTooLarge(Exception):
    """The download exceeded its byte budget: the caller falls back to reading files one by one."""


@dataclass
class Archive:
    files: dict[str, bytes] = field(default_factory=dict)
    truncated: bool = False  # the extraction budget ran out: some files are missing


def download(chunks: Iterable[bytes], max_bytes: int) -> bytes:
    buffer = io.BytesIO()
    for chunk in chunks:
        buffer.write(chunk)
        if buffer.tell() > max_bytes:
            raise ArchiveTooLarge(f"archive larger than {max_bytes} bytes")
    return buffer.getvalue()


def _relative(name: str) -> str | None:
    """GitHub archives put everything under one `<owner>-<repo>-<sha>/` folder: strip it."""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if len(parts) < 2 or ".." in parts:
        return None
    return "/".join(parts[1:])


def read_archive(data: bytes, max_extracted: int, max_members: int = 200_000) -> Archive:
    archive = Archive()
    budget = max_extracted
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        for count, member in enumerate(tar):
            if count >= max_members:
                archive.truncated = True
                break
            if not member.isreg():
                continue
            path = _relative(member.name)
            if path is None:
                continue
            # Keep one byte more than the engine accepts, so an oversized file is reported as too large
            # rather than as unreadable, without holding all of it.
            keep = min(member.size, MAX_FILE_BYTES + 1)
            if keep > budget:
                archive.truncated = True
                continue
            handle = tar.extractfile(member)
            if handle is None:
                continue
            archive.files[path] = handle.read(keep)
            budget -= keep
    return archive
