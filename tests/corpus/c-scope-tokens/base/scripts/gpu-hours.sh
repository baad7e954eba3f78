#!/usr/bin/env bash
# Sum GPU-hours per user from the accounting export (user,job,gpu_hours,start).
# Usage: gpu-hours.sh accounting.csv [min_hours]
set -euo pipefail

min="${2:-0}"
awk -F, -v min="$min" 'NR > 1 { hours[$1] += $3 } END { for (u in hours) if (hours[u] >= min) printf "%-12s %8.1f\n", u, hours[u] }' "$1" \
  | sort -k2 -nr
