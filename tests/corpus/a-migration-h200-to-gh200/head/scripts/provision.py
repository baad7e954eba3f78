"""Provision the production instances."""

GPU_TYPE = "H200"
INSTANCE_TYPE = "gpu_1x_gh200"
INSTANCE_COUNT = 3
