"""Hidden HTML markers that let Align find what it posted before, and the state kept in its summary comment.

GitHub renders none of these. They make every write findable again: a re-run edits instead of posting
twice, and a write that failed with a 5xx is looked for before being sent again.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from app.findings import Waiver

SUMMARY_MARKER = "<!-- align:summary -->"
FIXED_PREFIX = "✅ **Fixed in"

_FP = re.compile(r"<!-- align:fp=([0-9A-Za-z_-]+) -->")
_STATE = re.compile(r"<!-- align:state (\{.*?\}) -->", re.DOTALL)


def fingerprint_marker(fingerprint: str) -> str:
    return f"<!-- align:fp={fingerprint} -->"


def review_marker(head_sha: str) -> str:
    return f"<!-- align:review head={head_sha} -->"


def reply_marker(comment_id: int | None, kind: str) -> str:
    return f"<!-- align:reply to={comment_id} {kind} -->"


def fingerprint_in(body: str | None) -> str | None:
    match = _FP.search(body or "")
    return match.group(1) if match else None


@dataclass(frozen=True)
class SummaryState:
    """What the sticky summary comment remembers between runs."""

    head: str | None = None  # the head the summary describes
    reviewed_head: str | None = None  # the head a review with inline comments was posted for
    waivers: tuple[Waiver, ...] = field(default=())

    def with_waiver(self, waiver: Waiver) -> SummaryState:
        kept = tuple(w for w in self.waivers if w.target != waiver.target)
        return SummaryState(self.head, self.reviewed_head, (*kept, waiver))

    def encode(self) -> str:
        data = {
            "v": 1,
            "head": self.head,
            "reviewed_head": self.reviewed_head,
            "waivers": [{"target": w.target, "author": w.author, "reason": w.reason} for w in self.waivers],
        }
        # Escaping < and > keeps a user's reason from closing the HTML comment; JSON reads them back.
        text = json.dumps(data, sort_keys=True).replace("<", "\\u003c").replace(">", "\\u003e")
        return f"<!-- align:state {text} -->"

    @classmethod
    def decode(cls, body: str | None) -> SummaryState:
        match = _STATE.search(body or "")
        if not match:
            return cls()
        try:
            data = json.loads(match.group(1))
            waivers = tuple(
                Waiver(str(w["target"]), str(w["author"]), str(w["reason"])) for w in data.get("waivers", [])
            )
            return cls(data.get("head"), data.get("reviewed_head"), waivers)
        except (ValueError, KeyError, TypeError, AttributeError):
            return cls()  # a damaged state is treated as none rather than failing the review
