"""The archive is read as a stream and refused at its limits, from sizes in headers before contents: what a
refusal costs is counted (compressed bytes pulled, bytes decompressed, memory allocated), not timed."""

from __future__ import annotations

import gzip
import io
import random
import tarfile
import tracemalloc
from collections.abc import Iterable, Iterator

import pytest

from align.service.tarball import ArchiveLimits, ArchiveRefused, ReadStats, read_archive
from align.simulator.archive_shapes import MiB, gzip_bomb, gzip_stream, pax_header_bomb

TOP = "acme-inference-0000000"


class Pulled:
    """Chunks handed out, counted: what the reader asked the network for."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self.bytes = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self.bytes += len(chunk)
            yield chunk


def _tar_gz(entries: list[tuple[str, bytes]], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=fmt, pax_headers={"comment": "0" * 40}) as tar:
        for name, content in entries:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def test_gzip_bomb_is_refused_from_its_header_after_reading_a_few_kilobytes() -> None:
    stats = ReadStats()
    pulled = Pulled(gzip_bomb(8 * 1000**3))  # 8 GB of zeros in about 8 MB
    with pytest.raises(ArchiveRefused, match="claims 7999998464 bytes"):
        read_archive(pulled, ArchiveLimits(), stats)
    assert pulled.bytes < 64 * 1024 and stats.compressed == pulled.bytes
    assert stats.unpacked <= 64 * 1024  # one read of the decompressed stream, not the file


def test_bomb_spread_over_files_stops_at_the_unpacked_limit() -> None:
    """Each file is below the limit on its own: the sizes read so far, or the bytes decompressed, stop it."""
    limit = 40 * MiB
    member = 8 * MiB
    header = tarfile.TarInfo(f"{TOP}/zeros.bin")
    header.size = member
    pieces = [(header.tobuf(format=tarfile.USTAR_FORMAT), 1), (b"\0" * MiB, 8)] * 20  # 160 MB in all
    stats = ReadStats()
    pulled = Pulled(gzip_stream(pieces))
    with pytest.raises(ArchiveRefused, match=rf"unpack.*{limit}"):
        read_archive(pulled, ArchiveLimits(unpacked=limit), stats)
    assert limit - member < stats.unpacked <= limit + 64 * 1024
    assert stats.compressed < 64 * 1024  # the rest of the bomb was never downloaded


def test_huge_pax_header_is_refused_without_being_allocated() -> None:
    stats = ReadStats()
    pulled = Pulled(pax_header_bomb(1_500_000_000))
    tracemalloc.start()
    try:
        with pytest.raises(ArchiveRefused, match="extended tar header of 1500000000 bytes"):
            read_archive(pulled, ArchiveLimits(), stats)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MiB
    assert pulled.bytes < 64 * 1024 and stats.unpacked <= 64 * 1024


def test_pax_headers_within_the_limit_are_read_and_long_paths_kept() -> None:
    path = "deep/" * 60 + "config.py"  # over ustar's 100 characters: a PAX `path` record
    archive = read_archive([_tar_gz([(f"{TOP}/{path}", b"x = 1\n")])], ArchiveLimits(header_bytes=1024))
    assert archive.files == {path: b"x = 1\n"}


def test_gnu_long_name_over_the_header_limit_is_refused() -> None:
    data = _tar_gz([(f"{TOP}/" + "n" * 3000, b"x")], fmt=tarfile.GNU_FORMAT)
    assert len(read_archive([data]).files) == 1
    with pytest.raises(ArchiveRefused, match="extended tar header of 3024 bytes"):
        read_archive([data], ArchiveLimits(header_bytes=2048))


def test_chained_extended_headers_are_refused_before_tarfile_recurses_deeply() -> None:
    record = b"20 comment=abcdefgh\n"
    info = tarfile.TarInfo(f"{TOP}/x")
    info.type, info.size = tarfile.XHDTYPE, len(record)
    block = info.tobuf(format=tarfile.USTAR_FORMAT) + record + bytes(512 - len(record))
    data = gzip.compress(block * 5000 + bytes(1024))
    with pytest.raises(ArchiveRefused, match="extended tar headers in a row"):
        read_archive([data])


def test_too_many_entries_are_refused() -> None:
    data = _tar_gz([(f"{TOP}/f{i}", b"") for i in range(50)], fmt=tarfile.USTAR_FORMAT)
    assert len(read_archive([data], ArchiveLimits(headers=50)).files) == 50
    with pytest.raises(ArchiveRefused, match="more than 49 entries"):
        read_archive([data], ArchiveLimits(headers=49))


def test_a_corrupt_header_midway_is_refused_not_taken_for_the_end() -> None:
    """tarfile ends its listing quietly at a bad header after the first: files would go missing."""
    raw = bytearray(gzip.decompress(_tar_gz([(f"{TOP}/a", b"a"), (f"{TOP}/b", b"b")], fmt=tarfile.USTAR_FORMAT)))
    raw[1024 + 148] ^= 0x01  # the second header's checksum
    with pytest.raises(ArchiveRefused, match="corrupt tar header"):
        read_archive([gzip.compress(bytes(raw))])


@pytest.mark.parametrize("cut", ["half", "trailer", "tar-end"])
def test_a_cut_off_archive_is_refused(cut: str) -> None:
    data = _tar_gz([(f"{TOP}/a.txt", b"a" * 5000)])
    if cut == "half":
        body = data[: len(data) // 2]
    elif cut == "trailer":  # every file is there, only the gzip CRC and size are missing
        body = data[:-8]
    else:  # a complete gzip of a tar stream without its end
        body = gzip.compress(gzip.decompress(data)[:1536])
    with pytest.raises(ArchiveRefused, match=r"truncated|ends inside|unexpected end"):
        read_archive([body])


@pytest.mark.parametrize("garbage", [b"<html><body>Access denied</body></html>", bytes(range(256)) * 40, b""])
def test_garbage_is_refused(garbage: bytes) -> None:
    with pytest.raises(ArchiveRefused):
        read_archive([garbage])


def test_mutated_archives_are_read_or_refused_never_crash_the_reader() -> None:
    """Random byte flips and cuts in the compressed and in the tar bytes (seeded): ArchiveRefused or a read
    within the limits, nothing else."""
    rng = random.Random(8)
    entries = [(f"{TOP}/" + "d/" * 70 + f"f{i}.py", f"x = {i}\n".encode() * 50) for i in range(5)]
    data = _tar_gz(entries)
    raw = gzip.decompress(data)
    limits = ArchiveLimits(unpacked=4 * MiB, kept=MiB, header_bytes=64 * 1024)
    outcomes = {"read": 0, "refused": 0}
    for case in range(400):
        source = bytearray(raw if case % 2 else data)
        for _ in range(rng.randint(1, 4)):
            source[rng.randrange(len(source))] = rng.randrange(256)
        if case % 5 == 0:
            del source[rng.randrange(len(source)):]
        body = gzip.compress(bytes(source)) if case % 2 else bytes(source)
        stats = ReadStats()
        try:
            archive = read_archive([body], limits, stats)
        except ArchiveRefused:
            outcomes["refused"] += 1
        else:
            outcomes["read"] += 1
            assert sum(map(len, archive.files.values())) <= limits.kept
        assert stats.unpacked <= limits.unpacked + 64 * 1024
    assert outcomes["read"] and outcomes["refused"]  # both kinds of mutation were met


def test_an_archive_arriving_too_slowly_is_refused() -> None:
    """Every chunk arrives within the socket timeout, but the whole would take longer than reading the files
    one by one (a virtual clock: ten seconds pass per chunk)."""
    now = [0.0]

    def slow(data: bytes) -> Iterator[bytes]:
        for start in range(0, len(data), 100):
            now[0] += 10
            yield data[start : start + 100]

    data = _tar_gz([(f"{TOP}/a.bin", random.Random(1).randbytes(2000))])  # over 20 chunks: over 200 s
    limits = ArchiveLimits(seconds=1000)
    assert read_archive(slow(data), limits, clock=lambda: now[0]).files
    with pytest.raises(ArchiveRefused, match="more than 60 s to arrive"):
        read_archive(slow(data), ArchiveLimits(seconds=60), clock=lambda: now[0])
