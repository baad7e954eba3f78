"""Hidden HTML markers that let Align find what it posted before, and the state kept in its summary comment.

GitHub renders none of these. They make every write findable again: a re-run edits instead of posting
twice, and a write that failed with a 5xx is looked for before being sent again.

Only the bot's own comments are read for markers (`authored_by`), and nothing Align renders from a
repository can contain `<!--` (align.report.untrusted), so no file name or `align.yaml` value can pass
for a marker. The summary's state, which carries waivers, is also signed (`StateSeal`): it is accepted
only as the one state marker at the very end of the comment, with a valid signature for its pull request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from align.findings import Waiver

log = logging.getLogger("align.markers")

SUMMARY_MARKER = "<!-- align:summary -->"
STATE_OPENING = "<!-- align:state"
FIXED_PREFIX = "✅ **Fixed in"
STATE_VERSION = 2

_FP = re.compile(r"<!-- align:fp=([0-9A-Za-z_-]+) -->")
_STATE = re.compile(r"<!-- align:state v2 mac=([0-9a-f]{64}) (\{[^\n]*\}) -->")


def authored_by(item: Mapping[str, Any], bot_login: str) -> bool:
    """Written by this app: its bot user (`<slug>[bot]`, a login no person can have, of type Bot), and,
    when GitHub names the app that performed it, this app."""
    user = item.get("user") or {}
    if user.get("login") != bot_login or user.get("type", "Bot") != "Bot":
        return False
    app = item.get("performed_via_github_app")
    return not isinstance(app, Mapping) or not app.get("slug") or f"{app['slug']}[bot]" == bot_login


@dataclass(frozen=True)
class StateSeal:
    """Signs the summary's state for one pull request (HMAC-SHA256), so that only this service can write a
    state it will read back: one copied from another pull request, or written by anyone else, is refused.

    `key` comes from the service's settings (`Settings.state_key`: ALIGN_STATE_SECRET, else derived from
    the webhook secret); `scope` names the pull request."""

    key: bytes
    scope: str

    @classmethod
    def for_pull(cls, key: bytes, repository: str, number: int) -> StateSeal:
        return cls(key, f"{repository.lower()}#{number}")

    def mac(self, payload: str) -> str:
        return hmac.new(self.key, f"{self.scope}\n{payload}".encode(), hashlib.sha256).hexdigest()


def derive_state_key(secret: bytes) -> bytes:
    """The state's signing key, derived from a secret (never the secret itself)."""
    return hmac.new(secret, b"align summary state v2", hashlib.sha256).digest()


def report_part(body: str) -> str:
    """The summary comment without its markers: what the report said."""
    return body.rpartition(SUMMARY_MARKER)[0].rstrip() if SUMMARY_MARKER in body else body.rstrip()


def is_summary(body: str | None) -> bool:
    """A summary comment ends with the summary marker and its state (a reply quoting the marker does not)."""
    text = (body or "").rstrip()
    if SUMMARY_MARKER not in text:
        return False
    tail = text.rpartition(SUMMARY_MARKER)[2].strip()
    return tail == "" or (tail.startswith(STATE_OPENING) and tail.count("\n") == 0 and tail.endswith("-->"))


def fingerprint_marker(fingerprint: str) -> str:
    return f"<!-- align:fp={fingerprint} -->"


def review_marker(head_sha: str) -> str:
    return f"<!-- align:review head={head_sha} -->"


def reply_marker(comment_id: int | None, kind: str) -> str:
    return f"<!-- align:reply to={comment_id} {kind} -->"


def fingerprint_in(body: str | None) -> str | None:
    """The fingerprint of an inline comment: its last marker (Align appends it after everything else)."""
    found = _FP.findall(body or "")
    return found[-1] if found else None


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

    def encode(self, seal: StateSeal) -> str:
        data: dict[str, object] = {
            "v": STATE_VERSION,
            "head": self.head,
            "reviewed_head": self.reviewed_head,
            "waivers": [{"target": w.target, "author": w.author, "reason": w.reason} for w in self.waivers],
        }
        if self.posted is not None:  # one letter per status: the state shares the comment's 65,535 characters
            data["posted"] = {fp: status[0] for fp, status in self.posted}
        # Escaping < and > keeps a user's reason from closing the HTML comment or opening a marker; JSON
        # reads them back.
        text = json.dumps(data, sort_keys=True).replace("<", "\\u003c").replace(">", "\\u003e")
        return f"{STATE_OPENING} v{STATE_VERSION} mac={seal.mac(text)} {text} -->"

    @classmethod
    def decode(cls, body: str | None, seal: StateSeal) -> SummaryState:
        """The state at the end of the summary comment `body`; an empty state when there is none, when it is
        not the only state marker and the last thing in the comment, or when its signature fails (forged,
        copied from another pull request, damaged, or written before states were signed)."""
        text = (body or "").rstrip()
        if STATE_OPENING not in text:
            return cls()
        tail = text.rpartition(SUMMARY_MARKER)[2].strip()
        match = _STATE.fullmatch(tail)
        if text.count(STATE_OPENING) != 1 or text.count(SUMMARY_MARKER) != 1 or match is None \
                or not hmac.compare_digest(match.group(1), seal.mac(match.group(2))):
            log.warning("summary state refused (not the comment's one signed state): waivers and posted "
                        "comments are not taken from it")
            return cls()
        try:
            data = json.loads(match.group(2))
            if data.get("v") != STATE_VERSION:
                return cls()
            waivers = tuple(
                Waiver(str(w["target"]), str(w["author"]), str(w["reason"])) for w in data.get("waivers", [])
            )
            posted = data.get("posted")
            pairs = None if not isinstance(posted, dict) else tuple(
                sorted((str(fp), _STATUS_CODES[str(code)]) for fp, code in posted.items()))
            return cls(data.get("head"), data.get("reviewed_head"), waivers, pairs)
        except (ValueError, KeyError, TypeError, AttributeError):
            return cls()  # a damaged state is treated as none rather than failing the review
