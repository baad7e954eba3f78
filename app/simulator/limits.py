"""GitHub's rate limits: the primary hourly budget per caller, and (when enabled) the secondary limits on
concurrency, points per minute and content creation."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field

WINDOW = 3600.0


@dataclass
class Budget:
    limit: int
    used: int = 0
    reset_at: float = 0.0

    def roll(self, now: float) -> None:
        if now >= self.reset_at:
            self.used = 0
            self.reset_at = now + WINDOW

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(math.ceil(self.reset_at)),
            "x-ratelimit-used": str(self.used),
            "x-ratelimit-resource": "core",
        }


@dataclass
class PrimaryLimits:
    """One hourly budget per bucket ("installation:<id>", "app:<id>", "anonymous")."""

    installation_limit: int = 5_000
    app_limit: int = 5_000
    anonymous_limit: int = 60
    _budgets: dict[str, Budget] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _default(self, bucket: str) -> int:
        if bucket.startswith("installation:"):
            return self.installation_limit
        return self.app_limit if bucket.startswith("app:") else self.anonymous_limit

    def budget(self, bucket: str, now: float | None = None) -> Budget:
        now = time.time() if now is None else now
        with self._lock:
            budget = self._budgets.setdefault(bucket, Budget(self._default(bucket)))
            budget.roll(now)
            return budget

    def spend(self, bucket: str) -> bool:
        """Count one request; False when the budget was already empty."""
        budget = self.budget(bucket)
        with self._lock:
            if budget.remaining <= 0:
                return False
            budget.used += 1
            return True

    def set(self, bucket: str, *, limit: int | None = None, remaining: int | None = None) -> None:
        budget = self.budget(bucket)
        with self._lock:
            if limit is not None:
                budget.limit = limit
            if remaining is not None:
                budget.used = max(0, budget.limit - remaining)


@dataclass
class SecondaryLimits:
    """GitHub's secondary limits, enforced only when `enabled` (tests opt in)."""

    enabled: bool = False
    max_concurrent: int = 100
    points_per_minute: int = 900
    content_per_minute: int = 80
    content_per_hour: int = 500
    # Window lengths: GitHub's minute and hour; tests and benchmarks shrink them to replay an hour in seconds.
    minute_seconds: float = 60.0
    hour_seconds: float = WINDOW
    _inflight: dict[str, int] = field(default_factory=dict)
    _points: dict[str, deque[tuple[float, int]]] = field(default_factory=dict)
    _content: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, enabled: bool, **limits: float) -> None:
        defaults = SecondaryLimits()
        with self._lock:
            for name in ("max_concurrent", "points_per_minute", "content_per_minute", "content_per_hour",
                         "minute_seconds", "hour_seconds"):
                setattr(self, name, limits.pop(name, getattr(defaults, name)))
            if limits:
                raise TypeError(f"unknown limits: {sorted(limits)}")
            self.enabled = enabled
            self._points.clear()
            self._content.clear()

    def enter(self, bucket: str, method: str, creates_content: bool) -> int | None:
        """Admit a request; returns seconds to wait (the retry-after) when a limit is exceeded.

        An admitted request is counted as in flight until `leave`, which the caller owes only when the
        limits were enabled and the request was admitted.
        """
        if not self.enabled:
            return None
        now = time.time()
        with self._lock:
            if self._inflight.get(bucket, 0) >= self.max_concurrent:
                return 60
            minute, hour = self.minute_seconds, self.hour_seconds
            points = self._points.setdefault(bucket, deque())
            while points and points[0][0] <= now - minute:
                points.popleft()
            cost = 1 if method in ("GET", "HEAD") else 5
            if sum(p for _, p in points) + cost > self.points_per_minute:
                return max(1, math.ceil(points[0][0] + minute - now))
            if creates_content:
                content = self._content.setdefault(bucket, deque())
                while content and content[0] <= now - hour:
                    content.popleft()
                last_minute = [t for t in content if t > now - minute]
                if len(last_minute) >= self.content_per_minute:
                    return max(1, math.ceil(last_minute[0] + minute - now))
                if len(content) >= self.content_per_hour:
                    return max(1, math.ceil(content[0] + hour - now))
                content.append(now)
            points.append((now, cost))
            self._inflight[bucket] = self._inflight.get(bucket, 0) + 1
            return None

    def leave(self, bucket: str) -> None:
        with self._lock:
            self._inflight[bucket] = max(0, self._inflight.get(bucket, 0) - 1)
