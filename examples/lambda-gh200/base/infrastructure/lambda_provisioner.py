"""Provision the Lambda Cloud instances the platform runs on."""

import os

INSTANCE_TYPE = "gpu_1x_gh200"
INSTANCE_COUNT = 3
REGION = "us-east-3"


def api_token() -> str:
    return os.environ["LAMBDA_CLOUD_TOKEN"]
