"""Six-tier memory architecture for the enhanced H200 nodes."""

GPU_MEMORY_GB = 141

# L0: GPU-resident pools, per GPU.
MEMORY_POOLS_GB = {
    "active_models": 60,
    "inference_cache": 40,
    "vector_cache": 30,
    "buffer": 11,
}

TOTAL_GPU_MEMORY_GB = 423  # 3 × 141 GB across the cluster

# L1: host memory (Grace LPDDR5X), not GPU memory.
HOST_CACHE_GB = 256


def pool_budget(name: str) -> int:
    return MEMORY_POOLS_GB[name]
