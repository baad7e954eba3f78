"""Prometheus metrics, one registry per app instance (tests build many apps in one process).

Label values come from fixed sets, never from a request: a delivery is counted under its event name only
when that name is one Align knows (`event_label`) and only after its signature is verified; before that
every delivery counts as `unverified`, a series that exists from the start. So no request, signed or not,
can add series (and memory, and scrape time) to /metrics.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from align.findings import Finding

__all__ = ["CONTENT_TYPE_LATEST", "EVENTS", "OUTCOMES", "UNVERIFIED", "Metrics", "event_label"]

# The events the App subscribes to (deploy/github-app-manifest.json), and ping; any other name is "other".
EVENTS = frozenset({"pull_request", "issue_comment", "check_run", "check_suite", "installation",
                    "installation_repositories", "ping"})
OTHER = "other"
UNVERIFIED = "unverified"  # the event label of a delivery whose signature was not (yet) verified
OUTCOMES = frozenset({"too_large", "bad_signature", "malformed", "ignored", "duplicate", "unavailable", "queued"})
_BEFORE_VERIFICATION = ("too_large", "bad_signature")


def event_label(event: str) -> str:
    return event if event in EVENTS else OTHER


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.deliveries = Counter(
            "align_webhook_deliveries", "Webhook deliveries by event and outcome", ["event", "outcome"], registry=r
        )
        for outcome in _BEFORE_VERIFICATION:  # there from the start: unsigned requests change only their values
            self.deliveries.labels(UNVERIFIED, outcome)
        self.queue_depth = Gauge("align_queue_depth", "Jobs waiting in the queue", registry=r)
        self.jobs = Counter("align_jobs", "Jobs handled by kind and outcome", ["kind", "outcome"], registry=r)
        self.review_duration = Histogram(
            "align_review_duration_seconds",
            "Time from job start to the completed check run",
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
            registry=r,
        )
        self.github_calls = Counter(
            "align_github_calls", "GitHub API requests by method and status class", ["method", "status"], registry=r
        )
        self.rate_limit_remaining = Gauge(
            "align_github_rate_limit_remaining", "Last x-ratelimit-remaining seen, per installation",
            ["installation"], registry=r,
        )
        self.findings = Counter("align_findings", "Findings reported by rule and severity", ["rule", "severity"],
                                registry=r)

    def delivery(self, event: str, outcome: str) -> None:
        """Count one delivery: `event` a label from `event_label` (or UNVERIFIED), `outcome` from OUTCOMES."""
        if outcome not in OUTCOMES or (event != UNVERIFIED and event_label(event) != event):
            raise ValueError(f"unbounded metric label: {event!r}/{outcome!r}")
        self.deliveries.labels(event, outcome).inc()

    def track_queue(self, depth: Callable[[], int]) -> None:
        """Read the queue depth at scrape time rather than keeping a copy in sync."""
        self.queue_depth.set_function(lambda: float(depth()))

    # The GitHub gateway calls these (it knows nothing of Prometheus).
    def observe_call(self, method: str, status: int | None, installation: int | None, remaining: int | None) -> None:
        status_class = "error" if status is None else f"{status // 100}xx"
        self.github_calls.labels(method, status_class).inc()
        if installation is not None and remaining is not None:
            self.rate_limit_remaining.labels(str(installation)).set(remaining)

    def observe_findings(self, findings: Iterable[Finding]) -> None:
        for finding in findings:
            self.findings.labels(finding.rule, finding.severity.value).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
