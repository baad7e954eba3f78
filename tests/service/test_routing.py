"""Signature verification and routing of deliveries to jobs (pure functions)."""

from __future__ import annotations

from typing import Any

from align.service.webhook import route, signature_for, verify_signature

from .conftest import pr_payload


def test_github_signature_test_vector() -> None:
    secret, body = b"It's a Secret to Everybody", b"Hello, World!"
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert signature_for(secret, body) == expected
    assert verify_signature(secret, body, expected)
    assert not verify_signature(secret, body + b" ", expected)
    assert not verify_signature(b"other", body, expected)
    assert not verify_signature(secret, body, None)
    assert not verify_signature(secret, body, "sha1=" + expected[7:])
    assert not verify_signature(secret, body, "sha256=ü")  # non-ASCII header: refused, no crash


def test_pull_request_triggers() -> None:
    for action in ("opened", "synchronize", "reopened", "ready_for_review"):
        [job] = route("pull_request", pr_payload(action), "d")
        assert job.event == f"pull_request.{action}" and job.kind == "review"
    [job] = route("pull_request", pr_payload("edited", changes={"base": {"ref": {"from": "dev"}}}), "d")
    assert job.event == "pull_request.edited"
    assert route("pull_request", pr_payload("edited", changes={"body": {"from": ""}}), "d") == []
    assert route("pull_request", pr_payload("closed"), "d") == []


def _check_run(action: str, pulls: list[dict[str, Any]], app_id: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "action": action,
        "check_run": {"id": 5, "head_sha": "c" * 40, "app": {"id": app_id}, "pull_requests": pulls},
        "repository": {"full_name": "octo/repo"},
        "installation": {"id": 42},
        **extra,
    }


def test_check_run_rerun_and_button() -> None:
    [job] = route("check_run", _check_run("rerequested", [{"number": 3}]), "d", app_id=1)
    assert (job.pull_number, job.head_sha, job.check_run_id) == (3, "c" * 40, 5)
    button = _check_run("requested_action", [{"number": 3}], requested_action={"identifier": "rerun"})
    assert len(route("check_run", button, "d", app_id=1)) == 1
    other_button = _check_run("requested_action", [], requested_action={"identifier": "deploy"})
    assert route("check_run", other_button, "d", app_id=1) == []
    assert route("check_run", _check_run("rerequested", [], app_id=99), "d", app_id=1) == []
    assert route("check_run", _check_run("created", [{"number": 3}]), "d", app_id=1) == []
    # A fork's check run names no pull request: the worker looks it up by SHA.
    [fork] = route("check_run", _check_run("rerequested", []), "d", app_id=1)
    assert fork.pull_number is None and fork.head_sha == "c" * 40


def test_check_suite_rerequested_one_job_per_pull() -> None:
    payload = {
        "action": "rerequested",
        "check_suite": {"head_sha": "d" * 40, "pull_requests": [{"number": 1}, {"number": 2}]},
        "repository": {"full_name": "octo/repo"},
        "installation": {"id": 42},
    }
    assert [j.pull_number for j in route("check_suite", payload, "d")] == [1, 2]
    assert route("check_suite", {**payload, "action": "requested"}, "d") == []


def _comment(body: str, user_type: str = "User", on_pull: bool = True) -> dict[str, Any]:
    issue: dict[str, Any] = {"number": 7}
    if on_pull:
        issue["pull_request"] = {"url": "x"}
    return {
        "action": "created",
        "issue": issue,
        "comment": {"id": 11, "body": body, "user": {"login": "alice", "type": user_type}},
        "repository": {"full_name": "octo/repo"},
        "installation": {"id": 42},
        "sender": {"login": "alice", "type": user_type},
    }


def test_issue_comment_commands() -> None:
    [job] = route("issue_comment", _comment("Thanks!\n/align ignore abcdef0123456789 vendor doc"), "d")
    assert (job.kind, job.pull_number, job.comment_id, job.author) == ("command", 7, 11, "alice")
    assert job.command_text == "/align ignore abcdef0123456789 vendor doc"
    assert route("issue_comment", _comment("/align review", user_type="Bot"), "d") == []
    assert route("issue_comment", _comment("/align review", on_pull=False), "d") == []
    assert route("issue_comment", _comment("looks good"), "d") == []
    assert route("issue_comment", _comment("> /align review\nquoted only"), "d") == []
    assert route("issue_comment", {**_comment("/align review"), "action": "edited"}, "d") == []


def test_payload_without_installation_is_ignored() -> None:
    payload = pr_payload()
    del payload["installation"]
    assert route("pull_request", payload, "d") == []


def test_app_manifest_asks_for_what_the_service_uses() -> None:
    import json
    from pathlib import Path

    from align.service.github_client import TOKEN_PERMISSIONS

    manifest = json.loads((Path(__file__).parents[2] / "deploy" / "github-app-manifest.json").read_text())
    assert manifest["default_permissions"] == TOKEN_PERMISSIONS
    assert set(manifest["default_events"]) == {"pull_request", "issue_comment", "check_run", "check_suite"}
    assert manifest["hook_attributes"]["url"].endswith("/api/github/webhooks")


def test_pull_request_jobs_carry_what_the_worker_would_otherwise_ask_for() -> None:
    payload = pr_payload("synchronize", before="f" * 40)
    [job] = route("pull_request", payload, "d")
    assert job.extra == {"base_sha": "b" * 40, "draft": "false", "before": "f" * 40}
    payload["pull_request"]["draft"] = True
    [job] = route("pull_request", payload, "d")
    assert job.extra["draft"] == "true"


def test_another_apps_check_suite_is_ignored() -> None:
    suite = {"action": "rerequested", "repository": {"full_name": "octo/repo"}, "installation": {"id": 42},
             "check_suite": {"head_sha": "c" * 40, "app": {"id": 99}, "pull_requests": [{"number": 3}]}}
    assert route("check_suite", suite, "d", app_id=1) == []
    suite["check_suite"]["app"]["id"] = 1
    assert [j.pull_number for j in route("check_suite", suite, "d", app_id=1)] == [3]
