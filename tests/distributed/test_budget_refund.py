"""A request GitHub refused for its limits gives its slot back: it did not count at GitHub, and a slot kept
spent would make the budget stricter than GitHub for a whole window (in a burst past the hour's budget, the
last reviews waited one more hour for it)."""

from __future__ import annotations

import uuid

import pytest
import redis

from align.service.budget import BudgetExhausted, Limit, LocalRequestBudget, RedisRequestBudget, RequestCost

COMMENT = RequestCost.of("POST", "/repos/o/r/issues/1/comments")
LIMITS = (Limit("points", 60.0, 1000, "points"), Limit("content", 60.0, 3, "content"))


def _fill(budget: LocalRequestBudget | RedisRequestBudget) -> None:
    for _ in range(3):
        budget.acquire(7, COMMENT)
    with pytest.raises(BudgetExhausted):
        budget.acquire(7, COMMENT)


def test_a_refused_request_gives_its_slot_back_in_the_local_budget() -> None:
    budget = LocalRequestBudget(LIMITS, max_wait=0)
    _fill(budget)
    budget.refund(7, COMMENT)
    assert budget.acquire(7, COMMENT) == 0.0
    with pytest.raises(BudgetExhausted):
        budget.acquire(7, COMMENT)  # exactly one slot came back
    budget.refund(8, COMMENT)  # another installation's (empty) windows: nothing to give back, no error


@pytest.mark.redis
def test_a_refused_request_gives_its_slot_back_in_the_shared_budget(redis_url: str) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    client = redis.Redis.from_url(redis_url)
    try:
        budget = RedisRequestBudget(client, LIMITS, prefix=prefix, max_wait=0)
        _fill(budget)
        budget.refund(7, COMMENT)
        assert budget.acquire(7, COMMENT) == 0.0
        with pytest.raises(BudgetExhausted):
            budget.acquire(7, COMMENT)
    finally:
        keys = client.keys(f"{prefix}:*")
        if keys:
            client.delete(*keys)
