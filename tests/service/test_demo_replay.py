"""`align demo` runs the whole loop; `align replay` sends a saved payload signed."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

from align.demo import run_demo
from align.replay import replay
from align.service.app import WEBHOOK_PATH, create_app
from align.service.jobs import Job
from align.service.memory_queue import MemoryQueue
from align.service.server import BackgroundServer

from .conftest import SECRET, make_settings, pr_payload


def test_demo_prints_what_a_reviewer_sees() -> None:
    out = io.StringIO()
    assert run_demo(out) == 0
    text = out.getvalue()
    assert "Check run “Align”" in text and "FAILURE" in text
    assert "```suggestion" in text
    assert "Summary comment on the pull request" in text
    assert "<!-- align:" not in text  # hidden markers are not shown
    assert text.count("### 📋 Executive summary") == 1  # the report once: the check run carries the same text
    assert text.rstrip().splitlines()[-5].startswith("- On your repository: `align init`")  # ends with next steps


def test_replay_signs_the_saved_payload(tmp_path: Path) -> None:
    received: list[Job] = []
    done = threading.Event()

    def handler(job: Job) -> None:
        received.append(job)
        done.set()

    payload = tmp_path / "opened.json"
    payload.write_text(json.dumps(pr_payload()))
    app = create_app(make_settings(), queue=MemoryQueue(handler))
    with BackgroundServer(app) as server:
        url = server.url + WEBHOOK_PATH
        out = io.StringIO()
        assert replay(payload, "pull_request", url, SECRET, delivery="r-1", out=out) == 0
        assert out.getvalue().startswith("202")
        assert done.wait(10) and received[0].delivery_id == "r-1"
        assert replay(payload, "pull_request", url, SECRET, delivery="r-1", out=out) == 0  # 200 duplicate
        assert "duplicate" in out.getvalue()
        assert replay(payload, "pull_request", url, "wrong secret", out=out) == 1
        assert replay(tmp_path / "missing.json", "pull_request", url, SECRET, out=out) == 2


def test_replay_takes_the_secret_from_settings(tmp_path: Path) -> None:
    payload = tmp_path / "ping.json"
    payload.write_text(json.dumps({"zen": "z"}))
    settings = make_settings()
    with BackgroundServer(create_app(settings, queue=MemoryQueue(lambda job: None))) as server:
        assert replay(payload, "ping", server.url + WEBHOOK_PATH, settings, out=io.StringIO()) == 0


def test_serve_refuses_to_start_without_app_credentials() -> None:
    import pytest

    from align.service.server import serve

    with pytest.raises(SystemExit, match="ALIGN_APP_ID"):
        serve(make_settings(app_id=None), port=0)


def test_serve_refuses_a_broken_key() -> None:
    import pytest

    from align.service.server import serve

    with pytest.raises(SystemExit, match="not a PEM private key"):
        serve(make_settings(private_key="-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n"), port=0)
