"""A whole review flow with every GitHub call the service makes checked by Prism against GitHub's OpenAPI
description: `prism proxy --errors` stands between the service's GitHub client and the simulator, so a
request the description does not allow, or a response that does not match it, fails the call and is
logged; the test then requires an empty log of violations, in both directions.

The simulator delivers webhooks straight to the service (webhook payloads are checked against GitHub's
schemas in test_simulator_contract.py and test_webhook_examples.py). Archives are switched off
(ALIGN_MAX_TARBALL_BYTES=0: files are read through the contents API) because Prism's proxy follows the
tarball's redirect itself and then reports the 200 it sees (see test_simulator_contract.py). The changed
file sits at the repository root: Prism's router matches no `/contents/{path}` whose path has a slash
(OpenAPI path parameters cannot hold one), although GitHub serves them.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import SecretStr

from align.service.app import WEBHOOK_PATH, create_app
from align.service.github_client import GitHubGateway
from align.service.markers import FIXED_PREFIX, SUMMARY_MARKER
from align.service.memory_queue import MemoryQueue
from align.service.server import BackgroundServer
from align.service.settings import Settings
from tests.helpers import GH200_MANIFEST

from .conftest import APP_ID, OWNER, ContractWorld, PrismProxy

pytestmark = pytest.mark.contract

SECRET = "prism-flow-secret"
REPO = f"{OWNER}/align-flow"
BOT = "align[bot]"
CONFIG = 'GPU_MODEL = "H200"\nGPU_MEMORY_GB = 141\n'


@dataclass
class Flow:
    world: ContractWorld
    queue: MemoryQueue

    def settle(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.queue.busy():
            assert time.monotonic() < deadline, "reviews still running"
            time.sleep(0.02)

    def runs(self, sha: str) -> list[Any]:
        return self.world.sim.check_runs(REPO, sha, "Align")

    def summaries(self, number: int) -> list[Any]:
        return [c for c in self.world.sim.issue_comments(REPO, number)
                if c.user.login == BOT and SUMMARY_MARKER in c.body]


@pytest.fixture
def flow(simulator: ContractWorld, prism_proxy: PrismProxy) -> Iterator[Flow]:
    sim = simulator.sim
    sim.create_repo(REPO, {"align.yaml": GH200_MANIFEST, "README.md": "# Flow\n"}, simulator.installation)
    sim.set_permission(REPO, "dev", "write")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, webhook_secret=SecretStr(SECRET), app_id=APP_ID, private_key=SecretStr(simulator.private_key),
        github_api_url=prism_proxy.url, app_slug=None, seconds_between_requests=0, seconds_between_writes=0,
        retries=0,  # a call Prism refuses must fail the review, not be retried away
        max_tarball_bytes=0, workers=1, data_dir=tempfile.mkdtemp(prefix="align-data-"),
    )
    app = create_app(settings, github=GitHubGateway(settings))
    server = BackgroundServer(app).start()
    sim.configure_webhook(f"{server.url}{WEBHOOK_PATH}", SECRET)
    try:
        yield Flow(simulator, app.state.queue)
    finally:
        sim.configure_webhook(None, None)
        server.stop()


def test_review_flow_through_prism_has_no_violation(flow: Flow, prism_proxy: PrismProxy) -> None:
    sim = flow.world.sim
    start = prism_proxy.mark()

    # Open a pull request: check run, a review with two suggestions, the summary comment.
    first = sim.commit(REPO, "flow", {"config.py": CONFIG}, "Use H200")
    number = sim.open_pull(REPO, "flow", title="Use H200", user="dev")
    flow.settle()
    [run] = flow.runs(first)
    assert (run.status, run.conclusion) == ("completed", "failure"), run.output
    assert len(run.annotations) == 2
    [review] = sim.reviews(REPO, number)
    assert review.commit_id == first
    assert sorted(c.line or 0 for c in sim.review_comments(REPO, number)) == [1, 2]
    assert len(flow.summaries(number)) == 1

    # `/align review`: permission looked up, the comment acknowledged, a new run, nothing posted twice.
    comment = sim.add_comment(REPO, number, "dev", "/align review")
    flow.settle()
    assert [r.content for r in sim.reactions(comment)] == ["eyes"]
    assert [r.status for r in flow.runs(first)] == ["completed", "completed"]
    assert len(sim.reviews(REPO, number)) == 1 and len(sim.review_comments(REPO, number)) == 2

    # Push a fix for the memory line: its comment is marked fixed, the summary edited.
    second = sim.commit(REPO, "flow", {"config.py": 'GPU_MODEL = "H200"\nGPU_MEMORY_GB = 96\n'}, "Fix")
    flow.settle()
    assert flow.runs(second)[-1].conclusion == "failure"
    by_line = {c.line: c for c in sim.review_comments(REPO, number)}
    assert by_line[2].body.startswith(FIXED_PREFIX) and not by_line[1].body.startswith(FIXED_PREFIX)
    [summary] = flow.summaries(number)
    assert "Fixed since last run" in summary.body

    # Re-run from the check's button: one more completed run on the same commit.
    sim.rerequest_check_run(flow.runs(second)[-1].id)
    flow.settle()
    assert [r.status for r in flow.runs(second)] == ["completed", "completed"]
    assert len(flow.summaries(number)) == 1 and len(sim.reviews(REPO, number)) == 1

    assert prism_proxy.violations(start) == []
    # ... and every kind of call the service makes went through Prism to get there.
    received = prism_proxy.log.read_bytes()[start:].decode(errors="replace")
    for call in ("get /app ", "post /app/installations/", "get /repos/{r}/commits/", "post /repos/{r}/check-runs ",
                 "patch /repos/{r}/check-runs/", "get /repos/{r}/issues/1/comments ", "get /repos/{r}/pulls/1/files ",
                 "get /repos/{r}/contents/config.py ", "post /repos/{r}/pulls/1/reviews ",
                 "get /repos/{r}/pulls/1/comments ", "patch /repos/{r}/pulls/comments/",
                 "post /repos/{r}/issues/1/comments ", "patch /repos/{r}/issues/comments/",
                 "get /repos/{r}/collaborators/dev/permission ", "post /repos/{r}/issues/comments/"):
        assert f"[HTTP SERVER] {call.format(r=REPO)}" in received, call
