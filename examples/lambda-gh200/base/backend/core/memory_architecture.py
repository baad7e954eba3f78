"""GPU memory pools for one inference node."""

GPU_MEMORY_GB = 96

MEMORY_POOLS_GB = {
    "active_models": 40,
    "inference_cache": 30,
    "vector_cache": 20,
    "buffer": 6,
}


def pool_budget(name: str) -> int:
    return MEMORY_POOLS_GB[name]
