"""End-to-end test stack: the GitHub simulator, the real service under uvicorn on a free port, one repo."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from align.service.app import create_app
from align.service.github_client import GitHubGateway
from align.service.markers import StateSeal, SummaryState
from align.service.memory_queue import MemoryQueue
from align.service.server import BackgroundServer
from align.simulator import Simulator
from tests.helpers import GH200_MANIFEST

from .conftest import SECRET, make_settings

REPO = "acme/inference"
BOT = "align[bot]"
TIMEOUT = 20.0


@dataclass
class Stack:
    sim: Simulator
    server: BackgroundServer
    gateway: GitHubGateway
    queue: MemoryQueue
    installation: int
    repo: str = REPO
    deps: Any = None  # the embedded workers' WorkerDeps

    def settle(self, timeout: float = TIMEOUT) -> None:
        """Wait until every delivered job has run (deliveries are synchronous, so jobs are queued already)."""
        deadline = time.monotonic() + timeout
        while self.queue.busy():
            assert time.monotonic() < deadline, "jobs still running"
            time.sleep(0.02)

    # shortcuts over the simulator's state -------------------------------------------------------------

    def runs(self, sha: str | None = None) -> list[Any]:
        return self.sim.check_runs(self.repo, sha, "Align")

    def last_run(self, sha: str) -> Any:
        runs = self.runs(sha)
        assert runs, f"no check run on {sha[:7]}"
        return runs[-1]

    def summaries(self, number: int) -> list[Any]:
        return [c for c in self.sim.issue_comments(self.repo, number)
                if c.user.login == BOT and "<!-- align:summary -->" in c.body]

    def replies(self, number: int) -> list[Any]:
        return [c for c in self.sim.issue_comments(self.repo, number)
                if c.user.login == BOT and "<!-- align:summary -->" not in c.body]

    def state(self, number: int, body: str | None = None) -> SummaryState:
        """The state in the summary comment (or in `body`), read as the service reads it."""
        if body is None:
            body = self.summaries(number)[0].body
        return SummaryState.decode(body, StateSeal.for_pull(self.gateway.settings.state_key, self.repo, number))

    def inline(self, number: int) -> list[Any]:
        return self.sim.review_comments(self.repo, number)

    def open(self, files: Mapping[str, str | None], branch: str = "feature", draft: bool = False) -> tuple[int, str]:
        sha = self.sim.commit(self.repo, branch, dict(files), "change")
        number = self.sim.open_pull(self.repo, branch, title="Change", user="dev", draft=draft)
        self.settle()
        return number, sha

    def push(self, files: Mapping[str, str | None], branch: str = "feature") -> str:
        sha = self.sim.commit(self.repo, branch, dict(files), "push")
        self.settle()
        return sha


def start_stack(private_pem: str, public_pem: str, base_files: Mapping[str, str] | None = None,
                gateway_options: Mapping[str, Any] | None = None, **settings: Any) -> Stack:
    sim = Simulator()
    url = sim.start()
    sim.register_app(1, public_pem, "align")
    installation = sim.create_installation("acme")
    files = {"align.yaml": GH200_MANIFEST, "README.md": "# Inference\n"} if base_files is None else base_files
    sim.create_repo(REPO, dict(files), installation)
    sim.set_permission(REPO, "dev", "write")
    config = make_settings(private_key=private_pem, github_api_url=url, app_slug=None, **settings)
    gateway = GitHubGateway(config, **(gateway_options or {}))
    app = create_app(config, github=gateway)
    server = BackgroundServer(app).start()
    sim.configure_webhook(f"{server.url}/api/github/webhooks", SECRET)
    return Stack(sim, server, gateway, app.state.queue, installation, deps=app.state.worker_deps)


def stop_stack(stack: Stack) -> None:
    stack.server.stop()
    stack.sim.stop()
