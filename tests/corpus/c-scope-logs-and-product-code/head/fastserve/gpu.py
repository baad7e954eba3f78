"""Pick the attention backend and memory defaults from the GPU found at start-up."""

SUPPORTED_GPUS = ("T4", "A10G", "L4", "L40S", "A100", "H100", "H200", "GH200", "B200")


def attention_backend(device_name: str) -> str:
    name = device_name.upper()
    if "GH200" in name or "H200" in name or "H100" in name:
        return "flash-attn-3"
    elif "L40S" in name or "A100" in name or "A10G" in name or "L4" in name:
        return "flash-attn-2"
    elif "T4" in name:
        return "xformers"  # Turing: no FlashAttention-2
    return "sdpa"


def default_cache_fraction(total_memory_gb: float) -> float:
    if total_memory_gb <= 16:  # T4
        return 0.80
    if total_memory_gb <= 48:  # A10G, L4, L40S
        return 0.88
    return 0.92  # A100 80GB, H100, H200, B200
