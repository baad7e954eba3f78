"""Where the CLI's reports go: `--format NAME[=FILE]` (repeatable), `--output FILE`, the default format
for the environment, writing without tracebacks, and a progress line for long runs on a terminal."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TextIO

REPORT_FORMATS = ("text", "json", "markdown", "sarif", "github", "junit")


class OutputError(Exception):
    """A report that cannot go where it was asked to: a usage error (exit 2)."""


@dataclass(frozen=True)
class OutputSpec:
    fmt: str
    path: Path | None  # None: standard output


def default_format(environ: Mapping[str, str]) -> str:
    """`github` (workflow commands: annotations on the pull request) inside GitHub Actions, where standard
    output is the job log; `text` everywhere else."""
    return "github" if environ.get("GITHUB_ACTIONS") == "true" else "text"


def parse_outputs(values: Sequence[str] | None, output: Path | None, environ: Mapping[str, str]) -> list[OutputSpec]:
    """`--format json --format sarif=align.sarif`: each NAME[=FILE]; `--output FILE` takes the first format
    without a file of its own. At most one report goes to standard output."""
    specs: list[OutputSpec] = []
    for value in values or [default_format(environ)]:
        name, sep, file = value.partition("=")
        name = name.strip().lower()
        if name not in REPORT_FORMATS:
            raise OutputError(f"unknown format {name!r}; choose from {', '.join(REPORT_FORMATS)}")
        if sep and not file:
            raise OutputError(f"--format {name}= needs a file name after '='")
        specs.append(OutputSpec(name, Path(file) if file else None))
    if output is not None:
        index = next((i for i, spec in enumerate(specs) if spec.path is None), None)
        if index is None:
            raise OutputError("--output has no format to take: every --format names its own file")
        specs[index] = OutputSpec(specs[index].fmt, output)
    to_stdout = [spec.fmt for spec in specs if spec.path is None]
    if len(to_stdout) > 1:
        raise OutputError(f"only one report can go to standard output, not {' and '.join(to_stdout)}; "
                          "give the others a file: --format NAME=FILE")
    for spec in specs:
        if spec.path is not None and not spec.path.parent.is_dir():
            raise OutputError(f"cannot write {spec.path}: directory {spec.path.parent} does not exist")
    return specs


class Writer:
    """Writes reports. A closed pipe (`align catalog | head -1`) ends the output quietly: later writes to
    standard output are dropped and the command keeps its exit status."""

    def __init__(self, stdout: TextIO | None = None) -> None:
        self.stdout = stdout or sys.stdout
        self.pipe_closed = False

    def write(self, text: str, path: Path | None = None) -> None:
        text = text if text.endswith("\n") else text + "\n"
        if path is not None:
            try:
                path.write_text(text, encoding="utf-8")
            except OSError as error:
                raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
            return
        if self.pipe_closed:
            return
        try:
            self.stdout.write(text)
            self.stdout.flush()
        except BrokenPipeError:
            self.close_pipe()

    def close_pipe(self) -> None:
        """Point standard output at /dev/null so that the interpreter's final flush does not fail too."""
        self.pipe_closed = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass


class Progress:
    """"align: reviewing… 3s" on standard error, only on a terminal and only once a run has taken a second;
    erased when the run ends. Driven by a SIGALRM interval timer, not a thread: a thread would keep the
    engine from forking worker processes (it runs in one process whenever other threads exist)."""

    def __init__(self, stream: TextIO, label: str, *, enabled: bool | None = None, delay: float = 1.0) -> None:
        self.stream = stream
        self.label = label
        self.delay = delay
        self.started = time.monotonic()
        self.shown = False
        tty = bool(getattr(stream, "isatty", lambda: False)())
        self.enabled = (tty and _can_alarm()) if enabled is None else enabled
        self._previous: object = None

    def __enter__(self) -> Progress:
        if self.enabled and _can_alarm():
            self._previous = signal.signal(signal.SIGALRM, self._on_alarm)
            signal.setitimer(signal.ITIMER_REAL, self.delay, 0.5)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled and _can_alarm():
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous if callable(self._previous) else signal.SIG_DFL)
        self.clear()

    def _on_alarm(self, _signum: int, _frame: FrameType | None) -> None:
        self.tick()

    def tick(self, now: float | None = None) -> None:
        elapsed = (time.monotonic() if now is None else now) - self.started
        if elapsed < self.delay:
            return
        try:
            self.stream.write(f"\r\x1b[2Kalign: {self.label}… {elapsed:.0f}s")
            self.stream.flush()
            self.shown = True
        except (OSError, ValueError):
            pass

    def clear(self) -> None:
        if self.shown:
            try:
                self.stream.write("\r\x1b[2K")
                self.stream.flush()
            except (OSError, ValueError):
                pass
            self.shown = False


def _can_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
