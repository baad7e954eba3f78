"""The review deadline on the service side: the engine stops cooperatively (align.deadline); this module frees
the worker even when it cannot (one file stuck in a rule), and tells a retried job that an earlier try of
it already spent the deadline.

A review that overruns its deadline by the grace period is abandoned: it runs on in a daemon thread until
its next cooperative check (it only reads; every GitHub write stays with the worker), while the worker
completes the check run and moves on.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from align.deadline import Deadline

_Result = TypeVar("_Result")

# Extra time an overrunning review gets to reach its next cooperative check (a batch of files).
GRACE_FRACTION = 0.25
MIN_GRACE = 5.0
MAX_GRACE = 10.0

EARLIER_TRY_KEY = "began_at"  # Job.extra: epoch at which the first try of a retried job began


class DeadlineOverrun(Exception):
    """The review did not return within its deadline and grace: it was abandoned."""

    def __init__(self, seconds: float, why: str) -> None:
        self.summary = f"the review's {seconds:g} s deadline passed and {why}"
        super().__init__(f"stopped before any file was finished: {self.summary}")
        self.seconds = seconds


def grace(seconds: float) -> float:
    return min(MAX_GRACE, max(MIN_GRACE, seconds * GRACE_FRACTION))


def run_within(deadline: Deadline, work: Callable[[], _Result]) -> _Result:
    """`work()` in its own daemon thread; its result, or DeadlineOverrun once deadline + grace passed."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["result"] = work()
        except BaseException as error:  # handed to the waiting worker, which reports it
            outcome["error"] = error

    thread = threading.Thread(target=target, name="align-review", daemon=True)
    thread.start()
    thread.join(max(deadline.remaining(), 0.0) + grace(deadline.seconds))
    if thread.is_alive():
        raise DeadlineOverrun(deadline.seconds, "the engine did not reach a point where it could stop")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["result"]  # type: ignore[return-value]


def review_deadline(extra: dict[str, str], seconds: float, now: Callable[[], float] = time.time) -> Deadline:
    """The deadline of this try: what is left of `seconds` since the first try of the job began (a retry after
    its worker died does not start the clock again), else all of it."""
    elapsed = 0.0
    with contextlib.suppress(ValueError):  # unreadable: the whole deadline
        elapsed = max(now() - float(extra[EARLIER_TRY_KEY]), 0.0) if EARLIER_TRY_KEY in extra else 0.0
    deadline = Deadline(seconds)
    deadline.started -= elapsed
    return deadline


def spent_by_earlier_try(extra: dict[str, str], seconds: float, now: Callable[[], float] = time.time) -> bool:
    """A retried job whose first try began more than the deadline ago (its worker died or stopped
    answering while reviewing): running it again would hand the same input to the next worker."""
    began = extra.get(EARLIER_TRY_KEY)
    try:
        return began is not None and now() - float(began) > seconds
    except ValueError:
        return False
