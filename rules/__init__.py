"""The built-in rules, one per file. Third-party rules register through the `align.rules` entry points."""

from rules.arch_mismatch import ArchMismatch
from rules.arithmetic_error import ArithmeticError_
from rules.capacity_mismatch import CapacityMismatch
from rules.cost_mismatch import CostMismatch
from rules.gpu_memory_mismatch import GpuMemoryMismatch
from rules.gpu_memory_overcommit import GpuMemoryOvercommit
from rules.gpu_model_mismatch import GpuModelMismatch
from rules.manifest_changed import ManifestChanged
from rules.manifest_invalid import ManifestInvalid
from rules.retired_secret import RetiredSecret
from rules.stale_reference import StaleReference
from rules.unknown_gpu_model import UnknownGpuModel

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
