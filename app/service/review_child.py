"""Imported once by the review fork server (align.service.review_process), never by the service itself: it
loads the engine and runs one small review in memory, so that the caches every review fills (the catalog's
compiled matcher, the rules' patterns, the manifest models) are warm in each review process forked from the
server. Cold, they cost a small review ~80 ms of CPU; warm, ~10 ms."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Mapping

from align.review import review_change
from align.rule_api import load_rules
from align.source import FileChange

_MANIFEST = b"""version: 1
deployments:
  - name: production
    gpu: GH200
    count: 3
    price_per_gpu_hour: 1.49
"""
_FILES = {
    "align.yaml": _MANIFEST,
    "config/gpu.py": b'GPU_MODEL = "H200"\nGPU_MEMORY_GB = 141  # 3 x 141 = 423\n',
    "docs/deploy.md": b"Runs on 3 x H100 80GB at $2.49/hour.\n",
    "k8s/deploy.yaml": b"nodeSelector:\n  nvidia.com/gpu.product: NVIDIA-H200\n",
    "Dockerfile": b"FROM --platform=linux/amd64 python:3.11-slim\n",
    "infra/main.tf": b'instance_type = "p5.48xlarge"\n',
    "web/gpu.ts": b'export const GPU = "H200";\n',
    ".env": b"GPU_TYPE=H200\n",
    "pyproject.toml": b'[tool.align]\ngpu = "H200"\n',
}


class _Memory:
    def resolve(self, ref: str) -> str:
        return ref

    def changed_files(self, base: str, head: str) -> list[FileChange]:
        return [FileChange(path, "modified", frozenset(range(1, 5))) for path in _FILES if path != "align.yaml"]

    def read(self, ref: str, path: str) -> bytes | None:
        return _FILES.get(path)

    def read_many(self, ref: str, paths: Iterable[str]) -> Mapping[str, bytes]:
        return {path: _FILES[path] for path in paths if path in _FILES}

    def list_files(self, ref: str) -> list[str]:
        return sorted(_FILES)


def _warm() -> None:
    source = _Memory()
    review_change(source, "base", "head", changes=source.changed_files("base", "head"), rules=load_rules())


_warm()
# Everything the server holds now (the engine, and the main module it preloaded first) is never collected in
# the review processes: each would otherwise walk and touch all of it on its first full collection (~0.5 s
# with a heavy main module), and copy the pages it touches.
gc.freeze()

__all__ = ["review_change"]
