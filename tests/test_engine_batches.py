"""The engine runs file-local rules a batch of files at a time, in worker processes for a large change:
the findings must be exactly those of one pass in one process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from align import engine
from align.context import ReviewContext
from align.findings import Finding, Severity
from align.rule_api import BaseRule, builtin_rules
from tests.helpers import make_context

ROOT = Path(__file__).resolve().parents[1]

SNIPPETS = [
    "nodeSelector:\n  nvidia.com/gpu.product: NVIDIA-H200\n",
    "GPU_MEMORY_GB = 141  # 3 × 141 = 400\n",
    "Each node has an H200 (141GB) at $2.49/hour.\n",
    "FROM --platform=linux/amd64 python:3.11-slim\n",
    "api_key = os.environ[\"LAMBDA_API_KEY\"]\n",
    "replicas: 3\nimage: ghcr.io/acme/worker:1.2.3\n",
]
SUFFIXES = ["yaml", "py", "md", "Dockerfile", "py", "yaml"]


def _large_context() -> ReviewContext:
    files = {}
    for index in range(3 * engine._BATCH + 5):  # several batches, the last one short
        kind = index % len(SNIPPETS)
        suffix = SUFFIXES[kind]
        path = f"svc{index}/Dockerfile" if suffix == "Dockerfile" else f"svc{index}/file.{suffix}"
        files[path] = f"# file {index}\n" + SNIPPETS[kind] * (1 + index % 3)
    return make_context(files)


def compare_worker_processes_with_one_process() -> None:
    """Run in a fresh interpreter (see below): the engine only forks when no other thread is running."""
    ctx = _large_context()
    assert engine._worker_count(ctx, 2) == 2, "the fork path must be taken"
    rules = builtin_rules()
    alone = engine.run_rules(ctx, rules, workers=1)
    suggested = [f for f in alone if f.suggestion]
    assert suggested and len(suggested) < len(alone), "the fixture must produce findings, some with a fix"
    assert engine.run_rules(ctx, rules, workers=2) == alone


def test_batches_in_worker_processes_find_what_one_process_finds() -> None:
    # Other tests leave server threads running in this process, so the comparison runs in a new one.
    done = subprocess.run(
        [sys.executable, "-c", "import tests.test_engine_batches as t; t.compare_worker_processes_with_one_process()"],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )
    assert done.returncode == 0, done.stderr


class _Recorder(BaseRule):
    id = "recorder"
    default_severity = Severity.NOTICE
    seen: ClassVar[list[int]] = []

    def check(self, ctx: ReviewContext) -> Iterator[Finding]:
        self.seen.append(len(ctx.files))
        return iter(())


class _LocalRecorder(_Recorder):
    id = "local-recorder"
    file_local = True
    seen: ClassVar[list[int]] = []


def test_file_local_rules_see_batches_and_others_every_file() -> None:
    ctx = _large_context()
    engine.run_rules(ctx, [_Recorder(), _LocalRecorder()], workers=1)
    assert _Recorder.seen == [len(ctx.files)]
    assert sum(_LocalRecorder.seen) == len(ctx.files)
    assert max(_LocalRecorder.seen) <= engine._BATCH and len(_LocalRecorder.seen) > 1


def test_small_changes_stay_in_this_process() -> None:
    ctx = make_context({"k8s/deploy.yaml": SNIPPETS[0]})
    assert engine._worker_count(ctx, None) == 1
    assert engine._worker_count(ctx, 1) == 1
