"""Hidden HTML markers that let Align find what it posted before, and the state kept in its summary comment.

GitHub renders none of these. They make every write findable again: a re-run edits instead of posting
twice, and a write that failed with a 5xx is looked for before being sent again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

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


CommentStatus = Literal["open", "fixed", "waived"]
_STATUS_CODES: dict[str, CommentStatus] = {"o": "open", "f": "fixed", "w": "waived"}
# Beyond this many inline comments the state would crowd the report out of the comment: not recorded, so
# every run lists the review comments instead.
MAX_POSTED = 1000


@dataclass(frozen=True)
class SummaryState:
    """What the sticky summary comment remembers between runs.

    `posted` is every inline comment Align has on the pull request (fingerprint -> status), as of the run
    that wrote this state, so that a run need not list the review comments. None when unknown (an older
    state, too many comments, or a write that may have half-happened): the run lists them instead."""

    head: str | None = None  # the head the summary describes
    reviewed_head: str | None = None  # the head a review with inline comments was posted for
    waivers: tuple[Waiver, ...] = field(default=())
    posted: tuple[tuple[str, CommentStatus], ...] | None = None  # sorted (fingerprint, status) pairs

    def with_waiver(self, waiver: Waiver) -> SummaryState:
        kept = tuple(w for w in self.waivers if w.target != waiver.target)
        return replace(self, waivers=(*kept, waiver))

    def with_posted(self, posted: Mapping[str, CommentStatus] | None) -> SummaryState:
        pairs = tuple(sorted(posted.items())) if posted is not None and len(posted) <= MAX_POSTED else None
        return replace(self, posted=pairs)

    def posted_map(self) -> dict[str, CommentStatus] | None:
        return dict(self.posted) if self.posted is not None else None

    def encode(self) -> str:
        data: dict[str, object] = {
            "v": 1,
            "head": self.head,
            "reviewed_head": self.reviewed_head,
            "waivers": [{"target": w.target, "author": w.author, "reason": w.reason} for w in self.waivers],
        }
        if self.posted is not None:  # one letter per status: the state shares the comment's 65,535 characters
            data["posted"] = {fp: status[0] for fp, status in self.posted}
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
            posted = data.get("posted")
            pairs = None if not isinstance(posted, dict) else tuple(
                sorted((str(fp), _STATUS_CODES[str(code)]) for fp, code in posted.items()))
            return cls(data.get("head"), data.get("reviewed_head"), waivers, pairs)
        except (ValueError, KeyError, TypeError, AttributeError):
            return cls()  # a damaged state is treated as none rather than failing the review
