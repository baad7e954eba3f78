"""Webhook deliveries: signature verification and routing an (event, payload) to the jobs it asks for.

Pure functions, no I/O: the HTTP layer (app.py) reads the body and the queue runs the jobs.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from align.service.commands import find_command_line
from align.service.jobs import Job

PULL_REQUEST_ACTIONS = frozenset({"opened", "synchronize", "reopened", "ready_for_review"})
RERUN_ACTION = "rerun"  # identifier of the check run's "Re-run" button


def signature_for(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(secret: bytes, body: bytes, header: str | None) -> bool:
    """`X-Hub-Signature-256` over the raw body, compared in constant time."""
    if not header:
        return False
    return hmac.compare_digest(signature_for(secret, body).encode(), header.strip().encode("utf-8", "replace"))


def _get(payload: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(payload, dict):
            return None
        payload = payload.get(key)
    return payload


def _pull_numbers(pulls: Any) -> list[int | None]:
    """Check runs on fork pushes carry no pull requests: the worker then looks them up by SHA."""
    numbers = [p.get("number") for p in pulls or [] if isinstance(p, dict) and isinstance(p.get("number"), int)]
    return list(numbers) if numbers else [None]


def _pull_facts(payload: Any) -> dict[str, str]:
    """What the worker needs to know about the pull request, so that it need not ask GitHub: its base and
    draft state, and for a push the head it replaced (`before`)."""
    facts = {"base_sha": _get(payload, "pull_request", "base", "sha"), "before": _get(payload, "before")}
    found = {key: value for key, value in facts.items() if isinstance(value, str) and value}
    draft = _get(payload, "pull_request", "draft")
    if isinstance(draft, bool):
        found["draft"] = "true" if draft else "false"
    return found


def route(event: str, payload: Any, delivery_id: str, app_id: int | None = None) -> list[Job]:
    """The jobs a delivery asks for; empty for events Align ignores."""
    action = _get(payload, "action")
    installation = _get(payload, "installation", "id")
    repository = _get(payload, "repository", "full_name")
    if not isinstance(installation, int) or not isinstance(repository, str) or not isinstance(action, str):
        return []

    def job(kind: str, pull: int | None, head: str | None, **extra: Any) -> Job:
        return Job(kind, delivery_id, f"{event}.{action}", installation, repository, pull, head, **extra)  # type: ignore[arg-type]

    if event == "pull_request":
        pull = _get(payload, "pull_request")
        changed_base = action == "edited" and _get(payload, "changes", "base") is not None
        if (action in PULL_REQUEST_ACTIONS or changed_base) and _get(pull, "state") != "closed":
            return [job("review", _get(pull, "number"), _get(pull, "head", "sha"), extra=_pull_facts(payload))]
        return []

    if event == "check_run":
        run = _get(payload, "check_run")
        if app_id is not None and _get(run, "app", "id") not in (None, app_id):
            return []  # another app's check run
        if action == "requested_action" and _get(payload, "requested_action", "identifier") != RERUN_ACTION:
            return []
        if action not in ("rerequested", "requested_action"):
            return []
        return [
            job("review", number, _get(run, "head_sha"), check_run_id=_get(run, "id"))
            for number in _pull_numbers(_get(run, "pull_requests"))
        ]

    if event == "check_suite" and action == "rerequested":
        suite = _get(payload, "check_suite")
        if app_id is not None and _get(suite, "app", "id") not in (None, app_id):
            return []  # another app's suite
        return [job("review", n, _get(suite, "head_sha")) for n in _pull_numbers(_get(suite, "pull_requests"))]

    if event == "issue_comment" and action == "created":
        if _get(payload, "issue", "pull_request") is None:
            return []  # a plain issue, not a pull request
        if _get(payload, "sender", "type") == "Bot" or _get(payload, "comment", "user", "type") == "Bot":
            return []  # bots, the app itself included, never command it
        line = find_command_line(_get(payload, "comment", "body") or "")
        if line is None:
            return []
        return [
            job(
                "command",
                _get(payload, "issue", "number"),
                None,
                comment_id=_get(payload, "comment", "id"),
                author=_get(payload, "comment", "user", "login"),
                command_text=line,
            )
        ]
    return []
