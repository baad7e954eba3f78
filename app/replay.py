"""`align replay PAYLOAD.json --event NAME`: send a saved webhook payload, signed, to a running service.

Like `probot receive`: the body is sent byte for byte as saved, so the signature matches what GitHub
would have sent; a fresh delivery id is used unless one is given (a repeated id is dropped as a
redelivery, which is how to test that).
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import TextIO

import httpx

from align.service.settings import Settings
from align.service.webhook import signature_for

DEFAULT_URL = "http://127.0.0.1:8000/api/github/webhooks"


def replay(
    payload_path: str | Path,
    event: str,
    url: str = DEFAULT_URL,
    secret: str | Settings = "",
    *,
    delivery: str | None = None,
    out: TextIO | None = None,
    timeout: float = 15.0,
) -> int:
    """Exit status: 0 when the service answered 2xx, 1 otherwise, 2 when the payload cannot be read.
    `secret` is the webhook secret, or the service Settings that carry it."""
    out = out or sys.stdout
    if isinstance(secret, Settings):
        secret = secret.webhook_secret.get_secret_value()
    try:
        body = Path(payload_path).read_bytes()
    except OSError as error:
        print(f"cannot read {payload_path}: {error.strerror}", file=sys.stderr)
        return 2
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/align-replay",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": signature_for(secret.encode(), body),
    }
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=timeout)
    except httpx.HTTPError as error:
        print(f"cannot reach {url}: {type(error).__name__}", file=sys.stderr)
        return 1
    print(f"{response.status_code} {response.text.strip()}", file=out)
    return 0 if response.is_success else 1
