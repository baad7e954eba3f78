"""The per-installation request budget: GitHub's secondary limits held across threads and processes."""

from __future__ import annotations

import multiprocessing
import random
import time
import uuid
from typing import Any

import pytest
import redis

from align.service.budget import (
    GITHUB_SECONDARY_LIMITS,
    BudgetExhausted,
    Limit,
    LocalRequestBudget,
    RedisRequestBudget,
    RequestCost,
    pause_deadline,
)

GET = RequestCost.of("GET", "/repos/o/r/pulls/1")
COMMENT = RequestCost.of("POST", "/repos/o/r/issues/1/comments")
EDIT = RequestCost.of("PATCH", "/repos/o/r/issues/comments/9")


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def local_budget(time_: FakeTime, max_wait: float = 900.0) -> LocalRequestBudget:
    return LocalRequestBudget(clock=time_.clock, sleep=time_.sleep, max_wait=max_wait)


def test_costs_follow_githubs_points() -> None:
    assert (GET.points, GET.creates_content) == (1, False)
    assert (COMMENT.points, COMMENT.creates_content) == (5, True)
    assert (EDIT.points, EDIT.creates_content) == (5, False)
    token = RequestCost.of("POST", "/app/installations/1/access_tokens")
    assert (token.points, token.creates_content) == (5, False)
    assert RequestCost.of("POST", "/graphql").endpoint == "graphql"


def test_900_points_a_minute_then_wait_for_the_oldest_to_leave() -> None:
    t = FakeTime()
    budget = local_budget(t)
    for _ in range(180):  # 180 writes × 5 points = 900
        assert budget.acquire(1, EDIT) == 0
    assert budget.acquire(1, GET) == pytest.approx(60.0)
    assert budget.acquire(2, EDIT) == 0  # another installation has its own budget
    assert budget.acquire(1, RequestCost.of("GET", "/graphql")) == 0  # and so has another endpoint class


def test_80_content_creating_requests_a_minute() -> None:
    t = FakeTime()
    budget = local_budget(t)
    for _ in range(80):
        budget.acquire(1, COMMENT)
        t.now += 0.5
    assert budget.acquire(1, EDIT) == 0  # edits do not create content
    assert budget.acquire(1, COMMENT) == pytest.approx(20.0)  # the first comment leaves the window at 60 s


def test_random_traffic_never_exceeds_a_window() -> None:
    t = FakeTime()
    budget = local_budget(t)
    admitted: list[tuple[float, RequestCost]] = []
    rng = random.Random(7)
    for _ in range(2000):
        cost = rng.choice([GET, GET, GET, EDIT, COMMENT])
        budget.acquire(1, cost)
        admitted.append((t.now, cost))
        t.now += rng.random() * 0.05
    for limit in GITHUB_SECONDARY_LIMITS[:2]:
        for start, _ in admitted:
            used = sum(limit.weight(c) for ts, c in admitted if start <= ts < start + limit.window_seconds)
            assert used <= limit.capacity


def test_a_pause_from_github_holds_every_request_and_is_never_shortened() -> None:
    t = FakeTime()
    budget = local_budget(t, max_wait=100)
    budget.pause_until(1, t.now + 30)
    budget.pause_until(1, t.now + 5)
    assert budget.acquire(1, GET) == pytest.approx(30.0)
    budget.pause_until(1, t.now + 500)
    with pytest.raises(BudgetExhausted):
        budget.acquire(1, GET)


def test_pause_deadline_reads_githubs_headers() -> None:
    now = 1000.0
    assert pause_deadline(429, {"Retry-After": "30"}, now) == 1030.0
    assert pause_deadline(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1500"}, now) == 1501.0
    assert pause_deadline(429, {}, now, attempt=1) == 1120.0
    assert pause_deadline(403, {"x-ratelimit-remaining": "12"}, now) is None  # a permission error
    assert pause_deadline(500, {"retry-after": "5"}, now) is None


def test_a_cost_that_can_never_fit_is_refused() -> None:
    budget = LocalRequestBudget([Limit("points", 60, 3, "points")])
    with pytest.raises(ValueError):
        budget.acquire(1, EDIT)


# -- shared through Redis ----------------------------------------------------------------------------------

SMALL = (Limit("points", 60.0, 1000, "points"), Limit("content", 60.0, 20, "content"))


def _spend(url: str, prefix: str, tries: int, start: Any, results: Any) -> None:
    budget = RedisRequestBudget(redis.Redis.from_url(url), SMALL, prefix=prefix, max_wait=0)
    start.wait()
    admitted = 0
    for _ in range(tries):
        try:
            budget.acquire(42, COMMENT)
            admitted += 1
        except BudgetExhausted:
            pass
    results.put(admitted)


@pytest.mark.redis
def test_two_processes_share_one_budget(redis_url: str) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    workers = [ctx.Process(target=_spend, args=(redis_url, prefix, 15, start, results)) for _ in range(2)]
    for process in workers:
        process.start()
    start.set()
    counts = [results.get(timeout=60) for _ in workers]
    for process in workers:
        process.join(timeout=30)
    # 30 attempts within one minute: exactly the 20 the content limit allows, split however it fell.
    assert sum(counts) == 20
    client = redis.Redis.from_url(redis_url)
    client.delete(*client.keys(f"{prefix}:*"))


@pytest.mark.redis
def test_a_pause_set_by_one_worker_holds_the_others(redis_url: str) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    waits: list[float] = []

    def record(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    refused = RedisRequestBudget(redis.Redis.from_url(redis_url), SMALL, prefix=prefix)
    other = RedisRequestBudget(redis.Redis.from_url(redis_url), SMALL, prefix=prefix, sleep=record, max_wait=5)
    refused.pause_until(42, time.time() + 1.0)
    refused.pause_until(42, time.time() + 0.2)  # never shortened
    other.acquire(42, GET)
    assert waits and 0 < sum(waits) <= 1.5
    assert other.acquire(43, GET) == 0  # another installation was not paused
    impatient = RedisRequestBudget(redis.Redis.from_url(redis_url), SMALL, prefix=prefix, max_wait=0)
    refused.pause_until(42, time.time() + 30)
    with pytest.raises(BudgetExhausted):
        impatient.acquire(42, GET)
    client = redis.Redis.from_url(redis_url)
    client.delete(*client.keys(f"{prefix}:*"))
