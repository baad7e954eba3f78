"""Provision the enhanced GPU instances on Lambda Cloud."""

import os

GPU_TYPE = "H200"
INSTANCE_COUNT = 3
PRICE_PER_GPU_HOUR = 2.49
MONTHLY_BUDGET_USD = 5453  # 3 GPUs × $2.49 × 730 h


def api_key() -> str:
    return os.environ["LAMBDA_API_KEY"]
