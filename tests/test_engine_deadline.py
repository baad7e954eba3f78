"""The review deadline in the engine: checked between rules and batches, it stops the review with the
findings so far and records where it stopped; in worker processes a file stuck in a rule is abandoned."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from align import engine
from align.context import ReviewContext
from align.deadline import Deadline
from align.findings import Finding, Severity
from align.rule_api import BaseRule
from tests.helpers import make_context

ROOT = Path(__file__).resolve().parents[1]
FILES = 3 * engine._BATCH + 5


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


CLOCK = _Clock()


class _EveryFile(BaseRule):
    """A file-local rule with one finding (and a suggestion) per file; each batch costs a second."""

    id = "every-file"
    default_severity = Severity.WARNING
    file_local = True
    batches: ClassVar[int] = 0

    def check(self, ctx: ReviewContext) -> Iterator[Finding]:
        CLOCK.now += 1.0
        type(self).batches += 1
        for source_file in ctx.files:
            yield self.finding(source_file, 1, "found", evidence=source_file.path, suggestion="fixed")


def _context() -> ReviewContext:
    return make_context({f"svc{i}/notes.md": f"line {i}\n" for i in range(FILES)})


def test_the_engine_stops_between_batches_once_the_deadline_passed_and_records_where() -> None:
    ctx = _context()
    _EveryFile.batches = 0
    CLOCK.now = 0.0
    deadline = Deadline(1.5, clock=CLOCK)
    findings = engine.run_rules(ctx, [_EveryFile()], workers=1, deadline=deadline)
    assert _EveryFile.batches == 2  # the third batch was never started
    assert deadline.stopped is not None
    assert (deadline.stopped.done, deadline.stopped.total) == (2 * engine._BATCH, FILES)
    assert deadline.stopped.describe() == f"stopped after 64 of {FILES} files: the review's 1.5 s deadline passed"
    assert len(findings) == 2 * engine._BATCH


def test_suggestions_are_dropped_rather_than_offered_unverified_after_the_deadline() -> None:
    ctx = _context()
    CLOCK.now = 0.0
    stopped = engine.run_rules(ctx, [_EveryFile()], workers=1, deadline=Deadline(1.5, clock=CLOCK))
    assert stopped and all(f.suggestion is None for f in stopped)
    CLOCK.now = 0.0
    complete = engine.run_rules(ctx, [_EveryFile()], workers=1, deadline=Deadline(1000, clock=CLOCK))
    assert len(complete) == FILES


def test_a_review_within_its_deadline_records_no_stop() -> None:
    deadline = Deadline(1000, clock=CLOCK)
    CLOCK.now = 0.0
    engine.run_rules(_context(), [_EveryFile()], workers=1, deadline=deadline)
    assert deadline.stopped is None


class _StuckOnOneFile(BaseRule):
    """Hangs on one file of the third batch, as a rule with catastrophic backtracking would."""

    id = "stuck"
    default_severity = Severity.WARNING
    file_local = True

    def check(self, ctx: ReviewContext) -> Iterator[Finding]:
        for source_file in ctx.files:
            if source_file.path == f"svc{2 * engine._BATCH + 3}/notes.md":
                time.sleep(3600)
            yield self.finding(source_file, 1, "found", evidence=source_file.path)


def stop_worker_processes_at_the_deadline() -> None:
    """Run in a fresh interpreter (the engine forks only when no other thread runs)."""
    ctx = _context()
    deadline = Deadline(3.0)
    findings = engine.run_rules(ctx, [_StuckOnOneFile()], workers=2, deadline=deadline, verify_suggestions=False)
    assert deadline.stopped is not None, "the deadline must have stopped the review"
    assert deadline.stopped.done == 2 * engine._BATCH, deadline.stopped
    assert len(findings) == 2 * engine._BATCH
    print("stopped", deadline.stopped.describe())


def test_worker_processes_stop_at_the_deadline_and_a_worker_stuck_in_a_file_is_terminated() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import tests.test_engine_deadline as t; t.stop_worker_processes_at_the_deadline()"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,  # a hung pool would hang here: the guard
    )
    assert done.returncode == 0, done.stderr
    assert "stopped after 64 of 101 files" in done.stdout
