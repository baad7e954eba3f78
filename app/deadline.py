"""A review's deadline, checked cooperatively by the engine between files and batches.

The engine knows nothing of services: it asks `expired()` where stopping is safe (between batches of
files, before verifying suggestions) and records how far it got with `stop()`. Whoever set the deadline
(the service worker) turns that into the check run's "stopped after N of M files" line.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Stop:
    """Where a review stopped: `done` of `total` files had their rules run."""

    done: int
    total: int
    seconds: float

    def describe(self) -> str:
        return (f"stopped after {self.done:,} of {self.total:,} files: the review's {self.seconds:g} s "
                "deadline passed")


@dataclass
class Deadline:
    """`seconds` from creation (monotonic clock: a forked engine worker shares it with its parent)."""

    seconds: float
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=-1.0)
    stopped: Stop | None = None

    def __post_init__(self) -> None:
        if self.started < 0:
            self.started = self.clock()

    def remaining(self) -> float:
        return self.seconds - (self.clock() - self.started)

    def expired(self) -> bool:
        return self.remaining() <= 0

    def stop(self, done: int, total: int) -> None:
        """Record the first place the review stopped (later checks of an expired deadline keep it)."""
        if self.stopped is None:
            self.stopped = Stop(done, total, self.seconds)


def expired(deadline: Deadline | None) -> bool:
    return deadline is not None and deadline.expired()
