"""A review's engine work in a process of its own (ALIGN_REVIEW_ISOLATION=process, the default).

Why: on a thread, pure-Python rule work shares the GIL with the web tier (embedded mode), and a rule stuck
in C code (a regular expression backtracking) can neither be interrupted nor let anything else run. In its
own process the engine competes only for a CPU, and once the deadline and its grace pass the process is
terminated: the worker is free whatever the engine does.

The process reads nothing from GitHub itself: every read goes back over a pipe to the worker, which answers
from its GitHubSource (one archive download, one token, one request budget per installation, as before).
Processes come from a fork server started once (a clean interpreter with the engine imported and its catalog
compiled), so starting one for each review costs a fork, not an interpreter start.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from multiprocessing.connection import Connection
from typing import Any

from align.deadline import Deadline
from align.findings import Waiver
from align.result import ReviewResult
from align.rule_api import LoadedRules
from align.service.review_deadline import DeadlineOverrun, grace
from align.source import FileChange, RepoSource

_SOURCE_CALLS = frozenset({"resolve", "changed_files", "read", "read_many", "list_files", "unlisted"})
_context_lock = threading.Lock()
_context: Any = None


class ReviewProcessError(Exception):
    """The review process failed or died; the message says how (the check run shows it)."""


def _fork_server() -> Any:
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["align.service.review_child"])
            _context = context
        return _context


def _start(process: Any) -> None:
    """Start a review process without it running the main module again: multiprocessing makes each child
    execute the parent's main script (as __mp_main__) when the main module has a file, which costs a review
    the import of whatever that script imports (0.5 s under a benchmark script). The child needs nothing
    from it: its target and arguments come from importable modules."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    with _context_lock:
        if path is not None:
            del main.__file__  # type: ignore[union-attr]
        try:
            process.start()
        finally:
            if path is not None:
                main.__file__ = path  # type: ignore[union-attr]


class _RemoteSource:
    """The child's RepoSource: each call is a request to the worker, answered from its real source."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def _call(self, name: str, *args: Any) -> Any:
        self._conn.send(("call", name, args))
        kind, value = self._conn.recv()
        if kind == "error":
            raise ReviewProcessError(value)
        return value

    def resolve(self, ref: str) -> str:
        return str(self._call("resolve", ref))

    def changed_files(self, base: str, head: str) -> list[FileChange]:
        return list(self._call("changed_files", base, head))

    def read(self, ref: str, path: str) -> bytes | None:
        value = self._call("read", ref, path)
        return value if value is None else bytes(value)

    def read_many(self, ref: str, paths: Iterable[str]) -> Mapping[str, bytes]:
        return dict(self._call("read_many", ref, list(paths)))

    def list_files(self, ref: str) -> list[str]:
        return list(self._call("list_files", ref))

    def unlisted(self, ref: str) -> str | None:
        """Why the files beyond the change were not listed, if the worker's source can say (GitHubSource)."""
        value = self._call("unlisted", ref)
        return None if value is None else str(value)


def _child(conn: Connection, job: dict[str, Any]) -> None:
    """The review process: review_change over the remote source; sends ("result", ReviewResult) or
    ("failed", message)."""
    from align.review import review_change

    seconds, left = job.pop("deadline"), job.pop("seconds_left")
    deadline = Deadline(seconds)
    deadline.started -= seconds - left  # the same deadline as the worker's, on this process's clock
    try:
        result = review_change(_RemoteSource(conn), deadline=deadline, **job)
    except BaseException as error:  # reported to the worker, which completes the check run with it
        conn.send(("failed", f"{type(error).__name__}: {error}"))
    else:
        conn.send(("result", result))
    finally:
        conn.close()


def review_in_process(
    source: RepoSource, base: str, head: str, *, waivers: Sequence[Waiver], changes: Sequence[FileChange],
    rules: LoadedRules, deadline: Deadline,
) -> ReviewResult:
    """review_change(...) in a fresh process, its reads served from `source` here. Raises DeadlineOverrun
    (the process terminated) once the deadline and its grace passed; errors of `source` here (GitHub's
    limits: RateLimitWait) stop the process and propagate."""
    context = _fork_server()
    mine, theirs = context.Pipe()
    job = {"base": base, "head": head, "waivers": tuple(waivers), "changes": tuple(changes), "rules": rules,
           "deadline": deadline.seconds, "seconds_left": max(deadline.remaining(), 0.0)}
    process = context.Process(target=_child, args=(theirs, job), name="align-review", daemon=True)
    _start(process)
    theirs.close()
    try:
        while True:
            if not mine.poll(max(deadline.remaining(), 0.0) + grace(deadline.seconds)):
                raise DeadlineOverrun(deadline.seconds, "the engine did not reach a point where it could stop")
            try:
                message = mine.recv()
            except EOFError:
                process.join(5)
                raise ReviewProcessError(f"the review process died (exit code {process.exitcode})") from None
            kind = message[0]
            if kind == "result":
                return message[1]
            if kind == "failed":
                raise ReviewProcessError(message[1])
            _, name, args = message
            if name not in _SOURCE_CALLS:
                raise ReviewProcessError(f"the review process asked for {name!r}")
            call = getattr(source, name, None)  # `unlisted` is optional: a source that cannot say answers None
            mine.send(("value", call(*args) if call is not None else None))
    finally:
        if process.is_alive():
            process.terminate()
        process.join(5)
        mine.close()
