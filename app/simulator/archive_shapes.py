"""Hostile archives for the simulated archive host, the tests and `bench/bench_archive.py`, made lazily:
an 8 GB gzip bomb or a 1.5 GB PAX header is a few MB of compressed chunks generated as they are read,
never held whole.

A long run of one block is compressed until deflate's output for it repeats, then that output is replayed:
the decompressor's window holds the same bytes either way, so the stream stays valid (the trailer's CRC
and size are computed over the whole logical content).
"""

from __future__ import annotations

import struct
import tarfile
import zlib
from collections.abc import Iterable, Iterator

MiB = 1024 * 1024
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03"  # deflate, no name, no mtime, max compression, Unix


def gzip_stream(pieces: Iterable[tuple[bytes, int]]) -> Iterator[bytes]:
    """The gzip of the concatenation of `block * count` for each (block, count), chunk by chunk."""
    yield _GZIP_HEADER
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    crc, size = 0, 0
    for block, count in pieces:
        previous: bytes | None = None
        replaying = False
        for _ in range(count):
            if not replaying:
                out = deflate.compress(block) + deflate.flush(zlib.Z_SYNC_FLUSH)
                replaying = out == previous
                previous = out
            crc = zlib.crc32(block, crc)
            size += len(block)
            yield out  # while replaying, the output last computed
    yield deflate.flush() + struct.pack("<II", crc, size & 0xFFFFFFFF)


def _padding(size: int) -> bytes:
    return bytes(-size % tarfile.BLOCKSIZE)


def _header(name: str, size: int, kind: bytes = tarfile.REGTYPE) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.type, info.mode = size, kind, 0o644
    return info.tobuf(format=tarfile.USTAR_FORMAT)


def _run(byte: bytes, total: int) -> list[tuple[bytes, int]]:
    """`total` copies of one byte as (1 MiB block, count) pieces."""
    whole, rest = divmod(total, MiB)
    return [(byte * MiB, whole), (byte * rest, 1)]


def gzip_bomb(unpacked: int = 8 * 1000**3, top: str = "acme-inference-0000000") -> Iterator[bytes]:
    """A GitHub-shaped archive whose one file is `unpacked` zero bytes (8 GB: about 8.5 MB compressed)."""
    size = unpacked - 3 * tarfile.BLOCKSIZE  # header, content and end marker come to `unpacked`
    end = _padding(size) + bytes(2 * tarfile.BLOCKSIZE)
    pieces = [(_header(f"{top}/data.bin", size), 1), *_run(b"\0", size), (end, 1)]
    return gzip_stream(pieces)


def pax_header_bomb(header_bytes: int = 1_500_000_000, top: str = "acme-inference-0000000") -> Iterator[bytes]:
    """A GitHub-shaped archive that opens with a PAX extended header of `header_bytes` (one huge `comment`
    record, as GitHub's archives carry the commit id in one), followed by one small file."""
    prefix = f"{header_bytes} comment=".encode()
    fill = header_bytes - len(prefix) - 1
    readme = b"# Inference\n"
    pieces = [
        (_header(f"{top}/pax_global_header", header_bytes, tarfile.XGLTYPE) + prefix, 1),
        *_run(b"x", fill),
        (b"\n" + _padding(header_bytes) + _header(f"{top}/README.md", len(readme)) + readme
         + _padding(len(readme)) + bytes(2 * tarfile.BLOCKSIZE), 1),
    ]
    return gzip_stream(pieces)
