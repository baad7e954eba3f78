"""Failures on demand: server errors, secondary rate limits, slow answers, dropped connections, and the
"write stored, then 502" trap that makes naive retries post duplicates."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field


@dataclass
class Fault:
    method: str  # "GET", "POST"... or "*"
    path: re.Pattern[str]
    status: int | None = None
    times: int | None = 1  # None = every matching request until removed
    retry_after: int | None = None
    delay: float = 0.0
    drop_connection: bool = False
    after_write: bool = False
    expire_tokens: bool = False  # the request finds the installation tokens issued so far expired
    skip: int = 0  # matching requests let through before the fault fires
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method == "*" or self.method == method.upper()) and self.path.search(path) is not None

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times


@dataclass
class Faults:
    """Registered faults; the first live one matching a request fires (and counts down)."""

    _faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, fault: Fault) -> Fault:
        if fault.after_write and fault.status is None:
            fault.status = 502
        if fault.expire_tokens and (fault.status is not None or fault.delay or fault.drop_connection):
            raise ValueError("expire_tokens is a fault of its own: GitHub's answer (401) follows from it")
        if fault.status is None and not fault.delay and not fault.drop_connection and not fault.expire_tokens:
            raise ValueError("a fault needs a status, a delay, drop_connection or expire_tokens")
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str, expire_tokens: bool = False) -> Fault | None:
        """The fault for this request; with `expire_tokens`, only a token-expiring one (taken before the
        request is authenticated, the others after)."""
        with self._lock:
            for fault in self._faults:
                if fault.expire_tokens == expire_tokens and not fault.exhausted and fault.matches(method, path):
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    fault.hits += 1
                    return fault
        return None

    def remove(self, fault: Fault) -> None:
        with self._lock:
            if fault in self._faults:
                self._faults.remove(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
