"""Read a repository archive as a stream: regular files only, within limits, never written to disk.

The .tar.gz is decompressed as it arrives and read member by member (tarfile's stream mode), so memory
holds one download chunk, one tar block and the files kept, never the archive. Every limit is checked
before the bytes it is about are read: a member's or an extended header's size from its 512-byte header,
the compressed and unpacked totals as they grow. Anything over a limit, not gzip, or cut short raises
`ArchiveRefused`, and the caller reads the files it needs one by one instead.

Nothing in it is ever executed or extracted to the filesystem; links, devices and paths that try to
leave the tree are skipped.
"""

from __future__ import annotations

import tarfile
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from align.source import MAX_FILE_BYTES

MiB = 1024 * 1024
_EXTENDED = frozenset({tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE,
                       tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK})
_MAX_CHAINED = 8  # extended headers in a row before a member (tarfile recurses once per header)
_READ = 64 * 1024  # tarfile's read size over the decompressed stream


class ArchiveRefused(Exception):
    """The archive is over a limit, not a .tar.gz, or cut short: read the files one by one instead."""


@dataclass(frozen=True)
class ArchiveLimits:
    compressed: int = 200 * MiB  # bytes downloaded
    unpacked: int = 2048 * MiB  # the decompressed tar stream, skipped content included
    kept: int = 512 * MiB  # file contents held in memory
    headers: int = 200_000  # tar headers (a file with a long name has two)
    header_bytes: int = 1 * MiB  # one PAX or GNU long-name header (GitHub's hold a commit id or a path)
    file_bytes: int = MAX_FILE_BYTES + 1  # kept of one file: one byte more than the engine accepts, so an
    # oversized file is reported as too large rather than as unreadable
    seconds: float = 60.0  # a host that drips the archive slowly leaves time to read the files one by one


@dataclass
class Archive:
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class ReadStats:
    """What reading cost, for tests and benchmarks (the limits are asserted against these)."""

    compressed: int = 0
    unpacked: int = 0
    headers: int = 0


class _Inflater:
    """A file-like `read(n)` over gzip chunks that never returns more than `n` bytes and stops at the limits."""

    def __init__(self, chunks: Iterable[bytes], limits: ArchiveLimits, stats: ReadStats,
                 clock: Callable[[], float]) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._clock = clock
        self._deadline = clock() + limits.seconds
        self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip framing only
        self._pending = b""
        self._limits = limits
        self.stats = stats

    def read(self, size: int = _READ) -> bytes:
        size = size if size and size > 0 else _READ
        while not self._zlib.eof:
            if not self._pending:
                chunk = next(self._chunks, None)
                if chunk is None:
                    raise ArchiveRefused("the archive ends before its gzip stream does (truncated)")
                if self._clock() > self._deadline:
                    raise ArchiveRefused(f"the archive took more than {self._limits.seconds:g} s to arrive")
                self.stats.compressed += len(chunk)
                if self.stats.compressed > self._limits.compressed:
                    raise ArchiveRefused(f"archive larger than {self._limits.compressed} bytes compressed")
                self._pending = chunk
            try:
                out = self._zlib.decompress(self._pending, size)
            except zlib.error as error:
                raise ArchiveRefused(f"not a gzip archive ({error})") from None
            self._pending = self._zlib.unconsumed_tail
            if out:
                self.stats.unpacked += len(out)
                if self.stats.unpacked > self._limits.unpacked:
                    raise ArchiveRefused(f"archive unpacks to more than {self._limits.unpacked} bytes")
                return out
        return b""

    def drain(self) -> None:
        """Read to the end of the gzip stream: a cut-off or corrupt tail (its CRC) is refused, too."""
        while self.read():
            pass


def _bounded_tarinfo(limits: ArchiveLimits, stats: ReadStats) -> type[tarfile.TarInfo]:
    """A TarInfo class (one per archive: it counts) that checks each header before tarfile reads what
    follows it. tarfile reads a PAX or long-name header's whole body into memory at once, so a 1.5 GB one
    would be allocated; and it reads the next header's body recursively, once per chained header."""
    chained = [0]

    class BoundedTarInfo(tarfile.TarInfo):
        @classmethod
        def frombuf(cls, buf: bytes | bytearray, encoding: str, errors: str) -> Any:
            try:
                return super().frombuf(buf, encoding, errors)
            except tarfile.HeaderError as error:
                if len(buf) == tarfile.BLOCKSIZE and buf.count(0) == tarfile.BLOCKSIZE:
                    raise  # the end marker: the archive's regular end
                # tarfile would end the listing here as if the archive were complete
                if len(buf) < tarfile.BLOCKSIZE:
                    raise ArchiveRefused("the tar stream ends without its end marker (truncated)") from None
                raise ArchiveRefused(f"corrupt tar header ({error})") from None

        # `_proc_member` is tarfile's documented extension point for subclasses (see its comment).
        def _proc_member(self, tar: tarfile.TarFile) -> Any:
            stats.headers += 1
            if stats.headers > limits.headers:
                raise ArchiveRefused(f"archive has more than {limits.headers} entries")
            if self.type in _EXTENDED:
                chained[0] += 1
                if self.size > limits.header_bytes:
                    raise ArchiveRefused(f"an extended tar header of {self.size} bytes (limit {limits.header_bytes})")
                if chained[0] > _MAX_CHAINED:
                    raise ArchiveRefused(f"more than {_MAX_CHAINED} extended tar headers in a row")
            else:
                chained[0] = 0
            return super()._proc_member(tar)  # type: ignore[misc]

    return BoundedTarInfo


def _relative(name: str) -> str | None:
    """GitHub archives put everything under one `<owner>-<repo>-<sha>/` folder: strip it."""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if len(parts) < 2 or ".." in parts:
        return None
    return "/".join(parts[1:])


def read_archive(chunks: Iterable[bytes], limits: ArchiveLimits | None = None,
                 stats: ReadStats | None = None, clock: Callable[[], float] = time.monotonic) -> Archive:
    """The regular files of a .tar.gz arriving as `chunks`; raises ArchiveRefused (see the module doc)."""
    limits = limits or ArchiveLimits()
    stats = stats if stats is not None else ReadStats()
    inflater = _Inflater(chunks, limits, stats, clock)
    archive = Archive()
    kept = 0
    try:
        with tarfile.open(fileobj=inflater, mode="r|", bufsize=_READ,  # type: ignore[call-overload]
                          tarinfo=_bounded_tarinfo(limits, stats)) as tar:
            for member in tar:
                # Sizes come from the header, before any content is read or skipped over.
                if member.size > limits.unpacked - stats.unpacked:
                    raise ArchiveRefused(f"{member.name!r} claims {member.size} bytes, more than the archive "
                                         f"may unpack ({limits.unpacked})")
                if not member.isreg() or member.issparse():
                    continue
                path = _relative(member.name)
                if path is None:
                    continue
                keep = min(member.size, limits.file_bytes)
                kept += keep
                if kept > limits.kept:
                    raise ArchiveRefused(f"archive holds more than {limits.kept} bytes of files")
                handle = tar.extractfile(member)
                if handle is not None:
                    archive.files[path] = handle.read(keep)
            inflater.drain()
    except tarfile.TarError as error:
        raise ArchiveRefused(f"not a tar archive ({error})") from None
    except EOFError:
        raise ArchiveRefused("the archive ends inside a file (truncated)") from None
    return archive
