"""The file-format layer: what rules read from each kind of file (key paths, values, lines, spans)."""

from __future__ import annotations

import textwrap

import pytest

from align.formats import Assignment, FileFacts, detect_format, extract


def facts_of(path: str, text: str) -> FileFacts:
    return extract(path, textwrap.dedent(text).lstrip("\n"))


def assignment(facts: FileFacts, *key_path: str) -> Assignment:
    found = [item for item in facts.assignments if item.key_path == key_path]
    assert len(found) == 1, f"{key_path}: {found or [a.key_path for a in facts.assignments]}"
    return found[0]


def at(facts: FileFacts, *key_path: str) -> tuple[object, int]:
    item = assignment(facts, *key_path)
    return item.value, item.line


def spans(facts: FileFacts, kind: str) -> list[tuple[int, str]]:
    return [(span.line, span.text) for span in facts.spans if span.kind == kind]


def assert_every_line_spanned(facts: FileFacts, text: str, kinds: tuple[str, ...] = ("code", "prose")) -> None:
    """The catch-all: a rule scanning lines finds every non-blank line of the file."""
    lines = textwrap.dedent(text).lstrip("\n").splitlines()
    covered = {span.line for span in facts.spans if span.kind in kinds}
    assert covered == {number for number, line in enumerate(lines, 1) if line.strip()}


# ------------------------------------------------------------------------------------------------ detection


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        ("k8s/deploy.yaml", "", "yaml"),
        ("chart/values.yml", "", "yaml"),
        ("infra/stack.ts", "", "typescript"),
        ("web/App.tsx", "", "typescript"),
        ("cdk/app.mjs", "", "javascript"),
        ("main.tf", "", "hcl"),
        ("prod.tfvars", "", "hcl"),
        ("main.tf.json", "", "json"),
        ("Dockerfile", "", "dockerfile"),
        ("images/Dockerfile.gpu", "", "dockerfile"),
        ("worker.dockerfile", "", "dockerfile"),
        ("Containerfile", "", "dockerfile"),
        ("app/formats/dockerfile.py", "", "python"),
        ("config/.env.json", "", "json"),
        ("docs/sizing.md", "", "markdown"),
        ("docs/index.rst", "", "markdown"),
        ("NOTES.txt", "", "markdown"),
        (".env", "", "env"),
        ("config/.env.production", "", "env"),
        ("prod.env", "", "env"),
        (".envrc", "", "shell"),
        ("scripts/deploy.sh", "", "shell"),
        ("bin/deploy", "#!/usr/bin/env bash\necho hi\n", "shell"),
        ("bin/tool", "#!/usr/bin/python3.11\n", "python"),
        ("bin/serve", "#!/usr/bin/env node\n", "javascript"),
        ("package.json", "", "json"),
        ("pyproject.toml", "", "toml"),
        ("Makefile", "all:\n", "shell"),
    ],
)
def test_detect_format(path: str, text: str, expected: str) -> None:
    assert detect_format(path, text) == expected


# ------------------------------------------------------------------------------------------------ YAML

K8S = """
# vLLM on the GPU pool
apiVersion: apps/v1
kind: Deployment
metadata:
  name: vllm
spec:
  replicas: 1
  template:
    spec:
      nodeSelector:
        nvidia.com/gpu.product: NVIDIA-H200
      containers:
        - name: vllm
          image: "vllm/vllm-openai:v0.6.0"
          args: ["--gpu-memory-utilization", "0.9"]
          env:
            - name: GPU_MEMORY_GB
              value: "141"
          resources:
            limits:
              nvidia.com/gpu: 3
              memory: 64Gi   # host RAM, not GPU memory
---
apiVersion: v1
kind: Service
metadata:
  name: vllm
"""


def test_kubernetes_deployment_leaves_with_key_paths_and_lines() -> None:
    facts = facts_of("k8s/deploy.yaml", K8S)
    assert facts.format == "yaml"
    assert facts.parse_error is None
    container = ("spec", "template", "spec", "containers", "0")
    assert at(facts, "spec", "template", "spec", "nodeSelector", "nvidia.com/gpu.product") == ("NVIDIA-H200", 11)
    assert at(facts, *container, "resources", "limits", "nvidia.com/gpu") == (3, 21)
    assert at(facts, *container, "resources", "limits", "memory") == ("64Gi", 22)
    assert at(facts, *container, "image") == ("vllm/vllm-openai:v0.6.0", 14)
    assert assignment(facts, *container, "image").raw == '"vllm/vllm-openai:v0.6.0"'
    assert at(facts, *container, "args", "1") == ("0.9", 15)
    assert at(facts, "spec", "replicas") == (1, 7)
    # The second document's paths start from its own root.
    kinds = [(a.value, a.line) for a in facts.assignments if a.key_path == ("kind",)]
    assert kinds == [("Deployment", 3), ("Service", 25)]


def test_kubernetes_env_list_also_reads_as_name_value() -> None:
    facts = facts_of("k8s/deploy.yaml", K8S)
    container = ("spec", "template", "spec", "containers", "0")
    assert at(facts, *container, "env", "0", "name") == ("GPU_MEMORY_GB", 17)
    assert at(facts, *container, "env", "0", "value") == ("141", 18)
    alias = assignment(facts, *container, "env", "GPU_MEMORY_GB")
    assert (alias.value, alias.raw, alias.line) == ("141", '"141"', 18)


def test_yaml_comments_and_line_spans() -> None:
    facts = facts_of("k8s/deploy.yaml", K8S)
    assert spans(facts, "comment") == [(1, "vLLM on the GPU pool"), (22, "host RAM, not GPU memory")]
    assert (22, "              memory: 64Gi   # host RAM, not GPU memory") in spans(facts, "code")
    assert_every_line_spanned(facts, K8S)


HELM_VALUES = """
image:
  repository: vllm/vllm-openai
  tag: v0.6.0
model: meta-llama/Meta-Llama-3-70B-Instruct
gpuMemoryUtilization: 0.9
extraArgs:
  - --max-model-len=8192
  - --tensor-parallel-size
  - "8"
resources:
  limits:
    nvidia.com/gpu: 8
nodeSelector: {nvidia.com/gpu.product: NVIDIA-H200, karpenter.k8s.aws/instance-family: p5e}
startupScript: |
  # warm the cache: 141GB per GPU
  python warm.py --gpus 8

tolerations: []
annotations:
"""


def test_helm_values_for_vllm() -> None:
    facts = facts_of("charts/vllm/values.yaml", HELM_VALUES)
    assert facts.parse_error is None
    assert at(facts, "gpuMemoryUtilization") == (0.9, 5)
    assert at(facts, "extraArgs", "2") == ("8", 9)
    assert at(facts, "resources", "limits", "nvidia.com/gpu") == (8, 12)
    assert at(facts, "nodeSelector", "nvidia.com/gpu.product") == ("NVIDIA-H200", 13)
    assert at(facts, "nodeSelector", "karpenter.k8s.aws/instance-family") == ("p5e", 13)
    script = assignment(facts, "startupScript")
    assert script.value == "# warm the cache: 141GB per GPU\npython warm.py --gpus 8\n"
    assert (script.line, script.end_line) == (14, 16)
    assert at(facts, "annotations") == (None, 19)
    # A `#` inside a block scalar is text, not a YAML comment.
    assert spans(facts, "comment") == []


def test_helm_template_falls_back_to_lines() -> None:
    template = """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: {{ include "vllm.fullname" . }}
    spec:
      template:
        spec:
          {{- with .Values.nodeSelector }}
          nodeSelector:
            {{- toYaml . | nindent 8 }}
          {{- end }}
          containers:
            - name: vllm
              resources:
                limits:
                  nvidia.com/gpu: {{ .Values.gpu.count }}
                  memory: 64Gi  # host memory
    """
    facts = facts_of("charts/vllm/templates/deployment.yaml", template)
    assert facts.parse_error is not None and "template" in facts.parse_error
    limits = ("spec", "template", "spec", "containers", "0", "resources", "limits")
    assert at(facts, *limits, "memory") == ("64Gi", 17)
    assert at(facts, *limits, "nvidia.com/gpu") == ("{{ .Values.gpu.count }}", 16)
    assert at(facts, "kind") == ("Deployment", 2)
    assert spans(facts, "comment") == [(17, "host memory")]
    assert_every_line_spanned(facts, template)


def test_skypilot_task_accelerators_stay_a_string() -> None:
    task = """
    name: vllm-serve
    resources:
      accelerators: H200:8
      cloud: aws
      use_spot: false
    envs:
      MODEL: meta-llama/Llama-3-70B
    run: |
      python -m vllm.entrypoints.openai.api_server \\
        --tensor-parallel-size 8
    """
    facts = facts_of("sky/serve.yaml", task)
    assert at(facts, "resources", "accelerators") == ("H200:8", 3)
    assert at(facts, "resources", "use_spot") == (False, 5)
    run = assignment(facts, "run")
    assert run.value.startswith("python -m vllm") and (run.line, run.end_line) == (8, 10)  # type: ignore[union-attr]


def test_compose_environment_list_and_aliases() -> None:
    compose = """
    services:
      api:
        image: &api ghcr.io/acme/api:1.0
        environment:
          - GPU_MEMORY_GB=141
        deploy:
          resources:
            reservations:
              devices:
                - driver: nvidia
                  count: 3
      worker:
        image: *api
    """
    facts = facts_of("compose.yaml", compose)
    assert at(facts, "services", "api", "environment", "GPU_MEMORY_GB") == (141, 5)
    devices = ("services", "api", "deploy", "resources", "reservations", "devices", "0")
    assert at(facts, *devices, "count") == (3, 11)
    assert at(facts, "services", "api", "image") == ("ghcr.io/acme/api:1.0", 3)
    assert at(facts, "services", "worker", "image") == ("ghcr.io/acme/api:1.0", 13)


@pytest.mark.parametrize("document", [K8S, HELM_VALUES])
def test_yaml_line_scanner_agrees_with_libyaml(document: str) -> None:
    """The fast scanner and the composer (used for YAML the scanner does not model) give the same facts:
    a tagged key at the end sends the same document to the composer."""
    text = textwrap.dedent(document).lstrip("\n")
    scanned = extract("a.yaml", text)
    composed = extract("a.yaml", text + "---\nforced: !!str composer\n")
    assert scanned.assignments
    key = sorted((a for a in composed.assignments if a.key_path != ("forced",)), key=_order)
    assert sorted(scanned.assignments, key=_order) == key


def _order(item: Assignment) -> tuple[int, tuple[str, ...]]:
    return item.line, item.key_path


@pytest.mark.parametrize(
    "broken",
    [
        "a:\n  b: [1, 2\nc: d\n",  # unclosed flow sequence
        "a: 1\n  b: 2\n",  # a key under a scalar
        "key: 'unterminated\nother: 1\n",
        "\tkey: tab indented\n",
        "- a\nb: 1\n",
    ],
)
def test_broken_yaml_reports_and_keeps_lines(broken: str) -> None:
    facts = extract("k8s/broken.yaml", broken)
    assert facts.parse_error is not None
    assert_every_line_spanned(facts, broken)


# ------------------------------------------------------------------------------------------------ Python

PYTHON = '''
#!/usr/bin/env python
"""Serve the model on H200 (141GB) nodes."""
import os

GPU_MEMORY_GB = 141  # per GPU
PRICE_PER_HOUR: float = 2.49
GPU_MEMORY_BYTES = 141 * 1024**3
POOLS = {"active_models": 60, "cache": {"inference": 40}, "sizes": [1, 2]}
NOTE = "H200 nodes # not a comment"


class Settings:
    """Deployment settings."""

    gpu = "H200"

    def __init__(self) -> None:
        self.count = 3


def main() -> None:
    llm = LLM(model="meta-llama/Llama-3-70B", gpu_memory_utilization=0.9, tensor_parallel_size=8)
    print(f"{GPU_MEMORY_GB} GB per GPU")
'''


def test_python_assignments_dicts_and_keyword_arguments() -> None:
    facts = facts_of("app/serve.py", PYTHON)
    assert facts.parse_error is None
    assert at(facts, "GPU_MEMORY_GB") == (141, 5)
    assert at(facts, "PRICE_PER_HOUR") == (2.49, 6)
    assert at(facts, "GPU_MEMORY_BYTES") == (141 * 1024**3, 7)
    assert assignment(facts, "GPU_MEMORY_BYTES").raw == "141 * 1024**3"
    assert at(facts, "POOLS", "active_models") == (60, 8)
    assert at(facts, "POOLS", "cache", "inference") == (40, 8)
    assert at(facts, "POOLS", "sizes", "1") == (2, 8)
    assert at(facts, "gpu") == ("H200", 15)
    assert at(facts, "self", "count") == (3, 18)
    assert at(facts, "LLM", "gpu_memory_utilization") == (0.9, 22)
    assert at(facts, "LLM", "model") == ("meta-llama/Llama-3-70B", 22)
    assert assignment(facts, "LLM", "model").raw == '"meta-llama/Llama-3-70B"'


def test_python_strings_docstrings_and_comments() -> None:
    facts = facts_of("app/serve.py", PYTHON)
    assert spans(facts, "comment") == [(1, "!/usr/bin/env python"), (5, "per GPU")]
    assert spans(facts, "prose") == [(2, "Serve the model on H200 (141GB) nodes."), (13, "Deployment settings.")]
    strings = spans(facts, "string")
    assert (9, "H200 nodes # not a comment") in strings
    assert (23, "{GPU_MEMORY_GB} GB per GPU") in strings
    assert_every_line_spanned(facts, PYTHON, ("code",))


def test_python_syntax_error_falls_back_to_lines() -> None:
    broken = 'GPU_MEMORY_GB = 141  # per GPU\ndef broken(:\n    pass\nMODEL = "H200"\n'
    facts = extract("app/broken.py", broken)
    assert facts.parse_error is not None and "line 2" in facts.parse_error
    assert at(facts, "GPU_MEMORY_GB") == (141, 1)
    assert assignment(facts, "MODEL").raw == '"H200"'
    assert (1, "per GPU") in spans(facts, "comment")
    assert_every_line_spanned(facts, broken, ("code",))


# ------------------------------------------------------------------------------------------------ TypeScript

PULUMI = """
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";

// GPU node pool: 8 x H200 (141GB)
export const GPU_MEMORY_GB = 141;
const config = { gpu: { model: "H200", count: 8, price: 2.49 }, zones: ["us-east-1a", `us-east-1b`] };

/* Pulumi stack for the
 * inference cluster */
const node = new aws.ec2.Instance("gpu-node", {
    instanceType: "p5.48xlarge",
    ami: `ami-${region}`,
    rootBlockDevice: { volumeSize: -1 } as any,
});
const vllm = new k8s.apps.v1.Deployment("vllm", {
    spec: { template: { spec: { containers: [{
        env: [{ name: "GPU_MEMORY_GB", value: "141" }],
        resources: { limits: { "nvidia.com/gpu": 3 } },
    }] } } },
});
"""


def test_pulumi_typescript_properties_with_key_paths() -> None:
    facts = facts_of("infra/index.ts", PULUMI)
    assert facts.format == "typescript" and facts.parse_error is None
    assert at(facts, "GPU_MEMORY_GB") == (141, 5)
    assert at(facts, "config", "gpu", "model") == ("H200", 6)
    assert at(facts, "config", "gpu", "price") == (2.49, 6)
    assert at(facts, "config", "zones", "1") == ("us-east-1b", 6)
    assert at(facts, "aws.ec2.Instance", "instanceType") == ("p5.48xlarge", 11)
    assert assignment(facts, "aws.ec2.Instance", "instanceType").raw == '"p5.48xlarge"'
    assert at(facts, "aws.ec2.Instance", "rootBlockDevice", "volumeSize") == (-1, 13)
    container = ("k8s.apps.v1.Deployment", "spec", "template", "spec", "containers", "0")
    assert at(facts, *container, "resources", "limits", "nvidia.com/gpu") == (3, 18)
    assert at(facts, *container, "env", "GPU_MEMORY_GB") == ("141", 17)
    # A template with a substitution is text, not a value; the positional "gpu-node" is no property.
    assert not [a for a in facts.assignments if a.key_path[-1] in ("ami", "0") and a.line in (10, 12)]


def test_typescript_strings_and_comments() -> None:
    facts = facts_of("infra/index.ts", PULUMI)
    assert spans(facts, "comment") == [(4, "GPU node pool: 8 x H200 (141GB)"), (8, "Pulumi stack for the"),
                                       (9, "inference cluster")]
    strings = spans(facts, "string")
    assert (11, "p5.48xlarge") in strings
    assert (12, "ami-${region}") in strings
    assert_every_line_spanned(facts, PULUMI, ("code",))


def test_javascript_and_tsx() -> None:
    js = facts_of("cdk/app.js", "const props = { instanceType: 'g5.xlarge' }; // A10G\n")
    assert js.format == "javascript"
    assert at(js, "props", "instanceType") == ("g5.xlarge", 1)
    tsx = facts_of("web/Gpu.tsx", "export const Gpu = () => <p>Runs on H200</p>;\nconst GPU = 'H200';\n")
    assert tsx.parse_error is None
    assert (1, "Runs on H200") in spans(tsx, "string")
    assert at(tsx, "GPU") == ("H200", 2)


def test_broken_typescript_reports_and_keeps_what_parses() -> None:
    broken = "const GPU = 'H200';\nconst x = {\n  memory: 141,\n"
    facts = extract("infra/broken.ts", broken)
    assert facts.parse_error is not None and "syntax error" in facts.parse_error
    assert at(facts, "GPU") == ("H200", 1)
    assert_every_line_spanned(facts, broken, ("code",))


# ------------------------------------------------------------------------------------------------ HCL

TERRAFORM = """
# GPU training node
resource "aws_instance" "gpu" {
  ami           = "ami-0123456789" // Deep Learning AMI
  instance_type = "p5e.48xlarge"
  count         = var.gpu_nodes

  tags = {
    Name = "gpu-${var.env}"
    "team:ml" = "inference"
  }
  vpc_security_group_ids = ["sg-1", "sg-2"]

  root_block_device {
    volume_size = 500
  }
  user_data = <<-EOT
    #!/bin/bash
    echo "H200 node"
  EOT
}

/* pricing, per GPU hour */
variable "price_per_gpu_hour" {
  type    = number
  default = 2.49 # on-demand
}
"""


def test_terraform_attributes_with_block_paths() -> None:
    facts = facts_of("terraform/main.tf", TERRAFORM)
    assert facts.format == "hcl" and facts.parse_error is None
    instance = ("resource", "aws_instance", "gpu")
    assert at(facts, *instance, "instance_type") == ("p5e.48xlarge", 4)
    assert assignment(facts, *instance, "instance_type").raw == '"p5e.48xlarge"'
    assert at(facts, *instance, "count") == ("var.gpu_nodes", 5)
    assert at(facts, *instance, "tags", "Name") == ("gpu-${var.env}", 8)
    assert at(facts, *instance, "tags", "team:ml") == ("inference", 9)
    assert at(facts, *instance, "vpc_security_group_ids", "1") == ("sg-2", 11)
    assert at(facts, *instance, "root_block_device", "volume_size") == (500, 14)
    user_data = assignment(facts, *instance, "user_data")
    assert (user_data.value, user_data.line, user_data.end_line) == ('#!/bin/bash\necho "H200 node"', 16, 18)
    assert at(facts, "variable", "price_per_gpu_hour", "default") == (2.49, 25)


def test_terraform_comments() -> None:
    facts = facts_of("terraform/main.tf", TERRAFORM)
    assert spans(facts, "comment") == [(1, "GPU training node"), (3, "Deep Learning AMI"),
                                       (22, "pricing, per GPU hour"), (25, "on-demand")]
    assert_every_line_spanned(facts, TERRAFORM, ("code",))


def test_tfvars_and_broken_hcl() -> None:
    tfvars = facts_of("prod.tfvars", 'instance_type = "p5e.48xlarge"\ngpu_count = 8\n')
    assert at(tfvars, "instance_type") == ("p5e.48xlarge", 1)
    assert at(tfvars, "gpu_count") == (8, 2)
    one_line = facts_of("variables.tf", 'variable "gpu" { default = "H200", type = string }\n')
    assert one_line.parse_error is None
    assert at(one_line, "variable", "gpu", "default") == ("H200", 1)
    broken = 'resource "aws_instance" "gpu" {\n  instance_type = "p5e.48xlarge\n'
    facts = extract("terraform/broken.tf", broken)
    assert facts.parse_error is not None and "HCL" in facts.parse_error
    assert_every_line_spanned(facts, broken, ("code",))


# ------------------------------------------------------------------------------------------------ Dockerfile

DOCKERFILE = """
# syntax=docker/dockerfile:1
ARG CUDA_VERSION=12.4
FROM --platform=linux/amd64 nvcr.io/nvidia/pytorch:24.01-py3 AS build
ENV GPU_MEMORY_GB=141 \\
    MODEL="meta-llama/Llama 3" \\
    # a comment between continuation lines
    PRICE=2.49
ENV LEGACY_FORM value with spaces
RUN pip install vllm \\
    && echo "# not a comment"
FROM python:3.11-slim
"""


def test_dockerfile_from_env_arg_with_lines() -> None:
    facts = facts_of("images/Dockerfile", DOCKERFILE)
    assert facts.format == "dockerfile" and facts.parse_error is None
    assert at(facts, "ARG", "CUDA_VERSION") == (12.4, 2)
    assert at(facts, "FROM", "platform") == ("linux/amd64", 3)
    assert [(a.value, a.line) for a in facts.assignments if a.key_path == ("FROM", "image")] == [
        ("nvcr.io/nvidia/pytorch:24.01-py3", 3), ("python:3.11-slim", 11)]
    assert at(facts, "FROM", "stage") == ("build", 3)
    assert at(facts, "ENV", "GPU_MEMORY_GB") == (141, 4)
    assert at(facts, "ENV", "MODEL") == ("meta-llama/Llama 3", 5)
    assert at(facts, "ENV", "PRICE") == (2.49, 7)
    assert at(facts, "ENV", "LEGACY_FORM") == ("value with spaces", 8)
    assert spans(facts, "comment") == [(1, "syntax=docker/dockerfile:1"), (6, "a comment between continuation lines")]
    assert_every_line_spanned(facts, DOCKERFILE, ("code",))


def test_broken_dockerfile() -> None:
    broken = "FROM ubuntu:22.04\nthis is not an instruction\nRUN echo hi\n"
    facts = extract("Dockerfile", broken)
    assert facts.parse_error is not None and "line 2" in facts.parse_error
    assert at(facts, "FROM", "image") == ("ubuntu:22.04", 1)
    assert_every_line_spanned(facts, broken, ("code",))


# ------------------------------------------------------------------------------------------------ Markdown

MARKDOWN = """
# Deployment on **H200** (141GB)

We run 3 × 141GB = 423GB across the [cluster](https://example.com/cluster).

| Spec | Value | Notes |
|------|------:|-------|
| Memory/GPU | 141GB | HBM3e |
| GPUs | 3 | per node |

```yaml
resources:
  limits:
    nvidia.com/gpu: 3  # three GPUs
```

<!-- TODO: switch to GH200 -->
- Budget: $2.49/hour per GPU
"""


def test_markdown_prose_tables_and_code() -> None:
    facts = facts_of("docs/sizing.md", MARKDOWN)
    assert facts.format == "markdown" and facts.parse_error is None
    prose = spans(facts, "prose")
    assert (1, "Deployment on H200 (141GB)") in prose
    assert (3, "We run 3 × 141GB = 423GB across the cluster.") in prose
    assert (17, "Budget: $2.49/hour per GPU") in prose
    assert spans(facts, "table") == [(5, "| Spec | Value | Notes |"), (7, "| Memory/GPU | 141GB | HBM3e |"),
                                     (8, "| GPUs | 3 | per node |")]
    assert at(facts, "table", "Value", "Memory/GPU") == ("141GB", 7)
    assert at(facts, "table", "Value", "GPUs") == (3, 8)
    assert at(facts, "table", "Notes", "GPUs") == ("per node", 8)
    # The fenced YAML is read as YAML, at its lines in the document.
    assert at(facts, "resources", "limits", "nvidia.com/gpu") == (3, 13)
    assert (13, "three GPUs") in spans(facts, "comment")
    assert (16, "TODO: switch to GH200") in spans(facts, "comment")
    assert [line for line, _ in spans(facts, "code")] == [10, 11, 12, 13, 14]
    assert_every_line_spanned(facts, MARKDOWN)


def test_markdown_front_matter_and_python_fence() -> None:
    doc = '---\ngpu: H200\n---\nText.\n\n```python\nGPU_MEMORY_GB = 141\n```\n'
    facts = extract("docs/post.md", doc)
    assert at(facts, "gpu") == ("H200", 2)
    assert at(facts, "GPU_MEMORY_GB") == (141, 7)


def test_rst_title_underlined_with_tildes_is_no_code_fence() -> None:
    doc = "Steps\n~~~~~\n\n.. warning::\n  GPUs are expensive: 3 × 141 = 400.\n\nInputs\n~~~~~~\n\n~~~\ncode\n~~~\n"
    facts = extract("docs/install.rst", doc)
    assert (5, "GPUs are expensive: 3 × 141 = 400.") in spans(facts, "prose")
    assert [line for line, _ in spans(facts, "code")] == [10, 11, 12]  # a tilde fence after a blank line is one


def test_markdown_never_fails_on_odd_input() -> None:
    odd = "```yaml\nkey: [unclosed\n"  # an unclosed fence holding broken YAML
    facts = extract("docs/odd.md", odd)
    assert facts.parse_error is None  # snippets in docs are often fragments
    assert_every_line_spanned(facts, odd)


# ------------------------------------------------------------------------------------------------ .env, shell

ENV_FILE = """
# Deployment settings
GPU_MODEL=H200
export GPU_MEMORY_GB=141  # per GPU
PRICE="2.49"
NOTE='single # quoted'
CERT="line one
line two"
"""


def test_env_file() -> None:
    facts = facts_of("config/.env.production", ENV_FILE)
    assert facts.format == "env" and facts.parse_error is None
    assert at(facts, "GPU_MODEL") == ("H200", 2)
    assert at(facts, "GPU_MEMORY_GB") == (141, 3)
    assert at(facts, "PRICE") == (2.49, 4)
    assert assignment(facts, "PRICE").raw == '"2.49"'
    assert at(facts, "NOTE") == ("single # quoted", 5)
    cert = assignment(facts, "CERT")
    assert (cert.value, cert.line, cert.end_line) == ("line one\nline two", 6, 7)
    assert spans(facts, "comment") == [(1, "Deployment settings"), (3, "per GPU")]


def test_broken_env_file() -> None:
    broken = 'GPU=H200\nthis is not an assignment\nMODEL="open quote\nCOUNT=3\n'
    facts = extract(".env", broken)
    assert facts.parse_error is not None and "line 2" in facts.parse_error
    assert at(facts, "GPU") == ("H200", 1)
    assert at(facts, "COUNT") == (3, 4)  # an open quote does not swallow the lines after it
    assert_every_line_spanned(facts, broken, ("code",))


SHELL = """
#!/usr/bin/env bash
# Deploy vLLM on the GH200 node
set -euo pipefail
export GPU_MEMORY_GB=141   # per GPU
MODEL="meta-llama/Llama-3-70B"; readonly PRICE='2.49'
CUDA_VISIBLE_DEVICES=0,1 python serve.py --gpu-memory-utilization=0.9
echo "count: ${#GPUS[@]} # not a comment"
cat > .env <<EOF
# heredoc body is data, its comments are text
GPU=H200
EOF
"""


def test_shell_assignments_and_comments() -> None:
    facts = facts_of("scripts/deploy.sh", SHELL)
    assert facts.format == "shell" and facts.parse_error is None
    assert at(facts, "GPU_MEMORY_GB") == (141, 4)
    assert at(facts, "MODEL") == ("meta-llama/Llama-3-70B", 5)
    assert at(facts, "PRICE") == (2.49, 5)
    assert at(facts, "CUDA_VISIBLE_DEVICES") == ("0,1", 6)
    assert not [a for a in facts.assignments if "gpu-memory-utilization" in a.key_path[0]]
    assert not [a for a in facts.assignments if a.key_path == ("GPU",)]  # the heredoc body is no command
    assert spans(facts, "comment") == [(1, "!/usr/bin/env bash"), (2, "Deploy vLLM on the GH200 node"),
                                       (4, "per GPU"), (9, "heredoc body is data, its comments are text")]
    assert_every_line_spanned(facts, SHELL, ("code",))


def test_broken_shell() -> None:
    broken = 'echo "unterminated\nGPU=H200\n'
    facts = extract("run.sh", broken)
    assert facts.parse_error is not None and "unterminated" in facts.parse_error
    assert_every_line_spanned(facts, broken, ("code",))


# ------------------------------------------------------------------------------------------------ JSON, TOML


def test_json_leaves_and_lines() -> None:
    text = """
    {
      "name": "vllm",
      "gpu": {"model": "H200", "memory_gb": 141, "spot": false},
      "env": [
        {"name": "GPU_MEMORY_GB", "value": "141"}
      ]
    }
    """
    facts = facts_of("deploy.json", text)
    assert facts.parse_error is None
    assert at(facts, "gpu", "memory_gb") == (141, 3)
    assert at(facts, "gpu", "spot") == (False, 3)
    assert at(facts, "env", "0", "value") == ("141", 5)
    assert at(facts, "env", "GPU_MEMORY_GB") == ("141", 5)


def test_json_with_comments_is_not_an_error_but_broken_json_is() -> None:
    jsonc = extract("tsconfig.json", '{\n  // strict mode\n  "strict": true,\n}\n')
    assert jsonc.parse_error is None
    assert at(jsonc, "strict") == (True, 3)
    assert spans(jsonc, "comment") == [(2, "strict mode")]
    broken = extract("deploy.json", '{\n  "gpu": "H200",\n  "count": \n')
    assert broken.parse_error is not None
    assert at(broken, "gpu") == ("H200", 2)
    assert_every_line_spanned(broken, '{\n  "gpu": "H200",\n  "count": \n', ("code",))


def test_toml_tables_and_arrays_of_tables() -> None:
    text = """
    # Project
    [tool.align]
    gpu = "H200"  # the model
    pools = { active = 60, cache = 40 }
    [[deployments]]
    name = "prod"
    [[deployments]]
    sizes = [
      1,
      2,
    ]
    """
    facts = facts_of("pyproject.toml", text)
    assert facts.parse_error is None
    assert at(facts, "tool", "align", "gpu") == ("H200", 3)
    assert assignment(facts, "tool", "align", "gpu").raw == '"H200"'
    assert at(facts, "tool", "align", "pools", "cache") == (40, 4)
    assert at(facts, "deployments", "0", "name") == ("prod", 6)
    assert at(facts, "deployments", "1", "sizes", "1") == (2, 8)
    assert spans(facts, "comment") == [(1, "Project"), (3, "the model")]
    broken = extract("pyproject.toml", "[tool]\ngpu = \n")
    assert broken.parse_error is not None


# ------------------------------------------------------------------------------------------------ robustness

GARBAGE = [
    "",
    "\n\n",
    "\x00\x01\x02 binary \xff\ufffd",
    "{" * 5000,
    "[" * 5000 + "]" * 10,
    "a: " + "[" * 3000,
    "((((" * 2000,
    "x = " + "(" * 500 + "1" + ")" * 500,
    '"""unterminated docstring\n',
    "key: value\r\nother: 2\r\n",
    "- - - - -\n  ? complex\n  : key\n",
    "a: &a [*a]\n",
    "\u2028line separator\u2029\n",
    "echo $(date)#tag\nX=1 )#y\n",  # a `#` that starts no comment
]
PATHS = ["x.yaml", "x.py", "x.ts", "x.tsx", "x.js", "x.tf", "Dockerfile", "x.md", ".env", "x.sh", "x.json",
         "x.toml", "x.txt", "Makefile"]


@pytest.mark.parametrize("path", PATHS)
def test_extract_never_raises(path: str) -> None:
    for text in GARBAGE:
        facts = extract(path, text)
        assert facts.format == detect_format(path, text)
        assert all(span.line >= 1 for span in facts.spans)
        assert all(item.line >= 1 and item.end_line >= item.line for item in facts.assignments)


def test_yaml_alias_expansion_is_bounded() -> None:
    """A "billion laughs" document is read in bounded time and size."""
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]"
              for i in range(1, 12)]
    facts = extract("bomb.yaml", "\n".join(lines) + "\n")
    assert 9 <= len(facts.assignments) <= 20_000


def _string_end_by_character(text: str, position: int) -> int:
    """The one-character-at-a-time reading `clike._string_end` replaced with one regex match."""
    index = position
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] in '"\n':
            return index
        index += 1
    return len(text)


def test_a_c_string_ends_where_a_reading_one_character_at_a_time_says() -> None:
    import random

    from align.formats.clike import _string_end

    rnd = random.Random(4)
    for _ in range(50_000):  # quotes, escapes, line breaks and a backslash at the very end, in every order
        text = "".join(rnd.choice('ab "\\\n') for _ in range(rnd.randint(0, 12)))
        position = rnd.randint(0, len(text))
        assert _string_end(text, position, '"', raw=False) == _string_end_by_character(text, position), (text, position)
