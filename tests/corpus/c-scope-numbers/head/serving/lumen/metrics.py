"""Engine counters scraped by the /metrics endpoint."""

from dataclasses import dataclass


@dataclass
class EngineStats:
    num_requests_running: int = 0
    num_requests_waiting: int = 0
    gpu_cache_usage_perc: float = 0.0
    gpu_prefix_cache_queries_total: int = 0
    gpu_prefix_cache_hits_total: int = 0
    num_preemptions_total: int = 0

    @property
    def prefix_cache_hit_rate(self) -> float:
        if not self.gpu_prefix_cache_queries_total:
            return 0.0
        return self.gpu_prefix_cache_hits_total / self.gpu_prefix_cache_queries_total
