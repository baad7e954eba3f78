"""GPU memory layout for the inference workers (one GH200 per worker)."""

from __future__ import annotations

from dataclasses import dataclass

GPU_MEMORY_GIB = 141
HOST_MEMORY_GB = 480  # Grace LPDDR5X, shared with the CPU
SHM_SIZE_GB = 64
GPU_MEMORY_UTILIZATION = 0.92


@dataclass(frozen=True)
class GpuPools:
    """Per-GPU budget; must fit in GPU_MEMORY_GIB."""

    active_models_gb: int = 60
    inference_cache_gb: int = 40
    vector_cache_gb: int = 30
    buffer_gb: int = 11


# Budget check: 60 + 40 + 30 + 11 = 131 GB per GPU, leaving 10 GB of headroom.
# Six tiers: L0 HBM on the GPU, L1 LPDDR5X on the Grace CPU, L2 local NVMe, L3 object storage.
MEMORY_TIERS_GB = {
    "l1_host_ram": 480,
    "l2_nvme_cache": 3500,
}

# The cluster has 3 × 96 GB = 288 GB of HBM; one 70B replica in bf16 needs about 140 GB, so it spans 2 GPUs.
MODEL_REPLICAS = 1
