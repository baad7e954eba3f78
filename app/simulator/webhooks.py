"""Webhook deliveries as GitHub makes them: signed raw JSON, GitHub's headers, a 10 s wait for an answer."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

DELIVERY_TIMEOUT = 10.0  # GitHub marks a delivery failed after 10 s without a 2xx


def sign(secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 value: sha256= + hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign_sha1(secret: str, body: bytes) -> str:
    """The legacy X-Hub-Signature header GitHub still sends."""
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


@dataclass
class Delivery:
    id: str
    event: str
    action: str | None
    body: bytes
    status: int | None = None  # None: no HTTP answer (timeout, refused)
    error: str | None = None
    attempts: int = 0

    @property
    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class WebhookSender:
    url: str | None = None
    secret: str | None = None
    hook_id: int = 0
    app_id: int = 0
    deliveries: list[Delivery] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _client: httpx.Client | None = None

    def _http(self) -> httpx.Client:
        # One client (building an SSL context costs ~0.1 s); no keep-alive, a fresh connection per delivery
        # like GitHub's, so a restarted receiver never meets a stale pooled socket.
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(timeout=DELIVERY_TIMEOUT, limits=httpx.Limits(max_keepalive_connections=0))
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def configure(self, url: str | None, secret: str | None, hook_id: int, app_id: int) -> None:
        self.url, self.secret, self.hook_id, self.app_id = url, secret, hook_id, app_id

    def deliver(self, event: str, payload: dict[str, Any], delivery_id: str | None = None) -> Delivery:
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        delivery = Delivery(delivery_id or str(uuid.uuid4()), event, payload.get("action"), body)
        with self._lock:
            self.deliveries.append(delivery)
        self._send(delivery)
        return delivery

    def redeliver(self, delivery_id: str) -> Delivery:
        with self._lock:
            original = next((d for d in reversed(self.deliveries) if d.id == delivery_id), None)
        if original is None:
            raise KeyError(delivery_id)
        self._send(original)
        return original

    def _send(self, delivery: Delivery) -> None:
        if self.url is None:
            raise RuntimeError("configure_webhook(url, secret) first")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/simulator",
            "X-GitHub-Event": delivery.event,
            "X-GitHub-Delivery": delivery.id,
            "X-GitHub-Hook-ID": str(self.hook_id),
            "X-GitHub-Hook-Installation-Target-Type": "integration",
            "X-GitHub-Hook-Installation-Target-ID": str(self.app_id),
        }
        if self.secret:
            headers["X-Hub-Signature"] = sign_sha1(self.secret, delivery.body)
            headers["X-Hub-Signature-256"] = sign(self.secret, delivery.body)
        delivery.attempts += 1
        try:
            response = self._http().post(self.url, content=delivery.body, headers=headers)
            delivery.status, delivery.error = response.status_code, None
        except httpx.HTTPError as exc:
            delivery.status, delivery.error = None, f"{type(exc).__name__}: {exc}"
