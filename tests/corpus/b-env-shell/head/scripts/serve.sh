#!/usr/bin/env bash
# Start one vLLM server per GH200 node.
set -euo pipefail

source .env

docker run --rm --gpus all --memory 200g --shm-size 16g \
  -e GPU_MEMORY_GB="${GPU_MEMORY_GB}" \
  vllm/vllm-openai:v0.6.4 \
  --model "${MODEL_NAME}" \
  --gpu-memory-utilization 0.95 \
  --tensor-parallel-size 1

# Benchmark against the whole pool.
python -m bench.throughput --num-gpus 8 --duration 600

echo "pools: 40+30+20+6 = 96 GB per GPU"
echo "monthly: 3 x 1.49 x 730 = 3263 USD"
