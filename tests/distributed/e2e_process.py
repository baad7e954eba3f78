"""`python -m tests.distributed.e2e_process serve PORT | worker`: the real `align serve` / `align worker` entry
points (align.service.server.serve, align.service.worker_main.run_worker) with the distributed-mode tuning that
Settings does not expose yet — key prefix, queue name, lease and back-off — read from ALIGN_REDIS_* so that
the end-to-end test runs isolated and recovers from a killed worker within seconds. Workers keep GitHub's
secondary limits, on a time scale ten times shorter."""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Any

from align.service.settings import Settings


class E2ESettings(Settings):
    # Picked up by RedisQueueConfig.from_settings (it reads any `redis_<field>` a Settings defines).
    redis_prefix: str = "align"
    redis_queue_name: str = "align"
    redis_lease_seconds: float = 30.0
    redis_sweep_seconds: float = 1.0
    redis_retry_intervals: tuple[int, ...] = (10, 60, 300)
    redis_defer_seconds: int = 2


def main(argv: list[str]) -> int:
    settings = E2ESettings()  # type: ignore[call-arg]
    if argv[1] == "serve":
        from align.service.server import serve

        serve(settings, "127.0.0.1", int(argv[2]))
        return 0
    from align.service import budget
    from align.service.worker_main import run_worker

    # GitHub's limits, ten times faster (80 content-creating requests per 6 s, ...), in this run's own keys.
    scaled = tuple(replace(limit, window_seconds=limit.window_seconds / 10) for limit in budget.GITHUB_SECONDARY_LIMITS)

    def build_budget(queue: str, redis_url: str, *, max_wait: float = 900.0, prefix: str = "align") -> Any:
        return budget.RedisRequestBudget.from_url(redis_url, limits=scaled, max_wait=max_wait,
                                                  prefix=settings.redis_prefix)

    budget.build_budget = build_budget  # the seam run_worker's dependencies are built through
    return run_worker(settings)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
