"""Service settings from the environment (prefix `ALIGN_`) or a `.env` file.

Built by `get_settings()` and passed in explicitly: nothing reads settings from a global.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MAX_WEBHOOK_BYTES = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB


def _default_data_dir() -> Path:
    """$XDG_DATA_HOME/align, else ~/.local/share/align: where the embedded mode keeps its accepted jobs."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "align"


class SettingsError(ValueError):
    """Settings missing or invalid: the one-line reason is safe to print (it never holds a secret)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ALIGN_", env_file=".env", extra="ignore")

    app_id: int | None = None
    app_slug: str | None = None  # the bot login is "<slug>[bot]"; looked up with GET /app when not set
    private_key: SecretStr | None = None
    private_key_file: Path | None = None
    webhook_secret: SecretStr
    webhook_secret_file: Path | None = None  # read into webhook_secret when that is not set (Kubernetes Secrets)
    # Signs the state kept in the summary comment (waivers). Unset: derived from the webhook secret, so
    # rotating that secret forgets recorded waivers; set this to keep them across a rotation.
    state_secret: SecretStr | None = None
    github_api_url: str = "https://api.github.com"
    ca_bundle: Path | None = None  # GitHub Enterprise Server with a private CA

    queue: Literal["memory", "redis"] = "memory"
    redis_url: str = "redis://127.0.0.1:6379/0"
    queue_size: int = Field(default=1000, ge=1)
    # The embedded mode keeps accepted jobs here, so that a restart resumes them (ALIGN_DATA_DIR).
    data_dir: Path = Field(default_factory=_default_data_dir)
    job_store: Path | None = None  # the SQLite file (ALIGN_JOB_STORE); default: <data_dir>/jobs.sqlite3
    workers: int = Field(default=4, ge=1)  # reviews running at once (different pull requests)
    delivery_ttl_seconds: float = 24 * 3600
    max_body_bytes: int = MAX_WEBHOOK_BYTES
    # Deeper JSON answers 400 before it is parsed (GitHub's payloads nest about 8 levels).
    max_json_depth: int = Field(default=64, ge=8, le=512)

    inline_comment_limit: int = Field(default=30, ge=0)
    annotation_batch: int = Field(default=50, ge=1, le=50)
    max_annotations: int = Field(default=2500, ge=0)
    max_pull_files: int = 3000
    # Compressed download. 0: never download archives (GitHub redirects them to another host, codeload, that
    # an egress firewall may block); changed files are then read one by one.
    max_tarball_bytes: int = 200 * 1024 * 1024
    max_extracted_bytes: int = 512 * 1024 * 1024  # sum of the text files kept in memory

    seconds_between_requests: float = 0.25
    seconds_between_writes: float = 1.0
    request_timeout: int = 30
    retries: int = Field(default=3, ge=0)
    retry_backoff: float = 1.0  # seconds, doubled per attempt; 0 in tests
    max_rate_limit_wait: float = 900.0  # longer waits fail the call instead of holding a worker

    # Seconds a review may take from the moment a worker picks it up (ALIGN_REVIEW_DEADLINE). When it passes,
    # the check run completes with what was found so far and says where it stopped; the job is not retried.
    review_deadline: float = Field(default=120.0, gt=0)
    # How long one thread may hold the GIL before another gets it (sys.setswitchinterval), in the embedded
    # mode, where reviews run on threads beside the web tier. Python's 5 ms by default: 1 ms cut the p99 of
    # /healthz during heavy reviews to about 0.78x but made the reviews 1.1-1.2x slower (BENCHMARKS.md).
    switch_interval_ms: float = Field(default=5.0, gt=0, le=100)
    # Where a review's engine work runs (ALIGN_REVIEW_ISOLATION): "process", a process of its own that never
    # shares the GIL with the web tier and is terminated at the deadline; "thread", the worker's thread
    # (a review stuck in C code then keeps a CPU until it returns).
    review_isolation: Literal["process", "thread"] = "process"

    log_level: str = "INFO"

    @model_validator(mode="before")
    @classmethod
    def _load_secret_file(cls, data: Any) -> Any:
        """ALIGN_WEBHOOK_SECRET_FILE fills webhook_secret (before it is validated as required); a value
        given directly wins. The file's trailing newline is not part of the secret."""
        if not isinstance(data, dict) or data.get("webhook_secret") or not data.get("webhook_secret_file"):
            return data
        path = Path(str(data["webhook_secret_file"]))
        try:
            secret = path.read_text().rstrip("\r\n")
        except OSError as error:
            raise ValueError(f"cannot read ALIGN_WEBHOOK_SECRET_FILE {path}: {error.strerror}") from None
        return {**data, "webhook_secret": secret}

    @model_validator(mode="after")
    def _load_key_file(self) -> Settings:
        if self.private_key is None and self.private_key_file is not None:
            try:
                self.private_key = SecretStr(self.private_key_file.read_text())
            except OSError as error:
                reason = f"cannot read ALIGN_PRIVATE_KEY_FILE {self.private_key_file}: {error.strerror}"
                raise ValueError(reason) from None
        if not self.webhook_secret.get_secret_value():
            raise ValueError("ALIGN_WEBHOOK_SECRET is empty")
        return self

    @property
    def job_store_path(self) -> Path:
        return self.job_store if self.job_store is not None else self.data_dir / "jobs.sqlite3"

    @property
    def api_url(self) -> str:
        return self.github_api_url.rstrip("/")

    @property
    def state_key(self) -> bytes:
        """The key that signs the summary comment's state (see align.service.markers.StateSeal)."""
        from align.service.markers import derive_state_key

        secret = self.state_secret if self.state_secret is not None else self.webhook_secret
        return derive_state_key(secret.get_secret_value().encode())


def get_settings(**overrides: object) -> Settings:
    """Load settings; raise SettingsError with a readable reason (field names, never values)."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        reasons = []
        for issue in error.errors():
            field = ".".join(str(part) for part in issue["loc"]) or "settings"
            name = f"ALIGN_{field.upper()}" if issue["loc"] else field
            message = "is required" if issue["type"] == "missing" else issue["msg"]
            if name == "ALIGN_WEBHOOK_SECRET" and issue["type"] == "missing":
                name = "ALIGN_WEBHOOK_SECRET (or ALIGN_WEBHOOK_SECRET_FILE)"
            reasons.append(f"{name} {message}")
        raise SettingsError("invalid settings: " + "; ".join(reasons)) from None


class QueueSettings(BaseSettings):
    """What `align jobs` needs: the queue and where Redis is. No webhook secret or App key (listing jobs
    reads Redis only)."""

    model_config = SettingsConfigDict(env_prefix="ALIGN_", env_file=".env", extra="ignore")

    queue: Literal["memory", "redis"] = "memory"
    redis_url: str = "redis://127.0.0.1:6379/0"
    delivery_ttl_seconds: float = 24 * 3600

    @classmethod
    def load(cls) -> QueueSettings:
        try:
            return cls()
        except ValidationError as error:
            reasons = [f"ALIGN_{'.'.join(str(p) for p in issue['loc']).upper()} {issue['msg']}"
                       for issue in error.errors()]
            raise SettingsError("invalid settings: " + "; ".join(reasons)) from None
