"""Shared fixtures for the service tests: settings, signing, an App key pair, a running stack."""

from __future__ import annotations

import functools
import json
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from align.service.settings import Settings
from align.service.webhook import signature_for
from align.simulator.auth import generate_app_key_pair

if TYPE_CHECKING:
    from .stack import Stack

SECRET = "test-webhook-secret"




# One key for the whole session: generating RSA keys is slow, and the benchmarks import it too.
_key_pair = functools.cache(generate_app_key_pair)


@pytest.fixture(scope="session")
def app_key() -> tuple[str, str]:
    """(private PEM, public PEM) for the App's JWTs."""
    return _key_pair()


@pytest.fixture
def stack(app_key: tuple[str, str]) -> Iterator[Stack]:
    """The service on the embedded queue against a GitHub simulator holding the example repository, stopped
    after the test. A module that needs other settings defines its own `stack`."""
    from .stack import start_stack, stop_stack  # stack.py imports this module: not at import time

    running = start_stack(*app_key)
    yield running
    stop_stack(running)


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "webhook_secret": SECRET,
        "app_id": 1,
        "app_slug": "align",
        "private_key": _key_pair()[0],
        "seconds_between_requests": 0,
        "seconds_between_writes": 0,
        "retry_backoff": 0,
        "workers": 2,
        "data_dir": tempfile.mkdtemp(prefix="align-data-"),  # never another test's (or a user's) job store
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def signed(payload: Any, event: str, delivery: str = "d-1", secret: str = SECRET) -> dict[str, Any]:
    """Keyword arguments for an httpx/TestClient POST of a signed delivery."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return {
        "content": body,
        "headers": {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": signature_for(secret.encode(), body),
            "Content-Type": "application/json",
        },
    }


def pr_payload(action: str = "opened", number: int = 7, head: str = "a" * 40, **extra: Any) -> dict[str, Any]:
    payload = {
        "action": action,
        "number": number,
        "pull_request": {"number": number, "state": "open", "draft": False, "head": {"sha": head},
                         "base": {"sha": "b" * 40}},
        "repository": {"full_name": "octo/repo"},
        "installation": {"id": 42},
        "sender": {"login": "alice", "type": "User"},
    }
    payload.update(extra)
    return payload
