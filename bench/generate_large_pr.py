"""Generate a large pull request as a git repository: 3,000 changed files, about 300,000 changed lines, a
realistic mix of formats (Kubernetes, Helm values, Terraform, Python, TypeScript, Dockerfiles, Markdown, .env,
shell) with findings sprinkled in (about one file in 40 states an H200, a wrong price or an x86 pin).

    python bench/generate_large_pr.py DIR [--files 3000] [--lines 100]
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
from pathlib import Path

MANIFEST = """version: 1
deployments:
  - name: production
    gpu: GH200
    count: 3
    price_per_gpu_hour: 1.49
    provider: lambda
    instance_type: gpu_1x_gh200
    retired_secrets: [LAMBDA_API_KEY]
"""

# Each template renders one block of lines; a file is made of blocks until it reaches the wanted length.
BLOCKS: dict[str, list[str]] = {
    "yaml": [
        "- name: worker-{i}\n  image: ghcr.io/acme/worker:{v}\n  resources:\n    limits:\n"
        "      memory: {ram}Gi\n      nvidia.com/gpu: 1\n    requests:\n      cpu: \"{cpu}\"\n",
        "- name: cache-{i}\n  replicas: {n}\n  nodeSelector:\n    nvidia.com/gpu.product: NVIDIA-GH200-480GB\n"
        "  env:\n    - name: CACHE_TTL\n      value: \"{n}00\"\n",
    ],
    "py": [
        "def handler_{i}(event, context):\n"
        "    \"\"\"Process batch {i} on the GH200 nodes.\"\"\"\n    size = {n} * 1024\n"
        "    return {{\"batch\": {i}, \"size\": size}}\n\n\n",
        "WORKERS_{i} = {n}\nTIMEOUT_{i} = {cpu}.5  # seconds\n\n",
    ],
    "ts": [
        "export const service{i} = new k8s.core.v1.Service(\"svc-{i}\", {{\n"
        "  spec: {{ ports: [{{ port: {port} }}] }},\n}});\n",
        "// Route {i}: keep the timeout under the load balancer's.\nconst timeout{i} = {n}000;\n",
    ],
    "tf": [
        "resource \"aws_s3_bucket\" \"logs_{i}\" {{\n"
        "  bucket = \"acme-logs-{i}\"\n  tags = {{ team = \"ml\" }}\n}}\n\n",
        "variable \"replicas_{i}\" {{\n  type    = number\n  default = {n}\n}}\n\n",
    ],
    "md": [
        "## Runbook step {i}\n\nCheck the GH200 node health dashboard, then drain node {n} if needed.\n"
        "Egress costs $0.09/GB beyond the free tier.\n\n",
        "| Service {i} | {n} replicas | owner: ml-platform |\n",
    ],
    "Dockerfile": [
        "RUN pip install --no-cache-dir package{i}=={v}\n",
        "ENV WORKERS_{i}={n}\n",
    ],
    "env": ["SERVICE_{i}_URL=http://svc-{i}.internal:{port}\nSERVICE_{i}_TIMEOUT={n}\n"],
    "sh": ["echo \"step {i}\"\nkubectl rollout status deploy/worker-{i} --timeout={n}0s\n"],
}

FINDINGS: dict[str, list[str]] = {
    "yaml": ["nodeSelector:\n  nvidia.com/gpu.product: NVIDIA-H200\n", "platform: linux/amd64\n"],
    "py": ["GPU_TYPE = \"H200\"\n", "PRICE_PER_GPU_HOUR = 2.49\n", "api_key = os.environ[\"LAMBDA_API_KEY\"]\n"],
    "ts": ["const gpuType = \"H200\";\n"],
    "tf": ["instance_type = \"p5e.48xlarge\"\n"],
    "md": ["Each node has an H200 (141GB) at $2.49/hour.\n"],
    "Dockerfile": ["FROM --platform=linux/amd64 python:3.11-slim\n"],
    "env": ["GPU_MEMORY_GB=141\n"],
    "sh": ["docker build --platform=linux/amd64 -t app .\n"],
}

PATHS = {
    "yaml": "k8s/app{n}/deployment.yaml", "py": "services/svc{n}/handlers.py", "ts": "infra/stack{n}.ts",
    "tf": "terraform/module{n}/main.tf", "md": "docs/runbooks/runbook{n}.md", "Dockerfile": "images/img{n}/Dockerfile",
    "env": "config/env{n}/.env", "sh": "scripts/deploy{n}.sh",
}
WEIGHTS = {"yaml": 30, "py": 25, "ts": 10, "tf": 10, "md": 15, "Dockerfile": 4, "env": 3, "sh": 3}


def render_file(kind: str, lines: int, rng: random.Random, with_finding: bool) -> str:
    out: list[str] = []
    count = 0
    i = 0
    while count < lines:
        block = rng.choice(BLOCKS[kind]).format(
            i=i, n=rng.randint(1, 9), v=f"1.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
            ram=rng.choice([16, 32, 64, 128]), cpu=rng.randint(1, 16), port=rng.randint(1024, 9000),
        )
        out.append(block)
        count += block.count("\n")
        i += 1
    if with_finding:
        out.insert(rng.randrange(len(out)), rng.choice(FINDINGS[kind]))
    if kind == "Dockerfile":
        out.insert(0, "FROM python:3.11-slim\n")
    return "".join(out)


def generate(target: Path, files: int = 3000, lines: int = 100, seed: int = 7) -> Path:
    rng = random.Random(seed)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@align.invalid"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=target, check=True)
    (target / "align.yaml").write_text(MANIFEST)
    subprocess.run([*git, "add", "-A"], cwd=target, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=target, check=True)
    subprocess.run([*git, "checkout", "-qb", "large-pr"], cwd=target, check=True)
    kinds = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()), k=files)
    for n, kind in enumerate(kinds):
        path = target / PATHS[kind].format(n=n)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_file(kind, lines, rng, with_finding=rng.random() < 1 / 40))
    subprocess.run([*git, "add", "-A"], cwd=target, check=True)
    subprocess.run([*git, "commit", "-qm", "large pull request"], cwd=target, check=True)
    return target


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path)
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--lines", type=int, default=100)
    args = parser.parse_args()
    print(generate(args.target, args.files, args.lines))
