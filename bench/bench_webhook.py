"""Webhook acknowledgement latency of the web tier against a bare FastAPI endpoint, in the same run.

    python bench/bench_webhook.py [--deliveries 200] [--rounds 7] [--sleep 0]

Three web processes on loopback, each served by uvicorn as `align serve` serves (bench/_launch.py):
- align: the real web tier (signature check, JSON parse, routing, dedupe, logging, metrics, embedded queue)
  with the queue's handler replaced by a no-op (or a sleep);
- baseline: a bare FastAPI endpoint that reads the body and answers 202;
- floor: the baseline plus what any correct receiver must do first (check the signature, parse the JSON).
Each round sends the same number of concurrent signed `pull_request.opened` deliveries (GitHub's payload shape,
about 22 KB, one fresh connection each, as GitHub delivers) to each of them, in alternating order, with two
clients: httpx.AsyncClient, and hand-written HTTP over asyncio sockets (httpx spends ~3 ms of client CPU per
request, which on 2 cores swamps the server's share). Prints p50 / p99 / max and server CPU per delivery
(medians over rounds) and the p99 ratios; then checks that every delivery was answered 202 and reached the
queue, and its handler, exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _launch import (
    WebProcess,
    post_raw,
    pull_request_variant,
    recorded_pull_request,
    summarize,
    table,
)

from tests.distributed.support import wait_for
from tests.service.conftest import signed

Request = dict[str, Any]  # keyword arguments of one signed POST


async def _burst_httpx(url: str, requests: list[Request]) -> list[tuple[int, float]]:
    """Send every request at once with httpx; (status, seconds until the answer) for each."""
    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        async def one(request: Request) -> tuple[int, float]:
            start = time.perf_counter()
            response = await client.post(url, **request)
            return response.status_code, time.perf_counter() - start

        return list(await asyncio.gather(*(one(r) for r in requests)))


async def _burst_raw(url: str, requests: list[Request]) -> list[tuple[int, float]]:
    """The same over bare asyncio sockets (about a tenth of httpx's client CPU, so the server's share shows)."""
    return list(await asyncio.gather(*(post_raw(url, r) for r in requests)))


PERCENTILES = ("p50", "p99", "max")
CLIENTS = {"httpx": _burst_httpx, "raw": _burst_raw}


def _requests(template: dict[str, Any], first: int, count: int, tag: str) -> list[Request]:
    """Signed deliveries for pull requests first..first+count-1, signed before the clock starts."""
    numbers = range(first, first + count)
    return [signed(pull_request_variant(template, n), "pull_request", f"{tag}-{n}") for n in numbers]


def _check_exactly_once(align: WebProcess, sent: list[str], timeout: float = 60.0) -> tuple[bool, str]:
    def counts() -> dict[str, Any]:
        return dict(httpx.get(f"{align.url}/bench/counts", timeout=10).json())

    wait_for(lambda: len(counts()["handled"]) >= len(sent), timeout=timeout, step=0.2)
    seen = counts()
    wanted = dict.fromkeys(sent, 1)
    problems = []
    if seen["enqueued"] != wanted:
        problems.append("enqueued counts differ from one per delivery")
    if seen["handled"] != wanted:
        problems.append("handled counts differ from one per delivery")
    if seen["dropped"]:
        problems.append(f"{seen['dropped']} jobs superseded")
    return not problems, "; ".join(problems) or (
        f"{len(sent)} deliveries: each enqueued once and handled once, none superseded")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=200, help="concurrent deliveries per round and target")
    parser.add_argument("--rounds", type=int, default=7, help="measured rounds (after one warm-up round)")
    parser.add_argument("--sleep", type=float, default=0.0, help="seconds each job's handler sleeps")
    parser.add_argument("--client", choices=[*CLIENTS, "both"], default="both")
    args = parser.parse_args()

    template = recorded_pull_request()
    with tempfile.TemporaryDirectory() as logs:
        targets = {"baseline": WebProcess("baseline", Path(logs)), "floor": WebProcess("floor", Path(logs)),
                   "align": WebProcess("align", Path(logs), sleep=args.sleep)}
        try:
            for process in targets.values():
                process.wait_ready()
            return _run(args, template, targets)
        finally:
            for process in targets.values():
                process.stop()


@dataclass
class Round:
    latency: dict[str, float]  # p50, p99, max in ms
    cpu_ms: float  # server CPU per delivery


def _run(args: argparse.Namespace, template: dict[str, Any], targets: dict[str, WebProcess]) -> int:
    clients = list(CLIENTS) if args.client == "both" else [args.client]
    results: dict[tuple[str, str], list[Round]] = {(c, t): [] for c in clients for t in targets}
    statuses: set[int] = set()
    sent: list[str] = []
    first = 1
    for round_ in range(args.rounds + 1):  # round 0 warms the servers up and is not reported
        order = list(targets) if round_ % 2 else list(targets)[::-1]
        for client in clients:
            for name in order:
                requests = _requests(template, first, args.deliveries, f"{client}-r{round_}")
                first += args.deliveries
                cpu = targets[name].cpu()
                answers = asyncio.run(CLIENTS[client](targets[name].hook, requests))
                cpu_ms = (targets[name].cpu() - cpu) / len(requests) * 1000
                statuses.update(status for status, _ in answers)
                if name == "align":
                    sent += [r["headers"]["X-GitHub-Delivery"] for r in requests]
                if round_:
                    results[client, name].append(Round(summarize([latency for _, latency in answers]), cpu_ms))

    handler = f"sleep {args.sleep} s" if args.sleep else "no-op"
    print(f"{args.deliveries} concurrent signed deliveries per round and target, {args.rounds} rounds; "
          f"medians over rounds; queue handler: {handler}")
    print(table(["client", "target", "p50 ms", "p99 ms", "max ms", "server CPU ms / delivery", "p99 / baseline p99",
                 "p99 / floor p99"], [_row(results, client, name) for client in clients for name in targets]))
    ok, detail = _check_exactly_once(targets["align"], sent)
    answered = statuses == {202}
    print(f"answers: {'every delivery 202' if answered else f'statuses seen {sorted(statuses)}'}; queue: {detail}")
    return 0 if ok and answered else 1


def _row(results: dict[tuple[str, str], list[Round]], client: str, name: str) -> list[object]:
    rounds = results[client, name]

    def ratio(reference: str) -> str:
        if name == reference:
            return ""
        per_round = [a.latency["p99"] / b.latency["p99"] for a, b in zip(rounds, results[client, reference],
                                                                          strict=True)]
        return f"{statistics.median(per_round):.2f}x ({min(per_round):.2f}-{max(per_round):.2f})"

    return [client, name, *(statistics.median(r.latency[k] for r in rounds) for k in PERCENTILES),
            statistics.median(r.cpu_ms for r in rounds), ratio("baseline"), ratio("floor") if name == "align" else ""]


if __name__ == "__main__":
    raise SystemExit(main())
