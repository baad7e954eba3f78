"""Webhook payloads shaped like @octokit/webhooks-examples (pull_request, issue_comment, check_run,
check_suite), built from the same object shapes the REST endpoints serve."""

from __future__ import annotations

from typing import Any

from align.simulator.payloads import Json, Shapes, iso, node_id
from align.simulator.state import CheckSuite, IssueComment, PullRequest, Repository, User

WORST_FIRST = ("action_required", "cancelled", "timed_out", "failure", "neutral", "success", "skipped")


class Events:
    def __init__(self, shapes: Shapes, app_id: int | None = None) -> None:
        self.shapes = shapes
        self.state = shapes.state
        self.app_id = app_id  # the app receiving the deliveries: its installation goes in the payload

    def _envelope(self, action: str | None, repo: Repository, sender: User) -> Json:
        out: Json = {} if action is None else {"action": action}
        out["repository"] = self.shapes.repo(repo, full=False)
        out["sender"] = self.shapes.user(sender)
        if repo.owner.type == "Organization":
            out["organization"] = self.shapes.organization(repo.owner)
        installation = self.state.installation_for(repo, self.app_id)
        if installation is not None:
            out["installation"] = {"id": installation.id, "node_id": node_id("Installation", installation.id)}
        return out

    def pull_request(self, action: str, pr: PullRequest, sender: User, **extra: Any) -> Json:
        repo = self.state.repos[pr.repo]
        envelope = self._envelope(action, repo, sender)
        return {"action": action, "number": pr.number, "pull_request": self.shapes.pull(pr), **extra,
                **{k: v for k, v in envelope.items() if k != "action"}}

    def issue_comment(self, action: str, pr: PullRequest, comment: IssueComment) -> Json:
        repo = self.state.repos[pr.repo]
        return {**self._envelope(action, repo, comment.user), "issue": self.shapes.issue(pr),
                "comment": self.shapes.issue_comment(comment)}

    def check_suite_object(self, suite: CheckSuite) -> Json:
        repo = self.state.repos[suite.repo]
        runs = [r for r in self.state.check_runs.values() if r.suite_id == suite.id]
        if runs and all(r.status == "completed" for r in runs):
            status = "completed"
            conclusion = min((r.conclusion or "neutral" for r in runs), key=WORST_FIRST.index)
        else:
            status = "in_progress" if any(r.status == "in_progress" for r in runs) else "queued"
            conclusion = None
        commit = repo.git.commits[suite.head_sha]
        parent = commit.parents[0] if commit.parents else "0" * 40
        api = self.shapes.repo_api(repo)
        return {
            "id": suite.id,
            "node_id": node_id("CheckSuite", suite.id),
            "head_branch": suite.head_branch,
            "head_sha": suite.head_sha,
            "status": status,
            "conclusion": conclusion,
            "url": f"{api}/check-suites/{suite.id}",
            "before": parent,
            "after": suite.head_sha,
            "pull_requests": [self.shapes.pull_minimal(p) for p in self.state.open_pulls_with_head(repo,
                                                                                                  suite.head_sha)],
            "app": self.shapes.app(self.state.apps[suite.app_id]),
            "created_at": iso(min((r.started_at for r in runs), default=commit.timestamp)),
            "updated_at": iso(max((r.completed_at or r.started_at for r in runs), default=commit.timestamp)),
            "rerequestable": True,
            "runs_rerequestable": True,
            "latest_check_runs_count": len(runs),
            "check_runs_url": f"{api}/check-suites/{suite.id}/check-runs",
            "head_commit": {
                "id": commit.sha,
                "tree_id": commit.tree_sha,
                "message": commit.message,
                "timestamp": iso(commit.timestamp),
                "author": {"name": commit.author_name, "email": commit.author_email},
                "committer": {"name": commit.author_name, "email": commit.author_email},
            },
        }

    def check_run(self, action: str, run_id: int, sender: User, identifier: str | None = None) -> Json:
        run = self.state.check_runs[run_id]
        repo = self.state.repos[run.repo]
        check_run = self.shapes.check_run(run)
        check_run["check_suite"] = self.check_suite_object(self.state.check_suites[run.suite_id])
        out = {**self._envelope(action, repo, sender), "check_run": check_run}
        if identifier is not None:
            out["requested_action"] = {"identifier": identifier}
        return out

    def check_suite(self, action: str, suite: CheckSuite, sender: User) -> Json:
        repo = self.state.repos[suite.repo]
        return {**self._envelope(action, repo, sender), "check_suite": self.check_suite_object(suite)}
