"""A request budget per installation that keeps every worker under GitHub's secondary rate limits.

GitHub counts secondary limits per installation, whichever process sends the request: at most 900 points a
minute per endpoint class (a GET costs 1, a write 5) and at most 80 content-creating requests a minute
(500 an hour). The budget is a set of sliding windows per installation; `acquire` blocks until one more
request fits in all of them. `pause_until` records GitHub's own "stop" (403/429 with retry-after) so that
every process holding the same budget waits, not only the one that was refused.

`LocalRequestBudget` serves one process (the embedded queue); `RedisRequestBudget` shares the windows
between all workers through one atomic Lua script, using the Redis clock so hosts need not agree on time.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import redis

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITE_POINTS = 5


class BudgetExhausted(Exception):
    """The next slot is further away than the caller may wait: fail the call instead of holding a worker.
    `until`: the epoch at which the slot opens (the review waits for it off the worker: see worker.py)."""

    def __init__(self, message: str, until: float) -> None:
        super().__init__(message)
        self.until = until


class BudgetUnavailable(Exception):
    """The shared budget cannot be read (Redis down): the job fails and is retried later."""


@dataclass(frozen=True)
class RequestCost:
    """What one request takes from the budget."""

    points: int = 1
    creates_content: bool = False
    endpoint: str = "rest"  # endpoint class with its own points window: "rest" or "graphql"

    @classmethod
    def of(cls, method: str, path: str = "") -> RequestCost:
        """The cost of a REST call. POSTs create content (comments, reviews, check runs, reactions), except
        the token exchange and GraphQL queries; every non-read costs 5 points."""
        verb = method.upper()
        endpoint = "graphql" if path.rstrip("/").endswith("/graphql") or path == "graphql" else "rest"
        if verb in READ_METHODS:
            return cls(1, False, endpoint)
        creates = verb == "POST" and endpoint == "rest" and not path.rstrip("/").endswith("/access_tokens")
        return cls(WRITE_POINTS, creates, endpoint)


@dataclass(frozen=True)
class Limit:
    """At most `capacity` units in any `window_seconds`; units are points or content-creating requests."""

    name: str
    window_seconds: float
    capacity: int
    counts: Literal["points", "content"]

    def weight(self, cost: RequestCost) -> int:
        if self.counts == "points":
            return cost.points
        return 1 if cost.creates_content else 0

    def bucket(self, cost: RequestCost) -> str:
        """Points are counted per endpoint class; content-creating requests across all of them."""
        return f"{self.name}:{cost.endpoint}" if self.counts == "points" else self.name


GITHUB_SECONDARY_LIMITS: tuple[Limit, ...] = (
    Limit("points", 60.0, 900, "points"),
    Limit("content", 60.0, 80, "content"),
    Limit("content-hour", 3600.0, 500, "content"),
)


class RequestBudget(Protocol):
    def acquire(self, installation_id: int, cost: RequestCost) -> float:
        """Block until the request fits every window, then count it. Returns the seconds waited.
        Raises BudgetExhausted when the wait would exceed the budget's max_wait."""
        ...

    def pause_until(self, installation_id: int, ts: float) -> None:
        """No request for this installation before epoch `ts` (from GitHub's retry-after). Never shortens."""
        ...

    def refund(self, installation_id: int, cost: RequestCost) -> None:
        """Give back the newest slot of this cost: GitHub refused the request for its limits, so it did not
        count there (kept, each refusal would leave a slot spent for a window's length)."""
        ...


def pause_deadline(status: int, headers: Mapping[str, Any], now: float, attempt: int = 0) -> float | None:
    """When GitHub refused a request for rate limiting, the epoch before which nothing may be sent.

    retry-after wins; else the primary reset when nothing remains; else a secondary limit without a hint
    (429, or 403 with remaining quota): at least a minute, doubling per attempt. None when not a limit."""
    if status not in (403, 429):
        return None
    lowered = {k.lower(): str(v) for k, v in headers.items()}
    if "retry-after" in lowered:
        try:
            return now + max(float(lowered["retry-after"]), 0.0)
        except ValueError:
            return now + 60.0
    if lowered.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in lowered:
        try:
            return max(float(lowered["x-ratelimit-reset"]), now) + 1.0
        except ValueError:
            return now + 60.0
    if status == 429:
        return now + 60.0 * 2**attempt
    return None


def _check_cost(limits: Sequence[Limit], cost: RequestCost) -> None:
    for limit in limits:
        if limit.weight(cost) > limit.capacity:
            raise ValueError(f"a request costing {limit.weight(cost)} can never fit {limit.name} ({limit.capacity})")


class _Waiter:
    """The blocking loop shared by both budgets: ask for admission, sleep for the answer, give up past max_wait."""

    def __init__(self, max_wait: float, sleep: Callable[[float], None], clock: Callable[[], float] = time.time) -> None:
        self.max_wait = max_wait
        self.sleep = sleep
        self.clock = clock

    def run(self, try_once: Callable[[], float]) -> float:
        waited = 0.0
        while True:
            wait = try_once()
            if wait <= 0:
                return waited
            if waited + wait > self.max_wait:
                raise BudgetExhausted(f"the next request slot is {wait:.1f} s away (max wait {self.max_wait:.0f} s)",
                                      self.clock() + wait)
            self.sleep(wait)
            waited += wait


class LocalRequestBudget:
    """The budget of one process (embedded mode). Thread-safe."""

    def __init__(
        self,
        limits: Sequence[Limit] = GITHUB_SECONDARY_LIMITS,
        *,
        max_wait: float = 900.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limits = tuple(limits)
        self.clock = clock
        self._waiter = _Waiter(max_wait, sleep, clock)
        self._lock = threading.Lock()
        self._windows: dict[tuple[int, str], deque[tuple[float, int]]] = {}
        self._paused: dict[int, float] = {}

    def acquire(self, installation_id: int, cost: RequestCost) -> float:
        _check_cost(self.limits, cost)
        return self._waiter.run(lambda: self._try(installation_id, cost))

    def pause_until(self, installation_id: int, ts: float) -> None:
        with self._lock:
            self._paused[installation_id] = max(ts, self._paused.get(installation_id, 0.0))

    def refund(self, installation_id: int, cost: RequestCost) -> None:
        with self._lock:
            for limit in self.limits:
                weight = limit.weight(cost)
                window = self._windows.get((installation_id, limit.bucket(cost)))
                if not weight or not window:
                    continue
                for index in range(len(window) - 1, -1, -1):  # the newest entry of that weight
                    if window[index][1] == weight:
                        del window[index]
                        break

    def _try(self, installation_id: int, cost: RequestCost) -> float:
        with self._lock:
            now = self.clock()
            wait = self._paused.get(installation_id, 0.0) - now
            charged: list[tuple[deque[tuple[float, int]], int]] = []
            for limit in self.limits:
                weight = limit.weight(cost)
                if weight == 0:
                    continue
                window = self._windows.setdefault((installation_id, limit.bucket(cost)), deque())
                while window and window[0][0] <= now - limit.window_seconds:
                    window.popleft()
                wait = max(wait, _wait_to_fit(window, weight, limit, now))
                charged.append((window, weight))
            if wait > 0:
                return wait
            for window, weight in charged:
                window.append((now, weight))
            return 0.0


def _wait_to_fit(window: deque[tuple[float, int]], weight: int, limit: Limit, now: float) -> float:
    """Seconds until enough of the oldest entries leave the window for `weight` more to fit."""
    excess = sum(w for _, w in window) + weight - limit.capacity
    if excess <= 0:
        return 0.0
    for ts, w in window:
        excess -= w
        if excess <= 0:
            return ts + limit.window_seconds - now
    return limit.window_seconds  # unreachable while weight <= capacity


# KEYS[1]: the pause key; KEYS[2..n+1]: one sorted set per window (member "<id>:<weight>", score ms).
# ARGV: request id, then per window: weight, window ms, capacity.
# Returns {wait_ms, now_ms}; wait_ms 0 means admitted and counted in every window.
_ADMIT_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = 0
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
if paused > now then wait = paused - now end
local n = #KEYS - 1
for i = 1, n do
  local key = KEYS[i + 1]
  local weight = tonumber(ARGV[2 + (i - 1) * 3])
  local span = tonumber(ARGV[3 + (i - 1) * 3])
  local capacity = tonumber(ARGV[4 + (i - 1) * 3])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - span)
  local entries = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
  local used = 0
  for j = 1, #entries, 2 do
    used = used + tonumber(string.match(entries[j], ':(%d+)$'))
  end
  local excess = used + weight - capacity
  if excess > 0 then
    for j = 1, #entries, 2 do
      excess = excess - tonumber(string.match(entries[j], ':(%d+)$'))
      if excess <= 0 then
        local fits = tonumber(entries[j + 1]) + span - now
        if fits > wait then wait = fits end
        break
      end
    end
  end
end
if wait > 0 then return {wait, now} end
for i = 1, n do
  local key = KEYS[i + 1]
  local weight = ARGV[2 + (i - 1) * 3]
  redis.call('ZADD', key, now, ARGV[1] .. ':' .. weight)
  redis.call('PEXPIRE', key, tonumber(ARGV[3 + (i - 1) * 3]))
end
return {0, now}
"""

# Keep the later of the stored and the requested pause; expire the key when the pause is over.
_PAUSE_SCRIPT = """
local until_ms = tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms <= current then return current end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if until_ms <= now then return current end
redis.call('SET', KEYS[1], until_ms, 'PX', until_ms - now)
return until_ms
"""


# KEYS: one sorted set per window; ARGV: the weight to give back in each. Removes the newest member of that
# weight from each set.
_REFUND_SCRIPT = """
for i = 1, #KEYS do
  local suffix = ':' .. ARGV[i]
  local members = redis.call('ZREVRANGE', KEYS[i], 0, -1)
  for j = 1, #members do
    if string.sub(members[j], -#suffix) == suffix then
      redis.call('ZREM', KEYS[i], members[j])
      break
    end
  end
end
return 0
"""


class RedisRequestBudget:
    """The budget shared by every process that uses the same Redis and prefix (distributed mode)."""

    def __init__(
        self,
        client: redis.Redis,
        limits: Sequence[Limit] = GITHUB_SECONDARY_LIMITS,
        *,
        prefix: str = "align",
        max_wait: float = 900.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.limits = tuple(limits)
        self.prefix = prefix
        self._waiter = _Waiter(max_wait, sleep)
        self._admit = client.register_script(_ADMIT_SCRIPT)
        self._pause = client.register_script(_PAUSE_SCRIPT)
        self._refund = client.register_script(_REFUND_SCRIPT)

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisRequestBudget:
        client = redis.Redis.from_url(url, socket_timeout=5.0, socket_connect_timeout=2.0)
        return cls(client, **kwargs)

    def _key(self, installation_id: int, part: str) -> str:
        # The hash tag keeps one installation's keys in one cluster slot, as a Lua script needs.
        return f"{self.prefix}:budget:{{{installation_id}}}:{part}"

    def acquire(self, installation_id: int, cost: RequestCost) -> float:
        _check_cost(self.limits, cost)
        keys = [self._key(installation_id, "paused")]
        args: list[str | int] = [uuid.uuid4().hex]
        for limit in self.limits:
            weight = limit.weight(cost)
            if weight:
                keys.append(self._key(installation_id, limit.bucket(cost)))
                args += [weight, int(limit.window_seconds * 1000), limit.capacity]

        def try_once() -> float:
            try:
                wait_ms, _now = self._admit(keys=keys, args=args)
            except redis.RedisError as error:
                raise BudgetUnavailable(f"request budget unavailable: {type(error).__name__}") from error
            return int(wait_ms) / 1000.0

        return self._waiter.run(try_once)

    def pause_until(self, installation_id: int, ts: float) -> None:
        try:
            self._pause(keys=[self._key(installation_id, "paused")], args=[int(ts * 1000)])
        except redis.RedisError as error:
            raise BudgetUnavailable(f"request budget unavailable: {type(error).__name__}") from error

    def refund(self, installation_id: int, cost: RequestCost) -> None:
        keys: list[str] = []
        weights: list[int] = []
        for limit in self.limits:
            weight = limit.weight(cost)
            if weight:
                keys.append(self._key(installation_id, limit.bucket(cost)))
                weights.append(weight)
        try:
            self._refund(keys=keys, args=weights)
        except redis.RedisError as error:
            raise BudgetUnavailable(f"request budget unavailable: {type(error).__name__}") from error


def build_budget(queue: str, redis_url: str, *, max_wait: float = 900.0, prefix: str = "align") -> RequestBudget:
    """The budget that matches the queue backend: shared through Redis when the workers are."""
    if queue == "redis":
        return RedisRequestBudget.from_url(redis_url, max_wait=max_wait, prefix=prefix)
    return LocalRequestBudget(max_wait=max_wait)
