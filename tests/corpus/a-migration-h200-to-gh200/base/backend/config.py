"""Serving limits for one inference node."""

GPU_MEMORY_GB = 141
PRICE_PER_GPU_HOUR = 2.49
MAX_BATCH_TOKENS = 32768
