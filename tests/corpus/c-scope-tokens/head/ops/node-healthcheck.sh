#!/usr/bin/env bash
# Admit the node to the scheduler only after DCGM L4 (extended) diagnostics pass.
# What each level runs: https://github.com/NVIDIA/DCGM/blob/master/nvvs/plugin_src/diagnostic/Diagnostic.cpp#L966-L1003
set -euo pipefail

: "${DCGM_L4_TIMEOUT:=7200}"   # seconds; a level-4 run takes well over an hour on 8 GPUs
DCGM_EXPORTER_IMAGE="nvcr.io/nvidia/k8s/dcgm-exporter:3.3.9-3.6.1-ubuntu22.04"
EXPECTED_GPU="NVIDIA A100-SXM4-80GB"
EXPECTED_COUNT=8

report() {  # report LEVEL COMPONENT MESSAGE
  printf '%s [%s] %s: %s\n' "$(date -Is)" "$1" "$2" "$3" | tee -a /var/log/node-healthcheck.log
}

found=$(nvidia-smi --query-gpu=name --format=csv,noheader | grep -c "$EXPECTED_GPU" || true)
[ "$found" -eq "$EXPECTED_COUNT" ] || { report ERROR inventory "found $found of $EXPECTED_COUNT GPUs"; exit 1; }

nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader \
  | awk -F', ' '{ printf "gpu%s %s %s\n", $1, $2, $3 }'

if ! timeout "${DCGM_L4_TIMEOUT}" dcgmi diag -r 4 -j > /var/log/dcgm-diag-l4.json; then
  report ERROR dcgm "DCGM L4 diagnostics failed, see /var/log/dcgm-diag-l4.json"
  exit 1
fi
report INFO dcgm "L4 diagnostics passed"
