"""The built-in rules, one per file. Third-party rules register through the `align.rules` entry points."""

from align.rules.arch_mismatch import ArchMismatch
from align.rules.arithmetic_error import ArithmeticError_
from align.rules.capacity_mismatch import CapacityMismatch
from align.rules.cost_mismatch import CostMismatch
from align.rules.gpu_memory_mismatch import GpuMemoryMismatch
from align.rules.gpu_memory_overcommit import GpuMemoryOvercommit
from align.rules.gpu_model_mismatch import GpuModelMismatch
from align.rules.manifest_changed import ManifestChanged
from align.rules.manifest_invalid import ManifestInvalid
from align.rules.retired_secret import RetiredSecret
from align.rules.stale_reference import StaleReference
from align.rules.unknown_gpu_model import UnknownGpuModel

BUILTIN_RULES = (
    GpuModelMismatch,
    UnknownGpuModel,
    GpuMemoryMismatch,
    GpuMemoryOvercommit,
    CapacityMismatch,
    CostMismatch,
    ArchMismatch,
    RetiredSecret,
    ArithmeticError_,
    ManifestChanged,
    StaleReference,
    ManifestInvalid,
)
