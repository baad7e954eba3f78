"""The embedded mode survives being killed (issue 8, item 13): a real `align serve` process, SIGKILLed while a
review is under way against the GitHub simulator, is started again on the same data directory; it resumes
the accepted job from its SQLite store and completes the check run it left in progress."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from align.simulator import Simulator
from tests.helpers import GH200_MANIFEST

from .conftest import SECRET

REPO = "acme/inference"
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


class Serve:
    """`align serve` as its own OS process, on one port and one data directory."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, command: list[str] | None = None) -> None:
        """`command`: another way to run the service on this port (the benchmarks scale GitHub's limits)."""
        command = command or [sys.executable, "-c", "from align.cli import main; raise SystemExit(main())", "serve",
                              "--port", str(self.port)]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        _wait(self._up, 30, f"align serve did not start:\n{self.log.read_text()[-3000:]}")

    def _up(self) -> bool:
        assert self.process is not None and self.process.poll() is None, self.log.read_text()[-3000:]
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture
def world(app_key: tuple[str, str], tmp_path: Path) -> Iterator[tuple[Simulator, Serve, Path]]:
    private, public = app_key
    sim = Simulator()
    url = sim.start()
    sim.register_app(1, public, "align")
    installation = sim.create_installation("acme")
    sim.create_repo(REPO, {"align.yaml": GH200_MANIFEST, "README.md": "# Inference\n"}, installation)
    (tmp_path / "key.pem").write_text(private)
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALIGN_")}
    env.update({
        "ALIGN_APP_ID": "1", "ALIGN_APP_SLUG": "align", "ALIGN_PRIVATE_KEY_FILE": str(tmp_path / "key.pem"),
        "ALIGN_WEBHOOK_SECRET": SECRET, "ALIGN_GITHUB_API_URL": url, "ALIGN_DATA_DIR": str(data),
        "ALIGN_SECONDS_BETWEEN_REQUESTS": "0", "ALIGN_SECONDS_BETWEEN_WRITES": "0", "ALIGN_RETRY_BACKOFF": "0",
        "ALIGN_LOG_LEVEL": "INFO",
    })
    serve = Serve(env, _free_port(), tmp_path / "serve.log")
    sim.configure_webhook(f"http://127.0.0.1:{serve.port}/api/github/webhooks", SECRET)
    try:
        yield sim, serve, data
    finally:
        serve.stop()
        sim.stop()


def _stored_jobs(data: Path) -> int:
    with sqlite3.connect(data / "jobs.sqlite3") as db:
        return int(db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])


def test_serve_killed_mid_review_resumes_the_job_after_a_restart_and_completes_its_check_run(
    world: tuple[Simulator, Serve, Path],
) -> None:
    sim, serve, data = world
    serve.start()
    # The review stalls on reading the pull request's files: the process is killed right there.
    sim.inject("GET", r"/pulls/\d+/files", delay=60)
    sha = sim.commit(REPO, "feature", {"config/gpu.py": 'GPU_MODEL = "H200"\n'}, "change")
    number = sim.open_pull(REPO, "feature", title="Change", user="dev")
    _wait(lambda: [r.status for r in sim.check_runs(REPO, sha, "Align")] == ["in_progress"], 30,
          "the review never started")
    assert _stored_jobs(data) == 1  # accepted, and on disk before the answer left
    serve.kill()
    assert [r.status for r in sim.check_runs(REPO, sha, "Align")] == ["in_progress"]  # what the issue saw

    sim.clear_faults()
    serve.start()
    _wait(lambda: [r.status for r in sim.check_runs(REPO, sha, "Align")] == ["completed"], 60,
          f"the run was not completed after the restart:\n{serve.log.read_text()[-3000:]}")
    [run] = sim.check_runs(REPO, sha, "Align")  # the same run, completed: none left in progress, none added
    assert run.conclusion == "failure"  # the review itself ran (H200 against a GH200 deployment)
    assert sim.review_comments(REPO, number)
    _wait(lambda: _stored_jobs(data) == 0, 10, "the finished job stayed in the store")
    assert "resumed 1 job(s)" in serve.log.read_text()
