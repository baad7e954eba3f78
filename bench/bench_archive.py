"""Reading hostile repository archives: peak memory, time and bytes decompressed, before and after streaming.

    python bench/bench_archive.py [--before-ref a177225] [--cases bomb,pax,normal] [--rounds 3]

Each measurement runs in a fresh Python process (peak RSS from ru_maxrss is per process), which reads one
archive with one reader:
- before: `app/service/tarball.py` as of `--before-ref` (the whole download in memory, then tarfile over it);
- after: the streaming reader of this tree (`read_archive` over the chunks, refused at the limits).
Cases, generated lazily by app/simulator/archive_shapes.py (nothing is held whole by the generator):
- bomb: an 8 GB file of zeros in 7.9 MB of gzip (issue 8, item 10);
- pax: an archive opening with a 1.5 GB PAX header in 1.5 MB of gzip;
- normal: a GitHub-shaped archive of 2,000 ordinary source files (about 20 MB unpacked), to check that
  streaming costs an ordinary review nothing (each child: a warm-up read, then the median of 9).
"idle" is a process that only imports the readers: its RSS is the floor every other figure includes.
Times are medians over --rounds, before and after interleaved (`before` of the hostile cases runs once: it
takes tens of seconds), reported as ratios against `before` in the same command, since the machine is shared and noisy.
The time includes generating the hostile stream as it is read (for the 8 GB bomb about 1.4 s of CRC32).
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import statistics
import subprocess
import sys
import tarfile
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from align.service import tarball  # noqa: E402
from align.simulator.archive_shapes import gzip_bomb, pax_header_bomb  # noqa: E402

CHUNK = 65536


def _normal() -> Iterator[bytes]:
    buffer = io.BytesIO()
    line = 'GPU_MODEL = "GH200"  # serving node {i}, replica {j}: see docs/deploy.md for the sizing\n'
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT,
                      pax_headers={"comment": "0" * 40}) as tar:
        for i in range(2000):
            data = "".join(line.format(i=i, j=j) for j in range(110)).encode()
            info = tarfile.TarInfo(f"acme-inference-0000000/svc/m{i:04d}.py")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    data = buffer.getvalue()
    return iter([data[i : i + CHUNK] for i in range(0, len(data), CHUNK)])


CASES = {"bomb": gzip_bomb, "pax": pax_header_bomb, "normal": _normal}


def _old_reader(ref: str) -> types.ModuleType:
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{ref}:app/service/tarball.py"],
                            check=True, capture_output=True, text=True).stdout
    module = types.ModuleType("tarball_before")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{ref}:app/service/tarball.py", "exec"), module.__dict__)
    return module


def _read_once(old: types.ModuleType | None, chunks: Iterator[bytes]) -> tuple[str, int | None]:
    stats = tarball.ReadStats()
    try:
        if old is not None:
            archive = old.read_archive(old.download(chunks, 200 * 1024 * 1024), 512 * 1024 * 1024)
        else:
            archive = tarball.read_archive(chunks, tarball.ArchiveLimits(), stats)
    except Exception as error:  # what the reader did with it is the result
        return f"{type(error).__name__}: {str(error)[:70]}", stats.unpacked if old is None else None
    return f"read {len(archive.files)} files", stats.unpacked if old is None else None


def child(reader: str, case: str, ref: str) -> dict[str, object]:
    if reader == "idle":
        return {"seconds": 0.0, "outcome": "-", "unpacked": 0, "maxrss_mb": _rss()}
    old = _old_reader(ref) if reader == "before" else None
    if case == "normal":  # a 70 ms read: one warm-up, then the median of 9 in this process
        made = list(CASES[case]())
        _read_once(old, iter(made))
        times = []
        for _ in range(9):
            start = time.perf_counter()
            outcome, unpacked = _read_once(old, iter(made))
            times.append(time.perf_counter() - start)
        seconds = statistics.median(times)
    else:
        start = time.perf_counter()
        outcome, unpacked = _read_once(old, CASES[case]())
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "outcome": outcome, "unpacked": unpacked, "maxrss_mb": _rss()}


def _rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def measure(reader: str, case: str, ref: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", reader, case, "--before-ref", ref],
                         check=True, capture_output=True, text=True).stdout
    return dict(json.loads(out.splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before-ref", default="a177225", help="commit whose tarball.py is the 'before' reader")
    parser.add_argument("--cases", default="bomb,pax,normal")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--child", nargs=2, metavar=("READER", "CASE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], args.before_ref)))
        return
    idle = measure("idle", "normal", args.before_ref)
    print(f"idle process: peak RSS {idle['maxrss_mb']:.0f} MB (included in every figure below)\n")
    print(f"{'case':<7} {'reader':<7} {'peak RSS':>10} {'time':>13} {'unpacked':>14}  outcome")
    for case in args.cases.split(","):
        runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
        for round_ in range(args.rounds):  # interleaved, so that a busy spell of the machine hits both
            for reader in ("before", "after") if round_ % 2 == 0 else ("after", "before"):
                if case != "normal" and reader == "before" and runs[reader]:
                    continue  # once is enough: it takes tens of seconds (and 4 GB for the PAX header)
                runs[reader].append(measure(reader, case, args.before_ref))
        summary: dict[str, tuple[float, float]] = {}
        for reader, results in runs.items():
            seconds = statistics.median(float(r["seconds"]) for r in results)
            rss = max(float(r["maxrss_mb"]) for r in results)
            summary[reader] = (seconds, rss)
            unpacked = results[-1]["unpacked"]
            shown = f"{unpacked:,}" if isinstance(unpacked, int) else "(not counted)"
            print(f"{case:<7} {reader:<7} {rss:>7.0f} MB {seconds * 1000:>10.1f} ms {shown:>14}  "
                  f"{results[-1]['outcome']}")
        (before_s, before_rss), (after_s, after_rss) = summary["before"], summary["after"]
        print(f"{case:<7} after/before: peak RSS x{after_rss / before_rss:.3f}, "
              f"time x{after_s / max(before_s, 1e-9):.3g}\n")

if __name__ == "__main__":
    main()
