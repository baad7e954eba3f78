"""GitHub's own webhook examples (@octokit/webhooks-examples), delivered signed to the real service.

Every `pull_request`, `issue_comment`, `check_run`, `check_suite`, `installation` and `ping` example goes
over HTTP to `create_app` under uvicorn on a free port, with a real MemoryQueue whose job handler only
records. Each delivery must be accepted (202) and give exactly the jobs spec section 5 asks for, or none.

The examples come from repository webhooks, so many lack `installation`; a GitHub App's deliveries always
carry it, so one is added where missing. Variants show the other side of each rule: check runs and suites
re-owned by this app (the examples belong to other apps), the check run's "Re-run" button, issue comments
made into pull request comments (`issue.pull_request`) with a `/align review` body, from a user and from a
bot, and `edited` pull requests with and without a changed base (no example has that action).
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from align.service.app import WEBHOOK_PATH, create_app
from align.service.jobs import Job
from align.service.memory_queue import MemoryQueue
from align.service.server import BackgroundServer
from align.service.settings import Settings
from align.service.webhook import signature_for

from .conftest import APP_ID

pytestmark = pytest.mark.contract

SECRET = "contract-webhook-secret"
EVENTS = ("pull_request", "issue_comment", "check_run", "check_suite", "installation", "ping")
INSTALLATION = {"id": 4242, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI0Mg=="}
PULL_REQUEST_TRIGGERS = {"opened", "synchronize", "reopened", "ready_for_review"}

Expected = tuple[Any, ...]  # (kind, event, installation, repository, pull, head, check run, comment, author, text)


@dataclass
class Service:
    url: str
    queue: MemoryQueue
    jobs: list[Job]
    http: httpx.Client

    def deliver(self, event: str, payload: dict[str, Any], delivery: str | None = None) -> tuple[int, list[Job]]:
        """POST one signed delivery; the status and the jobs it gave, once they have run."""
        body = json.dumps(payload).encode()
        seen = len(self.jobs)
        response = self.http.post(self.url, content=body, headers={
            "Content-Type": "application/json", "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-Hub-Signature-256": signature_for(SECRET.encode(), body)})
        deadline = time.monotonic() + 10
        while self.queue.busy():
            assert time.monotonic() < deadline, "recorded jobs did not run"
            time.sleep(0.005)
        return response.status_code, self.jobs[seen:]


@pytest.fixture(scope="module")
def service(webhook_examples: dict[str, list[dict[str, Any]]]) -> Iterator[Service]:
    jobs: list[Job] = []
    # One worker: jobs of one pull request run in delivery order, and each delivery waits for its own.
    queue = MemoryQueue(jobs.append, workers=1)
    settings = Settings(_env_file=None, webhook_secret=SecretStr(SECRET), app_id=APP_ID,  # type: ignore[call-arg]
                        app_slug="align")
    server = BackgroundServer(create_app(settings, queue=queue)).start()
    try:
        with httpx.Client(timeout=10) as http:
            yield Service(f"{server.url}{WEBHOOK_PATH}", queue, jobs, http)
    finally:
        server.stop()


def as_app_delivery(example: dict[str, Any]) -> dict[str, Any]:
    payload = copy.deepcopy(example)
    if "repository" in payload or "action" in payload:
        payload.setdefault("installation", INSTALLATION)
    return payload


def expected_jobs(event: str, payload: dict[str, Any]) -> list[Expected]:
    """Spec section 5, written out independently of the service's router."""
    action = payload.get("action")
    if "installation" not in payload or "repository" not in payload or not isinstance(action, str):
        return []
    where = (payload["installation"]["id"], payload["repository"]["full_name"])
    name = f"{event}.{action}"

    def review(pull: int | None, head: str, run: int | None = None) -> Expected:
        return ("review", name, *where, pull, head, run, None, None, None)

    def pulls(items: list[dict[str, Any]]) -> list[int | None]:
        return [p["number"] for p in items] or [None]

    if event == "pull_request":
        pull = payload["pull_request"]
        new_base = action == "edited" and "base" in (payload.get("changes") or {})
        if (action in PULL_REQUEST_TRIGGERS or new_base) and pull["state"] == "open":
            return [review(pull["number"], pull["head"]["sha"])]
    if event == "check_run" and payload["check_run"]["app"]["id"] == APP_ID:
        run = payload["check_run"]
        button = action == "requested_action" and payload["requested_action"]["identifier"] == "rerun"
        if action == "rerequested" or button:
            return [review(n, run["head_sha"], run["id"]) for n in pulls(run["pull_requests"])]
    if event == "check_suite" and action == "rerequested" and payload["check_suite"]["app"]["id"] == APP_ID:
        suite = payload["check_suite"]
        return [review(n, suite["head_sha"]) for n in pulls(suite["pull_requests"])]
    if event == "issue_comment" and action == "created" and "pull_request" in payload["issue"]:
        comment = payload["comment"]
        bot = "Bot" in (payload["sender"]["type"], comment["user"]["type"])
        command = next((line.strip() for line in comment["body"].splitlines()
                        if line.strip().startswith("/align")), None)
        if not bot and command is not None:
            return [("command", name, *where, payload["issue"]["number"], None, None, comment["id"],
                     comment["user"]["login"], command)]
    return []


def described(job: Job) -> Expected:
    return (job.kind, job.event, job.installation_id, job.repository, job.pull_number, job.head_sha,
            job.check_run_id, job.comment_id, job.author, job.command_text)


def variants(event: str, example: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The example as GitHub sends it to an App, then the variants that exercise the rest of the rules."""
    payload = as_app_delivery(example)
    yield "as-is", payload
    if event in ("check_run", "check_suite"):
        ours = copy.deepcopy(payload)
        ours[event]["app"]["id"] = APP_ID
        yield "this app's", ours
        if event == "check_run" and payload["action"] == "requested_action":
            button = copy.deepcopy(ours)
            button["requested_action"] = {"identifier": "rerun"}
            yield "Re-run button", button
    if event == "issue_comment":
        on_pull = copy.deepcopy(payload)
        on_pull["issue"]["pull_request"] = {"url": f"{payload['repository']['url']}/pulls/{payload['issue']['number']}"}
        yield "on a pull request, no command", on_pull
        command = copy.deepcopy(on_pull)
        command["comment"]["body"] = "Thanks!\n\n/align review\n"
        yield "on a pull request, /align review", command
        bot = copy.deepcopy(command)
        bot["sender"]["type"] = bot["comment"]["user"]["type"] = "Bot"
        yield "a bot's /align review", bot
    if event == "pull_request" and payload["action"] == "opened":
        edited = copy.deepcopy(payload)
        edited["action"] = "edited"
        edited["changes"] = {"title": {"from": "Old title"}}
        yield "edited title", edited
        edited = copy.deepcopy(edited)
        edited["changes"] = {"base": {"ref": {"from": "develop"}, "sha": {"from": "0" * 40}}}
        yield "edited base", edited


def test_every_example_is_handled_or_ignored_as_the_spec_says(
    service: Service, webhook_examples: dict[str, list[dict[str, Any]]]
) -> None:
    problems: list[str] = []
    handled = ignored = 0
    for event in EVENTS:
        examples = webhook_examples[event]
        assert examples, f"no {event} examples"
        for index, example in enumerate(examples):
            for variant, payload in variants(event, example):
                label = f"{event}[{index}] {payload.get('action')} ({variant})"
                status, jobs = service.deliver(event, payload)
                want = expected_jobs(event, payload)
                got = [described(job) for job in jobs]
                if status != 202:
                    problems.append(f"{label}: HTTP {status}")
                if got != want:
                    problems.append(f"{label}: jobs {got}, expected {want}")
                handled, ignored = handled + bool(want), ignored + (not want)
                for job in jobs if event == "pull_request" else []:
                    # The worker reviews from these instead of asking GitHub for the pull request again.
                    pull = payload["pull_request"]
                    facts = {"base_sha": pull["base"]["sha"], "draft": str(pull["draft"]).lower()}
                    if job.extra != {**facts, **({"before": payload["before"]} if "before" in payload else {})}:
                        problems.append(f"{label}: pull request facts {job.extra}")
    assert not problems, "\n".join(problems)
    # Both sides of the rules were exercised, not only one.
    assert handled >= 15 and ignored >= 40, (handled, ignored)


def test_a_redelivered_example_is_dropped_and_a_forged_one_refused(
    service: Service, webhook_examples: dict[str, list[dict[str, Any]]]
) -> None:
    opened = as_app_delivery(next(e for e in webhook_examples["pull_request"] if e["action"] == "opened"))
    delivery = str(uuid.uuid4())
    status, jobs = service.deliver("pull_request", opened, delivery)
    assert status == 202 and len(jobs) == 1
    assert service.deliver("pull_request", opened, delivery) == (200, [])
    body = json.dumps(opened).encode()
    forged = service.http.post(service.url, content=body, headers={
        "X-GitHub-Event": "pull_request", "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": signature_for(b"not-the-secret", body)})
    assert forged.status_code == 401
