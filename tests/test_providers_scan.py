"""Provider and vendor evidence searched only around keywords finds what a search of the whole text finds."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from align.scope import providers
from align.scope.providers import _combined, _first_named, _vendor_combined

# Words and shapes the patterns are made of, and ordinary text around them.
_FRAGMENTS = [
    "AWS", "aws", "Amazon", "Web", "Services", "EC2", "EKS", "eksctl", "Linux", "karpenter.k8s.aws", "amazonaws.com",
    "arn:aws", "aws_instance", "s3", "iam", "configure", "p4d.24xlarge", "p5.48xlarge", "g5.xlarge", "g6e.2xlarge",
    "inf2.xlarge", "trn1.32xlarge", "trn1n.32xlarge", "ml.p4d.24xlarge", "ml.g5.12xlarge", "SageMaker", "HyperPod",
    "GCP", "Google", "Cloud", "GKE", "gcloud", "googleapis.com", "cloud.google.com", "google_container", "Vertex",
    "AI", "VertexAI", "GCE", "Compute", "Engine", "gke-accelerator", "a2-highgpu-1g", "a3-megagpu-8g",
    "a4-highgpu-8g", "g2-standard-8", "us-central1", "europe-west4", "asia-southeast1", "northamerica-northeast2",
    "Azure", "AKS", "azurerm", "az", "aks", "vm", "group", "ml", "login", "Standard_ND96asr_v4",
    "Standard_NC24ads_A100_v4", "ND96amsr_A100_v4", "NC6s_v3", "NV36ads_A10_v5", "AzureML", "azure.com", "eastus",
    "westus2", "southcentralus", "OCI", "Oracle", "OKE", "BM.GPU.H100.8", "VM.GPU.A10.1", "Lambda", "Labs", "GPU",
    "lambdalabs", "lambda_labs", "lambdalabs.com", "lambda.ai", "gpu_1x_gh200", "gpu_8x_h100_sxm5", "CoreWeave",
    "coreweave", "RunPod", "runpod", "Nebius", "nebius", "Vast.ai", "vastai", "Paperspace", "paperspace", "Crusoe",
    "FluidStack", "fluidstack", "DataCrunch", "datacrunch", "DigitalOcean", "digitalocean", "IBM", "vSphere",
    "VMware", "vsphere", "govc", "vsphere_vm", "NVCF", "nvcf", "DGX", "Functions", "Function", "Alibaba", "Aliyun",
    "aliyun", "CUDA", "NVIDIA", "nvidia-smi", "cuDNN", "NCCL", "nvidia.com/gpu", "TensorRT", "ROCm", "rocm", "AMD",
    "Instinct", "amd.com/gpu", "RCCL", "Gaudi2", "Habana", "HPUs", "XPU", "Intel", "Data", "Center", "TPU", "TPUs",
    "Inferentia2", "Trainium", "Neuron", "NeuronCores", "large", "xlarge", "east", "gpu", "standard",
    "replicas", "image", "nodeSelector", "name", "value", "the", "runs", "on", "H100", "GH200", "x", "v4", "_v",
]
_GLUE = [" ", " ", " ", "\n", "-", "_", ".", "/", ":", ", ", "  ", "\t", "=", '"', "(", ")", "", "#", "x"]


@pytest.mark.parametrize(("pattern", "keywords"), [
    (_combined, providers._TEXT_KEYWORDS), (_vendor_combined, providers._VENDOR_KEYWORDS)])
def test_the_search_around_keywords_finds_what_the_whole_text_search_finds(
    pattern: Callable[[], re.Pattern[str]], keywords: re.Pattern[str]
) -> None:
    rng = random.Random(11)
    for _ in range(3_000):
        text = "".join(rng.choice(_FRAGMENTS) + rng.choice(_GLUE) for _ in range(rng.randint(1, 60)))
        assert _first_named(pattern(), text, keywords) == _first_named(pattern(), text), text


def test_every_fragment_that_names_a_provider_holds_a_keyword() -> None:
    for fragment in _FRAGMENTS:
        named = _first_named(_combined(), fragment) or _first_named(_vendor_combined(), fragment)
        if named:
            assert providers._TEXT_KEYWORDS.search(fragment) or providers._VENDOR_KEYWORDS.search(fragment), fragment


def test_the_repository_s_own_texts_read_the_same() -> None:
    root = Path(__file__).resolve().parent.parent
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in sorted((root / "tests" / "corpus").rglob("*"))
             if p.is_file() and p.stat().st_size < 200_000]
    texts += [p.read_text(encoding="utf-8") for p in sorted((root / "app" / "scope").glob("*.py"))]
    assert len(texts) > 20
    for text in texts:
        for pattern, keywords in ((_combined(), providers._TEXT_KEYWORDS),
                                  (_vendor_combined(), providers._VENDOR_KEYWORDS)):
            assert _first_named(pattern, text, keywords) == _first_named(pattern, text)
