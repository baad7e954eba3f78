"""The embedded queue's durable store: every accepted job is written to SQLite before the webhook answers,
so that `align serve` killed (SIGKILL, OOM, a power cut) and started again resumes them.

One row per job: waiting (with the time it may run: GitHub's limits may make it wait) or running (with the
time it began). A restart takes both back: a running one left its check run in progress, and running it
again completes that run (the job finds it by its external id); one that began more than the review
deadline ago is told so and completes its run without reviewing again (see review_deadline).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from align.service.jobs import Job

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    payload TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('waiting', 'running')),
    not_before REAL NOT NULL DEFAULT 0,
    began_at REAL
)
"""


class JobStoreError(Exception):
    """The store cannot be opened (the path is not writable, the file is not a database)."""


@dataclass(frozen=True)
class StoredJob:
    id: int
    job: Job
    state: str
    not_before: float
    began_at: float | None


class JobStore:
    """Thread-safe (the queue writes from the event loop, tests read from others). Each write is one
    transaction: WAL with synchronous=NORMAL survives a killed process (not every power cut: FULL would)."""

    def __init__(self, path: Path | str, clock: Callable[[], float] = time.time) -> None:
        self.path = str(path)
        self.clock = clock
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as error:
            raise JobStoreError(f"cannot open the job store {self.path}: {error}") from None
        self._lock = threading.Lock()

    def add(self, job: Job, not_before: float = 0.0) -> int:
        with self._lock:
            cursor = self._db.execute("INSERT INTO jobs (payload, state, not_before) VALUES (?, 'waiting', ?)",
                                      (job.to_json(), not_before))
            return int(cursor.lastrowid or 0)

    def began(self, row: int) -> None:
        with self._lock:
            self._db.execute("UPDATE jobs SET state = 'running', began_at = ? WHERE id = ?", (self.clock(), row))

    def wait(self, row: int, until: float) -> None:
        """Back to waiting until `until` (GitHub's limits); the deadline counts afresh when it runs again."""
        with self._lock:
            self._db.execute("UPDATE jobs SET state = 'waiting', not_before = ?, began_at = NULL WHERE id = ?",
                             (until, row))

    def remove(self, rows: list[int]) -> None:
        if not rows:
            return
        with self._lock:
            self._db.executemany("DELETE FROM jobs WHERE id = ?", [(row,) for row in rows])

    def all(self) -> list[StoredJob]:
        """Every job kept, in the order it was accepted. A row that no longer parses is dropped (logged by
        the caller through its count): it can never run."""
        with self._lock:
            rows = self._db.execute("SELECT id, payload, state, not_before, began_at FROM jobs ORDER BY id").fetchall()
        kept: list[StoredJob] = []
        broken: list[int] = []
        for row, payload, state, not_before, began_at in rows:
            try:
                kept.append(StoredJob(int(row), Job.from_json(payload), str(state), float(not_before),
                                      None if began_at is None else float(began_at)))
            except (TypeError, ValueError):
                broken.append(int(row))
        self.remove(broken)
        return kept

    def close(self) -> None:
        with self._lock:
            self._db.close()
