"""A seeded fuzzer for the engine's per-line work: random mixes of GPU names, prices, numbers, units and
punctuation, in every format the engine reads, checked for two things:

- no exception escapes the engine (every rule, suggestions verified);
- work per byte is bounded: the same generator at 4x the size must take less than 8x the time (linear
  work: about 4x; a rule quadratic in the line or the file: 16x).

    python bench/fuzz_engine.py [--seed 8] [--cases 40] [--size 20000]

Exits 1 on the first failure, printing the seed, format and case to replay it with.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from align.engine import run_rules
from align.rule_api import builtin_rules
from tests.helpers import GH200_MANIFEST, make_context

H200_MANIFEST = (GH200_MANIFEST.replace("gpu: GH200", "gpu: H200").replace("1.49", "2.49")
                 .replace("gpu_1x_gh200", "gpu_1x_h200").replace("      buffer: 6\n", "      buffer: 51\n"))
PATHS = ["deploy/serve.py", "deploy/values.yaml", "deploy/config.json", "docs/deployment.md", "infra/main.tf",
         "scripts/launch.sh", "cmd/serve/main.go", "deploy/Dockerfile", "deploy/.env", "deploy/app.ts"]
TOKENS = [
    # GPU names, labels and instance types, right and wrong, with typos
    "GH200", "H200", "H100", "A100", "A100-80GB", "L40S", "L4", "GGH200", "H2OO", "NVIDIA-H100-80GB-HBM3",
    "nvidia-l4", "p5.48xlarge", "gpu_1x_gh200", "gpu_8x_h100_sxm5", "a2-highgpu-8g", "Standard_ND96asr_v4",
    "8xH100", "4x A100", "MI300X",
    # prices, memory, counts, arithmetic
    "$2.49/hour", "$1.49/h", "$1,087.70/month", "1.49 USD", "$3", "0.10/GB", "141GB", "96 GB", "80 GiB",
    "141", "96", "3", "8", "3 x 141GB = 423GB", "3 × 96 = 288", "60+40+30+11 = 141", "40%", "-32 %",
    "GPU_MEMORY_GB = 141", "gpu_count: 8", "--gpus 8", "--platform=linux/amd64", "arm64", "LAMBDA_API_KEY",
    # words that change what a line means
    "total", "memory", "per GPU", "per node", "vs", "migrated from", "to", "e.g.", "cost", "price", "replicas:",
    # punctuation and structure
    "|", "||", "(", ")", "[", "]", "{", "}", ",", ":", "=", "#", "//", "`", "```", '"', "'", "\\", "-", "*", "\t",
]


def random_text(rng: random.Random, size: int) -> str:
    """Lines of random tokens up to `size` characters; now and then one very long line."""
    lines: list[str] = []
    total = 0
    while total < size:
        count = rng.choice([rng.randint(1, 12), rng.randint(1, 12), rng.randint(50, 400)])
        if rng.random() < 0.02:
            count = max(1, (size - total) // 6)  # most of what is left, on one line
        line = " ".join(rng.choice(TOKENS) for _ in range(count))
        indent = " " * rng.choice([0, 0, 2, 4])
        lines.append(indent + line)
        total += len(line) + 1
    return "\n".join(lines)[:size] + "\n"


def review(path: str, text: str, base: str | None) -> float:
    ctx = make_context({path: text}, base_manifest=base, repository={"docs/old.md": text} if base else None)
    start = time.perf_counter()
    run_rules(ctx, builtin_rules(), workers=1)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--cases", type=int, default=40)
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--growth", type=float, default=8.0, help="largest time ratio allowed for 4x the size")
    args = parser.parse_args()
    review("warm.py", 'GPU = "H200"\n', None)
    worst = 0.0
    for case in range(args.cases):
        path = PATHS[case % len(PATHS)]
        base = H200_MANIFEST if case % 3 == 0 else None  # a third with a deployment change: stale-reference
        try:
            small = review(path, random_text(random.Random(f"{args.seed}/{case}"), args.size), base)
            large = review(path, random_text(random.Random(f"{args.seed}/{case}"), 4 * args.size), base)
        except Exception:
            traceback.print_exc()
            print(f"FAIL: exception, seed {args.seed} case {case} ({path})")
            return 1
        growth = large / max(small, 1e-3)
        worst = max(worst, growth)
        print(f"case {case:3d} {path:22s} {small:6.2f} s -> {large:6.2f} s at 4x the size ({growth:.1f}x)", flush=True)
        if growth > args.growth and large > 0.5:  # below half a second, timer noise dominates
            print(f"FAIL: super-linear work, seed {args.seed} case {case} ({path})")
            return 1
    print(f"ok: {args.cases} cases, no exception, worst growth {worst:.1f}x for 4x the size")
    return 0


if __name__ == "__main__":
    sys.exit(main())
