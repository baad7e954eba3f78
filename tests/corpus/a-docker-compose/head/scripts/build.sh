#!/usr/bin/env bash
# Multi-arch build for CI; production runs the arm64 image.
set -euo pipefail
docker buildx build --platform linux/amd64,linux/arm64 -t ghcr.io/acme/triton:1.4.0 --push .
