"""GPU memory layout for the inference workers (one GH200 per worker)."""

from __future__ import annotations

from dataclasses import dataclass

GPU_MEMORY_GB = 96
HOST_MEMORY_GB = 480  # Grace LPDDR5X, shared with the CPU


@dataclass(frozen=True)
class GpuPools:
    """Per-GPU budget; must fit in GPU_MEMORY_GB."""

    active_models_gb: int = 40
    inference_cache_gb: int = 30
    vector_cache_gb: int = 20
    buffer_gb: int = 6
