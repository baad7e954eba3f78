"""The simulator against GitHub's own description of its API.

PyGithub talks to the simulator through `prism proxy --errors`, which checks every request against
GitHub's OpenAPI description (`@octokit/openapi`) and every response the simulator returns. A test passes
only if Prism reported no violation, warnings included. Webhook payloads are checked against the JSON
schemas of the same description and the keys of `@octokit/webhooks-examples`.

Limits of this check, found while writing it:
- Prism's proxy follows redirects itself, so the tarball's 302 cannot be validated through it (it then
  sees a 200 the description does not list); the redirect is covered by tests/test_simulator.py.
- The description lists only application/json for `GET /pulls/{n}` and `GET /contents/{path}`: the diff
  and raw media types are answered correctly but Prism reports them as violations (see the sanity test).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from github import Auth, Github, GithubException, GithubIntegration
from jsonschema import Draft202012Validator
from starlette.requests import Request
from starlette.responses import Response

from align.simulator.serving import BackgroundServer

from .conftest import APP_ID, OWNER, ContractWorld, PrismProxy

pytestmark = pytest.mark.contract


def _integration(world: ContractWorld, url: str) -> GithubIntegration:
    # retry=None: a violation must surface as an error, not be retried away
    return GithubIntegration(auth=Auth.AppAuth(APP_ID, world.private_key), base_url=url, retry=None,
                             seconds_between_requests=0, seconds_between_writes=0)


@pytest.fixture(scope="module")
def github(prism_proxy: PrismProxy, simulator: ContractWorld) -> Github:
    return _integration(simulator, prism_proxy.url).get_github_for_installation(simulator.installation)


@pytest.fixture
def clean(prism_proxy: PrismProxy) -> Iterator[None]:
    """Fail the test if Prism logged any violation while it ran."""
    start = prism_proxy.mark()
    yield
    assert prism_proxy.violations(start) == []


def _token(world: ContractWorld, proxy: PrismProxy) -> str:
    return _integration(world, proxy.url).get_access_token(world.installation).token


@pytest.mark.usefixtures("clean")
def test_app_endpoints_and_a_narrowed_installation_token(prism_proxy: PrismProxy, simulator: ContractWorld) -> None:
    integration = _integration(simulator, prism_proxy.url)
    assert integration.get_app().id == APP_ID
    assert integration.get_repo_installation(OWNER, "gpu-service").id == simulator.installation
    token = integration.get_access_token(simulator.installation, permissions={"checks": "write"})
    assert token.permissions == {"checks": "write", "metadata": "read"}
    jwt = Auth.AppAuth(APP_ID, simulator.private_key).create_jwt()
    response = httpx.post(f"{prism_proxy.url}/app/installations/{simulator.installation}/access_tokens",
                          headers={"Authorization": f"Bearer {jwt}", "Accept": "application/vnd.github+json"},
                          json={"repositories": ["gpu-service"], "permissions": {"contents": "read"}})
    assert response.status_code == 201
    assert [r["full_name"] for r in response.json()["repositories"]] == [simulator.repo]


@pytest.mark.usefixtures("clean")
def test_pull_request_and_paginated_files(github: Github, simulator: ContractWorld) -> None:
    pull = github.get_repo(simulator.repo).get_pull(simulator.number)
    assert (pull.head.sha, pull.base.sha, pull.draft) == (simulator.head_sha, simulator.base_sha, False)
    files = {f.filename: f for f in pull.get_files()}  # 36 files: two pages, following the Link header
    assert set(files) == set(simulator.files)
    assert '+GPU_MODEL = "H200"' in (files["deploy/service.py"].patch or "")
    assert [c.sha for c in pull.get_commits()] == [simulator.head_sha]


@pytest.mark.usefixtures("clean")
def test_contents_trees_commits_and_compare(github: Github, simulator: ContractWorld) -> None:
    repo = github.get_repo(simulator.repo)
    manifest = repo.get_contents("align.yaml", ref=simulator.head_sha)
    assert not isinstance(manifest, list) and manifest.decoded_content == b"version: 1\n"
    listing = repo.get_contents("docs", ref=simulator.head_sha)
    assert isinstance(listing, list) and len(listing) == 35
    tree = repo.get_git_tree(simulator.head_sha, recursive=True)
    assert "deploy/service.py" in {t.path for t in tree.tree}
    commit = repo.get_commit(simulator.head_sha)
    assert commit.parents[0].sha == simulator.base_sha and len(list(commit.files)) == 36
    assert [p.number for p in commit.get_pulls()] == [simulator.number]
    assert repo.compare(simulator.base_sha, simulator.head_sha).ahead_by == 1


def _annotations(start: int) -> list[dict[str, Any]]:
    return [{"path": "deploy/service.py", "start_line": i, "end_line": i, "annotation_level": "failure",
             "message": f"finding {i}", "title": "gpu-model-mismatch"} for i in range(start, start + 50)]


@pytest.mark.usefixtures("clean")
def test_check_run_lifecycle(github: Github, simulator: ContractWorld) -> None:
    repo = github.get_repo(simulator.repo)
    run = repo.create_check_run(name="Align", head_sha=simulator.head_sha, status="in_progress",
                                external_id="delivery-1", output={"title": "Reviewing", "summary": "In progress"})
    run.edit(output={"title": "Reviewing", "summary": "50 findings", "annotations": _annotations(1)})
    run.edit(output={"title": "Reviewing", "summary": "100 findings", "annotations": _annotations(51)})
    run.edit(status="completed", conclusion="failure",
             output={"title": "100 errors", "summary": "s" * 65_535, "text": "details"},
             actions=[{"label": "Re-run", "description": "Review this commit again", "identifier": "rerun"}])
    fetched = repo.get_check_run(run.id)
    assert (fetched.status, fetched.conclusion, fetched.output.annotations_count) == ("completed", "failure", 100)
    assert len(list(fetched.get_annotations())) == 100
    listed = repo.get_commit(simulator.head_sha).get_check_runs(check_name="Align")
    assert [r.id for r in listed] == [run.id]


@pytest.mark.usefixtures("clean")
def test_review_with_inline_comments(github: Github, simulator: ContractWorld) -> None:
    repo = github.get_repo(simulator.repo)
    pull = repo.get_pull(simulator.number)
    review = pull.create_review(commit=repo.get_commit(simulator.head_sha), body="Align found 1 problem",
                                event="COMMENT", comments=[
        {"path": "deploy/service.py", "line": 30, "side": "RIGHT",
         "body": '```suggestion\nGPU_MODEL = "GH200"\n```'},
        {"path": "deploy/service.py", "start_line": 28, "start_side": "RIGHT", "line": 31, "side": "RIGHT",
         "body": "context"},
    ])
    assert review.state == "COMMENTED"
    assert [r.id for r in pull.get_reviews()] == [review.id]
    comments = list(pull.get_review_comments())
    assert [c.line for c in comments] == [30, 31]
    comments[1].edit("context, edited")
    comments[1].delete()
    assert [c.body for c in simulator.sim.review_comments(simulator.repo, simulator.number)] == [
        '```suggestion\nGPU_MODEL = "GH200"\n```']


@pytest.mark.usefixtures("clean")
def test_issue_comment_edit_and_reaction(github: Github, simulator: ContractWorld) -> None:
    pull = github.get_repo(simulator.repo).get_pull(simulator.number)
    comment = pull.create_issue_comment("<!-- align:summary -->\nfirst")
    comment.edit("<!-- align:summary -->\nsecond")
    assert comment.create_reaction("eyes").content == "eyes"
    assert [c.body for c in pull.get_issue_comments()][-1] == "<!-- align:summary -->\nsecond"
    comment.delete()


@pytest.mark.usefixtures("clean")
def test_collaborator_permission_and_rate_limit(github: Github, simulator: ContractWorld) -> None:
    repo = github.get_repo(simulator.repo)
    assert repo.get_collaborator_permission("dev") == "write"  # maintain reports the legacy "write"
    assert github.get_rate_limit().resources.core.limit == 5_000


@pytest.mark.usefixtures("clean")
def test_errors_are_shaped_as_githubs(github: Github, simulator: ContractWorld) -> None:
    repo = github.get_repo(simulator.repo)
    with pytest.raises(GithubException) as missing:
        repo.get_pull(999)
    assert missing.value.status == 404
    with pytest.raises(GithubException) as outside:
        repo.get_pull(simulator.number).create_review(
            commit=repo.get_commit(simulator.head_sha), body="x", event="COMMENT",
            comments=[{"path": "deploy/service.py", "line": 2, "side": "RIGHT", "body": "not in the diff"}])
    assert outside.value.status == 422
    assert "must be part of the diff" in json.dumps(outside.value.data)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"conclusion": "bogus"}, "conclusion"),
        ({"output": {"title": "t", "summary": "s" * 65_536}}, "summary"),
        ({"output": {"title": "t", "summary": "s", "annotations": _annotations(1) + _annotations(51)[:1]}},
         "annotations"),
        ({"actions": [{"label": "a", "description": "d", "identifier": f"i{i}"} for i in range(4)]}, "actions"),
    ],
)
def test_prism_rejects_requests_that_break_githubs_rules(prism_proxy: PrismProxy, simulator: ContractWorld,
                                                         body: dict[str, Any], field: str) -> None:
    """Harness check: the request validator is live, and agrees with the limits the simulator enforces."""
    token = _token(simulator, prism_proxy)
    response = httpx.post(f"{prism_proxy.url}/repos/{simulator.repo}/check-runs",
                          headers={"Authorization": f"token {token}", "Accept": "application/vnd.github+json"},
                          json={"name": "Align", "head_sha": simulator.head_sha, **body})
    assert response.status_code == 422
    assert any(field in location for v in response.json()["validation"] for location in v["location"])
    direct = httpx.post(f"{simulator.sim.server_url}/repos/{simulator.repo}/check-runs",
                        headers={"Authorization": f"token {token}"},
                        json={"name": "Align", "head_sha": simulator.head_sha, **body})
    assert direct.status_code == 422


def test_prism_validates_responses(prism_proxy: PrismProxy, simulator: ContractWorld) -> None:
    """Harness check: response validation is live. The diff media type is GitHub's, but the description
    lists only JSON for this operation, so Prism flags it (a limit of the description, noted above)."""
    token = _token(simulator, prism_proxy)
    start = prism_proxy.mark()
    response = httpx.get(f"{prism_proxy.url}/repos/{simulator.repo}/pulls/{simulator.number}",
                         headers={"Authorization": f"token {token}", "Accept": "application/vnd.github.diff"})
    assert response.status_code == 500
    assert "media type" in response.headers["sl-violations"]
    assert any("VIOLATIONS" in line for line in prism_proxy.violations(start))  # what `clean` relies on


class _Receiver:
    def __init__(self) -> None:
        self.payloads: list[tuple[str, dict[str, Any]]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        self.payloads.append((request.headers["x-github-event"], json.loads(await request.body())))
        await Response(status_code=202)(scope, receive, send)


def test_webhook_payloads_follow_githubs_schemas_and_examples(
    simulator: ContractWorld,
    webhook_validator: Callable[[str], Draft202012Validator],
    webhook_examples: dict[str, list[dict[str, Any]]],
) -> None:
    sim, repo = simulator.sim, simulator.repo
    receiver = _Receiver()
    server = BackgroundServer(receiver)
    sim.configure_webhook(f"{server.start()}/hook", "secret")
    try:
        sim.commit(repo, "hooks", {"deploy/hooks.py": 'GPU_MODEL = "H100"\n'})
        number = sim.open_pull(repo, "hooks", title="Hooks", user="dev", draft=True)
        sim.commit(repo, "hooks", {"deploy/hooks.py": 'GPU_MODEL = "H200"\n'})
        sim.mark_ready(repo, number)
        sim.create_branch(repo, "release")
        sim.edit_pull(repo, number, base="release")
        sim.close_pull(repo, number)
        sim.reopen_pull(repo, number)
        sim.add_comment(repo, number, "dev", "/align review")
        run_id = _create_check_run(simulator, sim.head_sha(repo, "hooks"))
        sim.rerequest_check_run(run_id)
        sim.request_action(run_id, "rerun")
        sim.rerequest_check_suite(sim.check_run(run_id).suite_id)
    finally:
        sim.configure_webhook(None, None)
        server.stop()

    seen = [(event, payload["action"]) for event, payload in receiver.payloads]
    assert seen == [("pull_request", "opened"), ("pull_request", "synchronize"), ("pull_request", "ready_for_review"),
                    ("pull_request", "edited"), ("pull_request", "closed"), ("pull_request", "reopened"),
                    ("issue_comment", "created"), ("check_run", "rerequested"), ("check_run", "requested_action"),
                    ("check_suite", "rerequested")]
    for event, payload in receiver.payloads:
        name = f"{event}-{payload['action']}".replace("_", "-")
        problems = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in webhook_validator(name).iter_errors(payload)]
        assert problems == [], name
        examples = [e for e in webhook_examples[event] if e.get("action") == payload["action"]]
        for example in examples[:1]:
            assert set(example) - set(payload) <= {"organization", "enterprise"}, name
    broken = copy.deepcopy(receiver.payloads[0][1])
    del broken["pull_request"]["number"]
    assert list(webhook_validator("pull-request-opened").iter_errors(broken)), "the schema check is not live"


def _create_check_run(world: ContractWorld, head_sha: str) -> int:
    """A check run with a "Re-run" action, posted as the app (straight to the simulator)."""
    url = world.sim.server_url
    token = _integration(world, url).get_access_token(world.installation).token
    response = httpx.post(f"{url}/repos/{world.repo}/check-runs", headers={"Authorization": f"token {token}"},
                          json={"name": "Align", "head_sha": head_sha, "conclusion": "failure",
                                "output": {"title": "1 error", "summary": "report"},
                                "actions": [{"label": "Re-run", "description": "Review again", "identifier": "rerun"}]})
    assert response.status_code == 201, response.text
    run_id: int = response.json()["id"]
    return run_id
