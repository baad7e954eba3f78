"""Archive reading (files kept, what is skipped); JSON logs with context and no secrets; settings loading.
The archive's limits are tested in test_archive_limits.py."""

from __future__ import annotations

import io
import json
import logging
import tarfile
from pathlib import Path

import pytest

from align.service.logging_setup import JsonFormatter, log_context, redact
from align.service.settings import SettingsError, get_settings
from align.service.tarball import ArchiveLimits, ArchiveRefused, read_archive
from align.source import MAX_FILE_BYTES


def _archive(entries: list[tuple[str, bytes | None, bytes]]) -> bytes:
    """(name, content or None for a symlink, type) entries under GitHub's top folder."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content, kind in entries:
            info = tarfile.TarInfo(name)
            if kind == b"sym":
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
                tar.addfile(info)
            else:
                assert content is not None
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def test_archive_keeps_regular_files_only() -> None:
    data = _archive([
        ("octo-repo-abc/align.yaml", b"version: 1\n", b"file"),
        ("octo-repo-abc/src/app.py", b"print(1)\n", b"file"),
        ("octo-repo-abc/link", None, b"sym"),
        ("octo-repo-abc/../../escape", b"x", b"file"),
        ("octo-repo-abc/big.bin", b"x" * (MAX_FILE_BYTES + 10), b"file"),
    ])
    archive = read_archive([data], ArchiveLimits(kept=10 * MAX_FILE_BYTES))
    assert set(archive.files) == {"align.yaml", "src/app.py", "big.bin"}
    assert len(archive.files["big.bin"]) == MAX_FILE_BYTES + 1  # enough to be reported as too large


def test_archive_over_the_kept_bytes_is_refused_not_cut() -> None:
    data = _archive([(f"top/f{i}.txt", b"x" * 100, b"file") for i in range(10)])
    assert len(read_archive([data], ArchiveLimits(kept=1000)).files) == 10
    with pytest.raises(ArchiveRefused, match="more than 450 bytes of files"):
        read_archive([data], ArchiveLimits(kept=450))


def test_archive_over_the_compressed_limit_is_refused() -> None:
    data = _archive([("top/a.txt", b"x", b"file")])
    assert read_archive([data[:10], data[10:]], ArchiveLimits(compressed=len(data))).files == {"a.txt": b"x"}
    with pytest.raises(ArchiveRefused, match="compressed"):
        read_archive([data[:10], data[10:]], ArchiveLimits(compressed=len(data) - 1))


def test_json_logs_carry_context_and_hide_tokens() -> None:
    record = logging.LogRecord("align", logging.INFO, __file__, 1, "token ghs_abcdefghijklmnopqrstuvwxyz used", (),
                               None)
    with log_context(delivery="d-9", repository="octo/repo", pull=7):
        line = json.loads(JsonFormatter().format(record))
    assert (line["delivery"], line["repository"], line["pull"]) == ("d-9", "octo/repo", 7)
    assert "ghs_" not in line["message"]
    assert redact("GET /x?token=secret123&a=1") == "GET /x?token=[redacted]&a=1"
    assert redact("Authorization: Bearer eyJhbGciOi.JIUzI1.NiIsInR5") == "Authorization: Bearer [redacted]"


def test_settings_from_environment_and_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = tmp_path / "app.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n")
    monkeypatch.setenv("ALIGN_WEBHOOK_SECRET", "s3cret")
    monkeypatch.setenv("ALIGN_APP_ID", "12")
    monkeypatch.setenv("ALIGN_PRIVATE_KEY_FILE", str(key))
    monkeypatch.setenv("ALIGN_GITHUB_API_URL", "https://ghe.example.com/api/v3/")
    settings = get_settings(_env_file=None)
    assert settings.app_id == 12
    assert settings.private_key is not None and "abc" in settings.private_key.get_secret_value()
    assert settings.api_url == "https://ghe.example.com/api/v3"
    assert "s3cret" not in repr(settings) and "abc" not in repr(settings)


def test_settings_errors_name_fields_not_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALIGN_WEBHOOK_SECRET", "s3cret")
    monkeypatch.setenv("ALIGN_QUEUE", "kafka")
    with pytest.raises(SettingsError) as error:
        get_settings(_env_file=None)
    assert "ALIGN_QUEUE" in str(error.value) and "s3cret" not in str(error.value)
    monkeypatch.setenv("ALIGN_QUEUE", "memory")
    monkeypatch.setenv("ALIGN_PRIVATE_KEY_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(SettingsError, match="cannot read ALIGN_PRIVATE_KEY_FILE"):
        get_settings(_env_file=None)


def test_env_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tmp_path / ".env"
    env.write_text("ALIGN_WEBHOOK_SECRET=from-file\nALIGN_INLINE_COMMENT_LIMIT=5\n")
    monkeypatch.delenv("ALIGN_WEBHOOK_SECRET", raising=False)
    settings = get_settings(_env_file=str(env))
    assert settings.webhook_secret.get_secret_value() == "from-file" and settings.inline_comment_limit == 5


def test_webhook_secret_from_a_mounted_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Kubernetes mounts the Secret as a file; its trailing newline is not part of the secret."""
    monkeypatch.delenv("ALIGN_WEBHOOK_SECRET", raising=False)
    secret = tmp_path / "webhook-secret"
    secret.write_text("mounted-s3cret\n")
    monkeypatch.setenv("ALIGN_WEBHOOK_SECRET_FILE", str(secret))
    assert get_settings(_env_file=None).webhook_secret.get_secret_value() == "mounted-s3cret"
    monkeypatch.setenv("ALIGN_WEBHOOK_SECRET", "direct")  # a value given directly wins
    assert get_settings(_env_file=None).webhook_secret.get_secret_value() == "direct"
    monkeypatch.delenv("ALIGN_WEBHOOK_SECRET")
    monkeypatch.setenv("ALIGN_WEBHOOK_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(SettingsError, match="cannot read ALIGN_WEBHOOK_SECRET_FILE") as error:
        get_settings(_env_file=None)
    assert "mounted-s3cret" not in str(error.value)
    secret.write_text("\n")
    monkeypatch.setenv("ALIGN_WEBHOOK_SECRET_FILE", str(secret))
    with pytest.raises(SettingsError, match="empty"):
        get_settings(_env_file=None)
