"""`python -m tests.distributed.tiny_worker CONFIG_JSON HEARTBEAT_FILE`: a real `align worker` process whose
jobs are tiny instead of reviews, so recovery can be tested without GitHub.

A job records each attempt in Redis (`<prefix>:started`, `<prefix>:finished`); a job with extra
`hang=1` hangs on its first attempt, so that the test can kill the worker in the middle of it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import redis

from align.service.jobs import Job
from align.service.redis_queue import RedisQueueConfig
from align.service.worker_main import build_worker


def main(argv: list[str]) -> int:
    raw = json.loads(argv[1])
    raw["retry_intervals"] = tuple(raw["retry_intervals"])
    config = RedisQueueConfig(**raw)
    client = redis.Redis.from_url(config.redis_url)
    prefix = config.prefix

    def handler(job: Job) -> None:
        attempt = client.incr(f"{prefix}:attempts:{job.delivery_id}")
        client.rpush(f"{prefix}:started", f"{os.getpid()} {job.delivery_id} {attempt}")
        if attempt == 1 and job.extra.get("hang"):
            time.sleep(3600)  # the test kills this process here
        client.rpush(f"{prefix}:finished", f"{os.getpid()} {job.delivery_id}")

    build_worker(config, handler, heartbeat_file=Path(argv[2])).work(logging_level="WARNING")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
