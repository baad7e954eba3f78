"""The GitHub simulator enforces GitHub's limits with GitHub's texts, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import shutil
import subprocess
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github import Auth, GithubException, GithubIntegration, GithubRetry
from github.Repository import Repository as GhRepository
from github.Requester import Requester
from starlette.requests import Request
from starlette.responses import Response

from align.simulator import Simulator, sign
from align.simulator.diff import make_hunks
from align.simulator.gitstore import GitStore, blob_sha
from align.simulator.serving import BackgroundServer

APP_ID = 4242
BOT = "align[bot]"
SECRET = "webhook-secret"
LINES = "".join(f"line {i}\n" for i in range(1, 41))
NOT_IN_DIFF = ("Pull request review thread line must be part of the diff and "
               "Pull request review thread diff hunk can't be blank")


def _edit(text: str, replacements: dict[int, str]) -> str:
    lines = text.splitlines(keepends=True)
    for number, new in replacements.items():
        lines[number - 1] = new
    return "".join(lines)


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class World:
    """The app installed on a fresh account with one repository and pull request #1.

    Pull request #1 changes line 20 of src/a.py (one hunk: lines 17-23 on the right side), deletes line 35
    (a second hunk) and adds new.txt.
    """

    def __init__(self, sim: Simulator, key: rsa.RSAPrivateKey, owner: str) -> None:
        self.sim = sim
        self.url = sim.base_url
        self.key = key  # loaded once: parsing a PEM private key costs ~0.1 s
        self.private_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()).decode()
        # verify=False: plain http on 127.0.0.1, and it spares loading CA certificates for every client
        self.http = httpx.Client(base_url=self.url, verify=False)
        self.owner = owner
        self.name = f"{owner}/widgets"
        self.installation = sim.create_installation(owner)
        self.base_sha = sim.create_repo(self.name, {"README.md": "hi\n", "src/a.py": LINES}, self.installation)
        changed = _edit(LINES, {20: "changed 20\n", 35: ""})
        self.head_sha = sim.commit(self.name, "feature", {"src/a.py": changed, "new.txt": "new\n"}, "change")
        self.number = sim.open_pull(self.name, "feature", title="Feature", user="dev")

    def integration(self, **kwargs: Any) -> GithubIntegration:
        return GithubIntegration(auth=Auth.AppAuth(APP_ID, self.private_key), base_url=self.url,
                                 seconds_between_requests=0, seconds_between_writes=0, **kwargs)

    def repo(self, **kwargs: Any) -> GhRepository:
        return self.integration(**kwargs).get_github_for_installation(self.installation).get_repo(self.name)

    def token(self, **body: Any) -> str:
        response = self.http.post(f"/app/installations/{self.installation}/access_tokens",
                                  headers={"Authorization": f"Bearer {self.jwt()}"}, json=body)
        assert response.status_code == 201, response.text
        token: str = response.json()["token"]
        return token

    def jwt(self, **claims: Any) -> str:
        now = int(time.time())
        payload = {"iat": now - 60, "exp": now + 300, "iss": str(APP_ID), **claims}
        return jwt.encode(payload, self.key, algorithm="RS256")

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"token {token or self.token()}", "Accept": "application/vnd.github+json"}
        return httpx.Client(base_url=self.url, headers=headers, verify=False)


@pytest.fixture(scope="module")
def sim(key: rsa.RSAPrivateKey) -> Iterator[Simulator]:
    simulator = Simulator()
    simulator.start()
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    simulator.register_app(APP_ID, public, "align")
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture
def world(sim: Simulator, key: rsa.RSAPrivateKey, request: pytest.FixtureRequest) -> Iterator[World]:
    """A fresh account per test on one shared simulator; faults, limits and webhooks are reset after."""
    owner = "acme-" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:10]
    try:
        world = World(sim, key, owner)
        with world.http:
            yield world
    finally:
        sim.clear_faults()
        sim.enable_secondary_limits(False)
        sim.configure_webhook(None, None)
        sim.reset_calls()


# webhooks ------------------------------------------------------------------------------------------------


def test_signature_matches_githubs_test_vector() -> None:
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert sign("It's a Secret to Everybody", b"Hello, World!") == expected


class Receiver:
    """A webhook endpoint on 127.0.0.1 that records deliveries and answers 202."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.url = ""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        self.received.append((dict(request.headers), await request.body()))
        await Response(status_code=202)(scope, receive, send)

    def last(self) -> tuple[dict[str, str], dict[str, Any]]:
        headers, body = self.received[-1]
        return headers, json.loads(body)


@pytest.fixture
def receiver(world: World) -> Iterator[Receiver]:
    app = Receiver()
    server = BackgroundServer(app)
    app.url = f"{server.start()}/hook"
    world.sim.configure_webhook(app.url, SECRET)
    try:
        yield app
    finally:
        server.stop()


def test_pull_request_events_are_signed_and_shaped_like_github(world: World, receiver: Receiver) -> None:
    number = world.sim.open_pull(world.name, "feature", title="Second", user="dev", draft=True)
    assert world.sim.last_delivery is not None and world.sim.last_delivery.status == 202
    headers, payload = receiver.last()
    body = receiver.received[-1][1]
    assert headers["x-github-event"] == "pull_request"
    assert headers["x-hub-signature-256"] == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["x-github-delivery"] == world.sim.last_delivery.id and len(headers["x-github-delivery"]) == 36
    assert headers["x-github-hook-id"] and headers["x-github-hook-installation-target-id"] == str(APP_ID)
    assert payload["action"] == "opened" and payload["number"] == number
    assert payload["installation"]["id"] == world.installation
    assert payload["repository"]["full_name"] == world.name and payload["sender"]["login"] == "dev"
    pull = payload["pull_request"]
    assert pull["draft"] is True and pull["head"]["sha"] == world.head_sha and pull["base"]["sha"] == world.base_sha
    assert pull["url"] == f"{world.url}/repos/{world.name}/pulls/{number}"

    world.sim.mark_ready(world.name, number)
    assert receiver.last()[1]["action"] == "ready_for_review"
    world.sim.create_branch(world.name, "develop")
    world.sim.edit_pull(world.name, number, base="develop")
    edited = receiver.last()[1]
    assert edited["action"] == "edited" and edited["changes"]["base"]["ref"]["from"] == "main"
    world.sim.close_pull(world.name, number)
    world.sim.reopen_pull(world.name, number)
    assert receiver.last()[1]["action"] == "reopened"


def test_pushes_send_synchronize_and_force_pushes_rewrite_the_branch(world: World, receiver: Receiver) -> None:
    sha = world.sim.commit(world.name, "feature", {"new.txt": "newer\n"}, "more")
    payload = receiver.last()[1]
    assert payload["action"] == "synchronize"
    assert (payload["before"], payload["after"]) == (world.head_sha, sha)
    assert payload["pull_request"]["head"]["sha"] == sha

    forced = world.sim.force_push(world.name, "feature", {"other.txt": "rewritten\n"})
    payload = receiver.last()[1]
    assert (payload["before"], payload["after"]) == (sha, forced)
    files = [f.filename for f in world.repo().get_pull(world.number).get_files()]
    assert files == ["other.txt"]  # the old commits are gone from the pull request


def test_pushes_can_also_request_check_suites(world: World, receiver: Receiver) -> None:
    world.sim.configure_webhook(receiver.url, SECRET, check_suite_requested=True)
    sha = world.sim.commit(world.name, "feature", {"new.txt": "newer\n"}, "more")
    events = [(json.loads(body).get("action"), headers["x-github-event"]) for headers, body in receiver.received]
    assert events[-2:] == [("synchronize", "pull_request"), ("requested", "check_suite")]
    suite = receiver.last()[1]["check_suite"]
    assert suite["head_sha"] == sha and [p["number"] for p in suite["pull_requests"]] == [world.number]


def test_comments_and_check_clicks_send_their_events(world: World, receiver: Receiver) -> None:
    comment_id = world.sim.add_comment(world.name, world.number, "dev", "/align review")
    headers, payload = receiver.last()
    assert headers["x-github-event"] == "issue_comment" and payload["action"] == "created"
    assert payload["issue"]["number"] == world.number and "pull_request" in payload["issue"]
    assert payload["comment"]["id"] == comment_id and payload["comment"]["body"] == "/align review"
    world.sim.add_comment(world.name, world.number, "ci", "hello", user_type="Bot")
    assert receiver.last()[1]["sender"]["type"] == "Bot"

    repo = world.repo()
    run = repo.create_check_run(name="Align", head_sha=world.head_sha, status="completed", conclusion="neutral",
                                actions=[{"label": "Re-run", "description": "Review again", "identifier": "rerun"}])
    assert world.sim.rerequest_check_run(run.id) == 202
    headers, payload = receiver.last()
    assert headers["x-github-event"] == "check_run" and payload["action"] == "rerequested"
    check = payload["check_run"]
    assert (check["id"], check["head_sha"]) == (run.id, world.head_sha)
    assert [p["number"] for p in check["pull_requests"]] == [world.number]
    assert world.sim.request_action(run.id, "rerun") == 202
    assert receiver.last()[1]["requested_action"] == {"identifier": "rerun"}
    assert world.sim.rerequest_check_suite(check["check_suite"]["id"]) == 202
    headers, payload = receiver.last()
    assert headers["x-github-event"] == "check_suite" and payload["check_suite"]["head_sha"] == world.head_sha


def test_redelivery_keeps_the_delivery_id(world: World, receiver: Receiver) -> None:
    world.sim.add_comment(world.name, world.number, "dev", "hi")
    first = world.sim.last_delivery
    assert first is not None
    assert world.sim.redeliver(first.id) == 202
    assert receiver.received[-1][0]["x-github-delivery"] == receiver.received[-2][0]["x-github-delivery"]
    assert receiver.received[-1][1] == receiver.received[-2][1]


# app authentication --------------------------------------------------------------------------------------


def test_pygithub_authenticates_as_app_and_installation(world: World) -> None:
    integration = world.integration()
    assert integration.get_app().slug == "align"
    assert integration.get_repo_installation(world.owner, "widgets").id == world.installation
    assert world.repo().get_pull(world.number).title == "Feature"


@pytest.mark.parametrize(
    ("claims", "message"),
    [  # times are offsets from when the test runs, not from when it was collected
        ({"exp": -10}, "'Expiration time' claim ('exp') must be a numeric value"),
        ({"exp": 700}, "'Expiration time' claim ('exp') is too far in the future"),
        ({"iat": 120}, "'Issued at' claim ('iat') must be an Integer"),
        ({"iss": "999"}, "A JSON web token could not be decoded"),
    ],
)
def test_bad_jwts_are_refused(world: World, claims: dict[str, Any], message: str) -> None:
    now = int(time.time())
    claims = {key: now + value if key in ("exp", "iat") else value for key, value in claims.items()}
    response = world.http.get("/app", headers={"Authorization": f"Bearer {world.jwt(**claims)}"})
    assert response.status_code == 401 and response.json()["message"].startswith(message)


def test_jwt_signed_with_another_key_is_refused(world: World) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    token = jwt.encode({"iat": now - 60, "exp": now + 60, "iss": str(APP_ID)}, other, algorithm="RS256")
    response = world.http.get("/app", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and response.json()["message"] == "A JSON web token could not be decoded"


def test_installation_tokens_are_checked_on_every_call(world: World) -> None:
    response = world.http.get(f"/repos/{world.name}", headers={"Authorization": "token ghs_forged"})
    assert response.status_code == 401 and response.json()["message"] == "Bad credentials"
    token = world.token()
    assert len(token) > 40  # the newer, longer token format
    with world.client(token) as client:
        assert client.get(f"/repos/{world.name}").status_code == 200
        world.sim.expire_tokens(world.installation)
        assert client.get(f"/repos/{world.name}").json()["message"] == "Bad credentials"


def test_tokens_are_narrowed_to_the_requested_repositories_and_permissions(world: World) -> None:
    world.sim.create_repo(f"{world.owner}/other", {"x": "y"}, world.installation)
    token = world.token(repositories=["widgets"], permissions={"contents": "read"})
    [issued] = [t for t in world.sim.tokens(world.installation) if t.value == token]
    assert issued.repositories == frozenset({world.name})
    assert issued.permissions == {"contents": "read", "metadata": "read"}
    with world.client(token) as client:
        assert client.get(f"/repos/{world.owner}/other").status_code == 404
        assert client.get(f"/repos/{world.name}/contents/README.md").status_code == 200
        refused = client.post(f"/repos/{world.name}/check-runs", json={"name": "Align", "head_sha": world.head_sha})
        assert refused.status_code == 403 and refused.json()["message"] == "Resource not accessible by integration"
    too_much = world.http.post(f"/app/installations/{world.installation}/access_tokens",
                               headers={"Authorization": f"Bearer {world.jwt()}"},
                               json={"permissions": {"administration": "write"}})
    assert too_much.status_code == 422


# rate limits ---------------------------------------------------------------------------------------------


def test_every_response_carries_rate_limit_headers_and_the_budget_is_enforced(world: World) -> None:
    with world.client() as client:
        response = client.get(f"/repos/{world.name}")
        assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "x-ratelimit-used",
                "x-ratelimit-resource"} <= set(response.headers)
        assert response.headers["x-ratelimit-limit"] == "5000"
        world.sim.set_rate_limit(world.installation, remaining=1)
        assert client.get(f"/repos/{world.name}").headers["x-ratelimit-remaining"] == "0"
        limited = client.get(f"/repos/{world.name}")
    assert limited.status_code == 403 and limited.headers["x-ratelimit-remaining"] == "0"
    message = limited.json()["message"]
    assert message == f"API rate limit exceeded for installation ID {world.installation}."
    assert Requester.isPrimaryRateLimitError(message)


def test_content_creation_limit_answers_a_secondary_rate_limit(world: World) -> None:
    world.sim.enable_secondary_limits(content_per_minute=3)
    with world.client() as client:
        statuses = [client.post(f"/repos/{world.name}/issues/{world.number}/comments", json={"body": f"c{i}"})
                    for i in range(4)]
    assert [r.status_code for r in statuses] == [201, 201, 201, 403]
    assert Requester.isSecondaryRateLimitError(statuses[-1].json()["message"])
    assert int(statuses[-1].headers["retry-after"]) > 0
    assert len(world.sim.issue_comments(world.name, world.number)) == 3


def test_unknown_routes_answer_githubs_not_found(world: World) -> None:
    with world.client() as client:
        response = client.get(f"/repos/{world.name}/no-such-thing")
    assert response.status_code == 404
    assert response.json()["message"] == "Not Found" and "documentation_url" in response.json()


# pull request files, diffs, contents ----------------------------------------------------------------------


def test_files_paginate_with_links_on_the_servers_own_address(world: World) -> None:
    world.sim.commit(world.name, "many", {f"f/{i:04d}.txt": f"{i}\n" for i in range(250)})
    number = world.sim.open_pull(world.name, "many")
    with world.client() as client:
        first = client.get(f"/repos/{world.name}/pulls/{number}/files", params={"per_page": 500})
    assert len(first.json()) == 100  # per_page is capped at 100
    links = first.headers["link"]
    assert f'<{world.url}/repos/{world.name}/pulls/{number}/files?per_page=100&page=2>; rel="next"' in links
    assert 'page=3>; rel="last"' in links
    assert len(list(world.repo().get_pull(number).get_files())) == 250  # PyGithub follows the links


def test_big_pull_requests_hit_githubs_file_and_line_limits(world: World) -> None:
    world.sim.commit(world.name, "huge", {f"f/{i:04d}.txt": "x\n" for i in range(3005)})
    huge = world.sim.open_pull(world.name, "huge")
    world.sim.commit(world.name, "long", {"long.txt": "".join(f"{i}\n" for i in range(20_001))})
    long = world.sim.open_pull(world.name, "long")
    with world.client() as client:
        pages = [client.get(f"/repos/{world.name}/pulls/{huge}/files", params={"per_page": 100, "page": p})
                 for p in (30, 31)]
        diff = {"Accept": "application/vnd.github.diff"}
        too_many = client.get(f"/repos/{world.name}/pulls/{huge}", headers=diff)
        too_long = client.get(f"/repos/{world.name}/pulls/{long}", headers=diff)
        fine = client.get(f"/repos/{world.name}/pulls/{world.number}", headers=diff)
        long_files = client.get(f"/repos/{world.name}/pulls/{long}/files").json()
    assert [len(p.json()) for p in pages] == [100, 0]  # at most 3,000 files
    assert too_many.status_code == 406 and too_many.json()["errors"][0]["code"] == "too_large"
    assert "maximum number of files (300)" in too_many.json()["message"]
    assert too_long.status_code == 406 and "maximum number of lines (20000)" in too_long.json()["message"]
    assert fine.status_code == 200 and fine.text.startswith("diff --git a/new.txt b/new.txt")
    assert "patch" not in long_files[0] and long_files[0]["additions"] == 20_001


def test_patch_is_missing_for_binary_files_and_statuses_match_github(world: World) -> None:
    sha = world.sim.commit(world.name, "mixed", {"logo.png": b"\x89PNG\x00\x01", "README.md": None,
                                           "src/moved.py": LINES, "src/a.py": None})
    number = world.sim.open_pull(world.name, "mixed")
    with world.client() as client:
        files = {f["filename"]: f for f in client.get(f"/repos/{world.name}/pulls/{number}/files").json()}
    assert files["logo.png"]["status"] == "added" and "patch" not in files["logo.png"]
    assert files["README.md"]["status"] == "removed" and files["README.md"]["patch"] == "@@ -1 +0,0 @@\n-hi"
    assert files["src/moved.py"]["status"] == "renamed" and files["src/moved.py"]["previous_filename"] == "src/a.py"
    assert files["src/moved.py"]["contents_url"].endswith(f"?ref={sha}")


def test_contents_limits_and_media_types(world: World) -> None:
    big = b"a" * (1024 * 1024 + 1)
    sha = world.sim.commit(world.name, "big", {"big.bin": big})
    with world.client() as client:
        small = client.get(f"/repos/{world.name}/contents/src/a.py", params={"ref": world.head_sha}).json()
        too_large = client.get(f"/repos/{world.name}/contents/big.bin", params={"ref": sha})
        raw = client.get(f"/repos/{world.name}/contents/big.bin", params={"ref": sha},
                         headers={"Accept": "application/vnd.github.raw"})
        obj = client.get(f"/repos/{world.name}/contents/big.bin", params={"ref": sha},
                         headers={"Accept": "application/vnd.github.object"}).json()
        missing = client.get(f"/repos/{world.name}/contents/nope.txt", params={"ref": sha})
        directory = client.get(f"/repos/{world.name}/contents/src", params={"ref": sha}).json()
    assert base64.b64decode(small["content"]).decode() == _edit(LINES, {20: "changed 20\n", 35: ""})
    assert small["sha"] == blob_sha(base64.b64decode(small["content"]))
    assert too_large.status_code == 403 and too_large.json()["errors"][0]["code"] == "too_large"
    assert raw.status_code == 200 and raw.content == big
    assert (obj["content"], obj["encoding"]) == ("", "none")
    assert missing.status_code == 404 and missing.json()["message"] == "Not Found"
    assert [(d["name"], d["type"]) for d in directory] == [("a.py", "file")]


def test_tarball_redirects_to_another_origin_serving_a_github_shaped_archive(world: World) -> None:
    location = world.repo().get_archive_link("tarball", world.head_sha)
    assert location.startswith(f"{world.sim.archive_url}/") and world.sim.archive_url != world.url
    archive = httpx.get(location)
    with tarfile.open(fileobj=io.BytesIO(archive.content), mode="r:gz") as tar:
        names = tar.getnames()
        top = f"{world.owner}-widgets-{world.head_sha[:7]}"
        assert f"{top}/src/a.py" in names and f"{top}/new.txt" in names
        member = tar.extractfile(f"{top}/new.txt")
        assert member is not None and member.read() == b"new\n"
    assert httpx.get(location.split("?")[0]).status_code == 404  # no archive without the redirect's token
    codeload = [c for c in world.sim.calls if c.path.startswith("/_codeload/")]
    assert codeload and not any(c.authorization for c in codeload)  # PyGithub was not asked to go there


def test_trees_and_commits(world: World) -> None:
    repo = world.repo()
    tree = repo.get_git_tree(world.head_sha, recursive=True)
    assert sorted(t.path for t in tree.tree) == ["README.md", "new.txt", "src", "src/a.py"]
    commit = repo.get_commit(world.head_sha)
    assert commit.parents[0].sha == world.base_sha and {f.filename for f in commit.files} == {"new.txt", "src/a.py"}
    assert [p.number for p in commit.get_pulls()] == [world.number]
    comparison = repo.compare(world.base_sha, world.head_sha)
    assert (comparison.status, comparison.ahead_by, comparison.behind_by) == ("ahead", 1, 0)


def test_hunks_follow_gits_conventions() -> None:
    [hunk] = make_hunks(b"a\nb", b"a\nc")
    assert hunk.render() == ["@@ -1,2 +1,2 @@", " a", "-b", "\\ No newline at end of file", "+c",
                             "\\ No newline at end of file"]
    [added] = make_hunks(b"", b"x\n")
    assert added.header == "@@ -0,0 +1 @@"
    [inserted] = make_hunks(b"1\n2\n3\n4\n", b"1\n2\nnew\n3\n4\n", context=1)
    assert inserted.header == "@@ -2,2 +2,3 @@"
    assert [(ln.kind, ln.old, ln.new) for ln in inserted.lines] == [(" ", 2, 2), ("+", None, 3), (" ", 3, 4)]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_object_ids_are_gits_own(tmp_path: Path) -> None:
    files = {"README.md": b"hello\n", "src/a.py": b"print(1)\n", "src/deep/b.txt": b"b\n", "src-x": b"x\n"}
    for path, data in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    run = {"cwd": tmp_path, "check": True, "capture_output": True, "text": True}
    subprocess.run(["git", "init", "-q"], **run)  # type: ignore[call-overload]
    subprocess.run(["git", "add", "-A"], **run)  # type: ignore[call-overload]
    expected = subprocess.run(["git", "write-tree"], **run).stdout.strip()  # type: ignore[call-overload]
    assert GitStore().write_tree(files) == expected
    assert blob_sha(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"


# check runs ----------------------------------------------------------------------------------------------


def _annotation(i: int, **extra: Any) -> dict[str, Any]:
    return {"path": "src/a.py", "start_line": i, "end_line": i, "annotation_level": "warning",
            "message": f"m{i}", **extra}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"head_sha": "HEAD"}, '"name" wasn\'t supplied.'),
        ({"name": "Align", "head_sha": "HEAD", "conclusion": "stale"}, "is not a member of"),
        ({"name": "Align", "head_sha": "HEAD", "status": "done"}, "is not a member of"),
        ({"name": "Align", "head_sha": "HEAD", "status": "completed"}, '"conclusion" wasn\'t supplied.'),
        ({"name": "Align", "head_sha": "HEAD", "output": {"title": "t"}}, '"summary" wasn\'t supplied.'),
        ({"name": "Align", "head_sha": "HEAD", "output": {"title": "t", "summary": "s" * 65_536}},
         "Only 65535 characters are allowed; 65536 were supplied."),
        ({"name": "Align", "head_sha": "HEAD",
          "output": {"title": "t", "summary": "s", "annotations": [_annotation(1)] * 51}},
         "No more than 50 items are allowed; 51 were supplied."),
        ({"name": "Align", "head_sha": "HEAD",
          "output": {"title": "t", "summary": "s", "annotations": [_annotation(1, annotation_level="error")]}},
         "is not a member of"),
        ({"name": "Align", "head_sha": "HEAD",
          "output": {"title": "t", "summary": "s", "annotations": [{**_annotation(1), "end_line": 2,
                                                                     "start_column": 1, "end_column": 2}]}},
         "same line"),
        ({"name": "Align", "head_sha": "HEAD",
          "actions": [{"label": "a", "description": "d", "identifier": f"i{i}"} for i in range(4)]},
         "No more than 3 items are allowed; 4 were supplied."),
        ({"name": "Align", "head_sha": "HEAD",
          "actions": [{"label": "l" * 21, "description": "d", "identifier": "i"}]},
         "Only 20 characters are allowed; 21 were supplied."),
    ],
)
def test_check_run_validation(world: World, body: dict[str, Any], message: str) -> None:
    body = {k: (world.head_sha if v == "HEAD" else v) for k, v in body.items()}
    with world.client() as client:
        response = client.post(f"/repos/{world.name}/check-runs", json=body)
    assert response.status_code == 422
    assert response.json()["message"].startswith("Invalid request.\n\n") and message in response.json()["message"]
    assert world.sim.check_runs(world.name) == []


def test_annotations_append_across_updates(world: World) -> None:
    repo = world.repo()
    run = repo.create_check_run(name="Align", head_sha=world.head_sha, status="in_progress")
    for batch in range(3):
        run.edit(output={"title": "t", "summary": "s",
                         "annotations": [_annotation(batch * 50 + i + 1) for i in range(50)]})
    run.edit(conclusion="failure", output={"title": "done", "summary": "report"})
    stored = world.sim.check_run(run.id)
    assert (stored.status, stored.conclusion, stored.output["summary"]) == ("completed", "failure", "report")
    assert [a["message"] for a in stored.annotations] == [f"m{i}" for i in range(1, 151)]
    assert len(list(repo.get_check_run(run.id).get_annotations())) == 150
    assert repo.get_check_run(run.id).output.annotations_count == 150


# reviews -------------------------------------------------------------------------------------------------


def _review(world: World, comments: list[dict[str, Any]], event: str = "COMMENT") -> httpx.Response:
    with world.client() as client:
        return client.post(f"/repos/{world.name}/pulls/{world.number}/reviews",
                           json={"commit_id": world.head_sha, "event": event, "body": "Align", "comments": comments})


def test_a_comment_outside_the_diff_rejects_the_whole_review(world: World) -> None:
    good = {"path": "src/a.py", "line": 20, "side": "RIGHT", "body": "ok"}
    response = _review(world, [good, {"path": "src/a.py", "line": 5, "side": "RIGHT", "body": "outside"}])
    assert response.status_code == 422
    assert response.json()["message"] == "Unprocessable Entity" and response.json()["errors"] == [NOT_IN_DIFF]
    assert world.sim.reviews(world.name, world.number) == []
    assert world.sim.review_comments(world.name, world.number) == []


@pytest.mark.parametrize(
    ("comment", "error"),
    [
        ({"line": 20, "start_line": 20}, "Pull request review thread start line must precede the end line."),
        ({"line": 36, "start_line": 20},
         "Pull request review thread start line must be part of the same hunk as the line."),
        ({"path": "docs/none.md", "line": 1},
         "Pull request review thread path is invalid and Pull request review thread diff hunk can't be blank"),
        ({"line": 60, "side": "RIGHT"}, NOT_IN_DIFF),  # past the end of the file
        ({"line": 28, "side": "LEFT"}, NOT_IN_DIFF),  # between the two hunks
    ],
)
def test_review_line_rules(world: World, comment: dict[str, Any], error: str) -> None:
    response = _review(world, [{"path": "src/a.py", "body": "x", "side": "RIGHT", **comment}])
    assert response.status_code == 422 and response.json()["errors"] == [error]


def test_valid_comments_anchor_on_diff_lines_and_keep_the_hunk(world: World) -> None:
    pull = world.repo().get_pull(world.number)
    commit = world.repo().get_commit(world.head_sha)
    review = pull.create_review(commit=commit, body="Align", event="COMMENT", comments=[
        {"path": "src/a.py", "line": 20, "start_line": 18, "side": "RIGHT", "start_side": "RIGHT",
         "body": "```suggestion\nfixed\n```"},
        {"path": "src/a.py", "line": 35, "side": "LEFT", "body": "why delete this?"},
        {"path": "new.txt", "line": 1, "side": "RIGHT", "body": "new file"},
    ])
    assert review.state == "COMMENTED" and review.commit_id == world.head_sha
    stored = world.sim.review_comments(world.name, world.number)
    assert [(c.path, c.line, c.side, c.start_line) for c in stored] == [
        ("src/a.py", 20, "RIGHT", 18), ("src/a.py", 35, "LEFT", None), ("new.txt", 1, "RIGHT", None)]
    assert stored[0].diff_hunk.startswith("@@ -17,7 +17,7 @@") and stored[0].diff_hunk.endswith("+changed 20")
    assert {c.user.login for c in stored} == {BOT}
    assert [c.line for c in pull.get_review_comments()] == [20, 35, 1]


# comments, reactions, permissions --------------------------------------------------------------------------


def test_only_the_author_may_edit_a_comment(world: World) -> None:
    theirs = world.sim.add_comment(world.name, world.number, "dev", "please review")
    repo = world.repo()
    mine = repo.get_pull(world.number).create_issue_comment("<!-- align -->summary")
    mine.edit("<!-- align -->edited")
    with pytest.raises(GithubException) as refused:
        repo.get_issue(world.number).get_comment(theirs).edit("hijacked")
    assert refused.value.status == 403
    bodies = [c.body for c in world.sim.issue_comments(world.name, world.number)]
    assert bodies == ["please review", "<!-- align -->edited"]
    with world.client() as client:
        too_long = client.patch(f"/repos/{world.name}/issues/comments/{mine.id}", json={"body": "x" * 65_537})
    assert too_long.status_code == 422 and "too long" in too_long.json()["errors"][0]["message"]


def test_reactions_are_created_once_per_user_and_content(world: World) -> None:
    comment = world.sim.add_comment(world.name, world.number, "dev", "/align review")
    with world.client() as client:
        first = client.post(f"/repos/{world.name}/issues/comments/{comment}/reactions", json={"content": "eyes"})
        again = client.post(f"/repos/{world.name}/issues/comments/{comment}/reactions", json={"content": "eyes"})
        bad = client.post(f"/repos/{world.name}/issues/comments/{comment}/reactions", json={"content": "wave"})
    assert (first.status_code, again.status_code, bad.status_code) == (201, 200, 422)
    assert [(r.content, r.user.login) for r in world.sim.reactions(comment)] == [("eyes", BOT)]


@pytest.mark.parametrize(("role", "legacy"), [("admin", "admin"), ("maintain", "write"), ("write", "write"),
                                              ("triage", "read"), ("read", "read")])
def test_collaborator_permission_reports_legacy_value_and_role(world: World, role: str, legacy: str) -> None:
    world.sim.set_permission(world.name, "carol", role)
    with world.client() as client:
        body = client.get(f"/repos/{world.name}/collaborators/carol/permission").json()
        stranger = client.get(f"/repos/{world.name}/collaborators/nobody-here/permission")
    assert (body["permission"], body["role_name"], body["user"]["login"]) == (legacy, role, "carol")
    assert stranger.status_code == 404


# faults --------------------------------------------------------------------------------------------------


def test_injected_server_errors_fire_the_requested_number_of_times(world: World) -> None:
    world.sim.inject("GET", r"/pulls/\d+$", status=502, times=1)
    repo = world.repo(retry=None)
    with pytest.raises(GithubException) as failed:
        repo.get_pull(world.number)
    assert failed.value.status == 502
    assert repo.get_pull(world.number).number == world.number
    assert [c.status for c in world.sim.calls if c.path.endswith(f"/pulls/{world.number}")] == [502, 200]


def test_secondary_rate_limit_fault_carries_retry_after(world: World) -> None:
    world.sim.inject("POST", r"/check-runs$", status=403, retry_after=7)
    with world.client() as client:
        response = client.post(f"/repos/{world.name}/check-runs", json={"name": "Align", "head_sha": world.head_sha})
    assert response.status_code == 403 and response.headers["retry-after"] == "7"
    assert response.json()["message"].startswith("You have exceeded a secondary rate limit")


def test_dropped_connections_and_slow_answers(world: World) -> None:
    world.sim.inject("GET", rf"^/repos/{world.name}$", drop_connection=True)
    world.sim.inject("GET", r"/pulls/\d+$", delay=0.5)
    with world.client() as client:
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(f"/repos/{world.name}")
        with pytest.raises(httpx.ReadTimeout):
            client.get(f"/repos/{world.name}/pulls/{world.number}", timeout=0.05)
        assert client.get(f"/repos/{world.name}").status_code == 200


def test_after_write_stores_the_write_then_answers_502(world: World) -> None:
    world.sim.inject("POST", r"/issues/\d+/comments$", after_write=True)
    pull = world.repo(retry=GithubRetry()).get_pull(world.number)  # GithubRetry resends POSTs on 5xx
    pull.create_issue_comment("summary")
    bodies = [c.body for c in world.sim.issue_comments(world.name, world.number)]
    assert bodies == ["summary", "summary"]  # the duplicate-POST trap a bot must defend against


def test_calls_are_recorded_and_reset(world: World) -> None:
    world.sim.reset_calls()
    with world.client() as client:
        client.get(f"/repos/{world.name}/pulls/{world.number}")
    [call] = [c for c in world.sim.calls if c.path.startswith(f"/repos/{world.name}")]
    assert (call.method, call.path, call.status) == ("GET", f"/repos/{world.name}/pulls/{world.number}", 200)
    world.sim.reset_calls()
    assert world.sim.calls == []
