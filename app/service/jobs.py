"""What the web tier hands to workers, and the queue contract both queue backends implement.

INTERFACE CONTRACT shared by the embedded (memory) queue and the distributed (Redis) queue.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Literal, Protocol

JobKind = Literal["review", "command"]


@dataclass(frozen=True)
class Job:
    kind: JobKind
    delivery_id: str
    event: str  # "pull_request.synchronize", "issue_comment.created", "check_run.rerequested", ...
    installation_id: int
    repository: str  # "owner/name"
    pull_number: int | None  # None when it must be looked up (check_suite / check_run without PRs)
    head_sha: str | None
    # For commands: the comment id, author and text; for check_run events: the check run id.
    comment_id: int | None = None
    author: str | None = None
    command_text: str | None = None
    check_run_id: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def pull_key(self) -> str:
        """One review at a time per pull request; the newest head wins within a key."""
        return f"{self.installation_id}:{self.repository}#{self.pull_number or self.head_sha}"

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Job:
        return cls(**json.loads(raw))


class ReviewDeferred(Exception):
    """Raised by the job handler: GitHub's limits leave no room for this review before `until` (epoch). The
    queue keeps the job and runs it again then; its check run (when one could be written) says so."""

    def __init__(self, until: float) -> None:
        super().__init__(f"deferred until {until:.0f}")
        self.until = until


class QueueUnavailable(Exception):
    """The queue cannot accept work now: the webhook answers 503 so GitHub marks the delivery failed."""


class JobQueue(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def enqueue(self, job: Job) -> None:
        """Accept a job or raise QueueUnavailable. Must not do the review on the caller's task."""
        ...

    async def ready(self) -> bool:
        """For /readyz: can jobs be accepted and run?"""
        ...

    async def first_delivery(self, delivery_id: str) -> bool:
        """True the first time a delivery id is seen (redeliveries keep their id), False after."""
        ...

    def depth(self) -> int:
        """Jobs waiting (for metrics)."""
        ...
