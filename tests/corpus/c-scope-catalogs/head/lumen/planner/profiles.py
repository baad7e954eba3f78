"""Per-GPU defaults for the memory planner: one entry per GPU model the planner knows."""

GPU_MEMORY_GB = {
    "T4": 16,
    "A10G": 24,
    "L4": 24,
    "L40S": 48,
    "A100-40GB": 40,
    "A100-80GB": 80,
    "H100": 80,
    "H200": 141,
}

# Tensor-parallel degree for a 70B AWQ model: 4 for G5.12x, 8 for P4/P5.
TP_FOR_70B = {
    "g5.12xlarge": 4,
    "g6e.12xlarge": 4,
    "p4d.24xlarge": 8,
    "p5.48xlarge": 8,
}


def memory_for(gpu: str) -> int:
    return GPU_MEMORY_GB[gpu]
