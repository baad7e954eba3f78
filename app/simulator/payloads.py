"""GitHub-shaped JSON for every object the simulator serves.

Shapes follow GitHub's OpenAPI description (required fields present, enums respected). Every URL is built
from the server's own address, because PyGithub refuses to follow a URL on another host or port.
"""

from __future__ import annotations

import base64
import time
from typing import Any
from urllib.parse import quote, urlsplit

from align.simulator.diff import FileDiff
from align.simulator.gitstore import Commit, TreeEntry, blob_sha
from align.simulator.state import (
    LEGACY_PERMISSION,
    ROLES,
    App,
    CheckRun,
    Installation,
    IssueComment,
    PullRequest,
    Reaction,
    Repository,
    Review,
    ReviewComment,
    State,
    User,
)

Json = dict[str, Any]
REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")
MAX_TREE_ENTRIES = 100_000  # GitHub truncates recursive trees above this


def iso(ts: float | None) -> str | None:
    return None if ts is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def node_id(kind: str, ident: int | str) -> str:
    return base64.b64encode(f"0:{kind}{ident}".encode()).decode().rstrip("=")


def wrapped_base64(data: bytes) -> str:
    """GitHub's contents API wraps base64 at 60 characters per line."""
    encoded = base64.b64encode(data).decode()
    return "".join(encoded[i : i + 60] + "\n" for i in range(0, len(encoded), 60))


class Shapes:
    """Builds response bodies for one base URL (the address clients use to reach the server)."""

    def __init__(self, base: str, state: State, codeload_base: str | None = None) -> None:
        self.base = base.rstrip("/")
        self.state = state
        # archives live on another host on GitHub (codeload.github.com); here: a second listening address
        # (another origin), which stays reachable when clients talk to the API through a proxy
        self.codeload_base = (codeload_base or base).rstrip("/")

    def api(self, path: str) -> str:
        return f"{self.base}{path}"

    def repo_api(self, repo: Repository) -> str:
        return self.api(f"/repos/{repo.full_name}")

    def html(self, path: str) -> str:
        return f"{self.base}{path}"

    # people and apps

    def user(self, user: User) -> Json:
        login = quote(user.login)
        api = self.api(f"/users/{login}")
        html = self.html(f"/apps/{login.removesuffix('%5Bbot%5D')}" if user.type == "Bot" else f"/{login}")
        return {
            "login": user.login,
            "id": user.id,
            "node_id": node_id(user.type, user.id),
            "avatar_url": self.api(f"/_avatars/u/{user.id}?v=4"),
            "gravatar_id": "",
            "url": api,
            "html_url": html,
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": user.type,
            "user_view_type": "public",
            "site_admin": False,
        }

    def organization(self, org: User) -> Json:
        api = self.api(f"/orgs/{quote(org.login)}")
        return {
            "login": org.login,
            "id": org.id,
            "node_id": node_id("Organization", org.id),
            "url": api,
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events",
            "hooks_url": f"{api}/hooks",
            "issues_url": f"{api}/issues",
            "members_url": f"{api}/members{{/member}}",
            "public_members_url": f"{api}/public_members{{/member}}",
            "avatar_url": self.api(f"/_avatars/u/{org.id}?v=4"),
            "description": None,
        }

    def app(self, app: App) -> Json:
        return {
            "id": app.id,
            "slug": app.slug,
            "node_id": node_id("App", app.id),
            "client_id": f"Iv1.{app.id:016x}",
            "owner": self.user(app.owner),
            "name": app.name,
            "description": "",
            "external_url": self.html(f"/apps/{app.slug}"),
            "html_url": self.html(f"/apps/{app.slug}"),
            "created_at": iso(app.created_at),
            "updated_at": iso(app.created_at),
            "permissions": dict(app.permissions),
            "events": list(app.events),
            "installations_count": sum(1 for i in self.state.installations.values() if i.app_id == app.id),
        }

    def installation(self, inst: Installation) -> Json:
        app = self.state.apps[inst.app_id]
        api = self.api(f"/app/installations/{inst.id}")
        return {
            "id": inst.id,
            "account": self.user(inst.account),
            "repository_selection": "all" if inst.selected is None else "selected",
            "access_tokens_url": f"{api}/access_tokens",
            "repositories_url": self.api("/installation/repositories"),
            "html_url": self.html(f"/settings/installations/{inst.id}"),
            "app_id": inst.app_id,
            "app_slug": app.slug,
            "client_id": f"Iv1.{app.id:016x}",
            "target_id": inst.account.id,
            "target_type": inst.account.type if inst.account.type != "Bot" else "User",
            "permissions": dict(inst.permissions),
            "events": list(app.events),
            "created_at": iso(inst.created_at),
            "updated_at": iso(inst.created_at),
            "single_file_name": None,
            "has_multiple_single_files": False,
            "single_file_paths": [],
            "suspended_by": None,
            "suspended_at": None,
        }

    def association(self, repo: Repository, user: User) -> str:
        if user.login.lower() == repo.owner.login.lower():
            return "OWNER"
        if repo.collaborators.get(user.login.lower(), "none") != "none":
            return "COLLABORATOR"
        if user.type == "User" and any(c.author_login == user.login for c in repo.git.commits.values()):
            return "CONTRIBUTOR"
        return "NONE"

    # repositories and git data

    def repo(self, repo: Repository, full: bool = True) -> Json:
        api = self.repo_api(repo)
        html = self.html(f"/{repo.full_name}")
        host = urlsplit(self.base).netloc
        size_kb = sum(len(d) for d in repo.git.commits[repo.branches[repo.default_branch]].files.values()) // 1024
        open_issues = sum(1 for p in self.state.pulls.values() if p.repo == repo.key and p.state == "open")
        out: Json = {
            "id": repo.id,
            "node_id": node_id("Repository", repo.id),
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": self.user(repo.owner),
            "html_url": html,
            "description": None,
            "fork": False,
            "url": api,
            "forks_url": f"{api}/forks",
            "keys_url": f"{api}/keys{{/key_id}}",
            "collaborators_url": f"{api}/collaborators{{/collaborator}}",
            "teams_url": f"{api}/teams",
            "hooks_url": f"{api}/hooks",
            "issue_events_url": f"{api}/issues/events{{/number}}",
            "events_url": f"{api}/events",
            "assignees_url": f"{api}/assignees{{/user}}",
            "branches_url": f"{api}/branches{{/branch}}",
            "tags_url": f"{api}/tags",
            "blobs_url": f"{api}/git/blobs{{/sha}}",
            "git_tags_url": f"{api}/git/tags{{/sha}}",
            "git_refs_url": f"{api}/git/refs{{/sha}}",
            "trees_url": f"{api}/git/trees{{/sha}}",
            "statuses_url": f"{api}/statuses/{{sha}}",
            "languages_url": f"{api}/languages",
            "stargazers_url": f"{api}/stargazers",
            "contributors_url": f"{api}/contributors",
            "subscribers_url": f"{api}/subscribers",
            "subscription_url": f"{api}/subscription",
            "commits_url": f"{api}/commits{{/sha}}",
            "git_commits_url": f"{api}/git/commits{{/sha}}",
            "comments_url": f"{api}/comments{{/number}}",
            "issue_comment_url": f"{api}/issues/comments{{/number}}",
            "contents_url": f"{api}/contents/{{+path}}",
            "compare_url": f"{api}/compare/{{base}}...{{head}}",
            "merges_url": f"{api}/merges",
            "archive_url": f"{api}/{{archive_format}}{{/ref}}",
            "downloads_url": f"{api}/downloads",
            "issues_url": f"{api}/issues{{/number}}",
            "pulls_url": f"{api}/pulls{{/number}}",
            "milestones_url": f"{api}/milestones{{/number}}",
            "notifications_url": f"{api}/notifications{{?since,all,participating}}",
            "labels_url": f"{api}/labels{{/name}}",
            "releases_url": f"{api}/releases{{/id}}",
            "deployments_url": f"{api}/deployments",
            "created_at": iso(repo.created_at),
            "updated_at": iso(repo.pushed_at),
            "pushed_at": iso(repo.pushed_at),
            "git_url": f"git://{host}/{repo.full_name}.git",
            "ssh_url": f"git@{host}:{repo.full_name}.git",
            "clone_url": f"{html}.git",
            "svn_url": html,
            "homepage": None,
            "size": size_kb,
            "stargazers_count": 0,
            "watchers_count": 0,
            "language": None,
            "has_issues": True,
            "has_projects": True,
            "has_downloads": True,
            "has_wiki": True,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": 0,
            "mirror_url": None,
            "archived": False,
            "disabled": False,
            "open_issues_count": open_issues,
            "license": None,
            "allow_forking": True,
            "is_template": False,
            "web_commit_signoff_required": False,
            "topics": [],
            "visibility": "private" if repo.private else "public",
            "forks": 0,
            "open_issues": open_issues,
            "watchers": 0,
            "default_branch": repo.default_branch,
            "allow_squash_merge": True,
            "allow_merge_commit": True,
            "allow_rebase_merge": True,
            "delete_branch_on_merge": False,
            "custom_properties": {},
        }
        if full:
            out["network_count"] = 0
            out["subscribers_count"] = 0
        return out

    def git_user(self, commit: Commit) -> Json:
        return {"name": commit.author_name, "email": commit.author_email, "date": iso(commit.timestamp)}

    def commit(self, repo: Repository, commit: Commit, files: list[FileDiff] | None = None) -> Json:
        api = self.repo_api(repo)
        author = self.state.users.get(commit.author_login.lower())
        out: Json = {
            "sha": commit.sha,
            "node_id": node_id("Commit", commit.sha),
            "commit": {
                "author": self.git_user(commit),
                "committer": self.git_user(commit),
                "message": commit.message,
                "tree": {"sha": commit.tree_sha, "url": f"{api}/git/trees/{commit.tree_sha}"},
                "url": f"{api}/git/commits/{commit.sha}",
                "comment_count": 0,
                "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None,
                                 "verified_at": None},
            },
            "url": f"{api}/commits/{commit.sha}",
            "html_url": self.html(f"/{repo.full_name}/commit/{commit.sha}"),
            "comments_url": f"{api}/commits/{commit.sha}/comments",
            "author": self.user(author) if author else {},
            "committer": self.user(author) if author else {},
            "parents": [
                {"sha": p, "url": f"{api}/commits/{p}", "html_url": self.html(f"/{repo.full_name}/commit/{p}")}
                for p in commit.parents
            ],
        }
        if files is not None:
            adds = sum(f.additions for f in files)
            dels = sum(f.deletions for f in files)
            out["stats"] = {"total": adds + dels, "additions": adds, "deletions": dels}
            out["files"] = [self.diff_entry(repo, commit.sha, f) for f in files]
        return out

    def diff_entry(self, repo: Repository, ref: str, fd: FileDiff) -> Json:
        sha = fd.new_sha or fd.old_sha or ""
        path = quote(fd.path)
        out: Json = {
            "sha": sha,
            "filename": fd.path,
            "status": fd.status,
            "additions": fd.additions,
            "deletions": fd.deletions,
            "changes": fd.changes,
            "blob_url": self.html(f"/{repo.full_name}/blob/{ref}/{path}"),
            "raw_url": self.html(f"/{repo.full_name}/raw/{ref}/{path}"),
            "contents_url": self.api(f"/repos/{repo.full_name}/contents/{path}?ref={ref}"),
        }
        patch = fd.patch
        if patch is not None:
            out["patch"] = patch
        if fd.previous_path is not None:
            out["previous_filename"] = fd.previous_path
        return out

    def tree(self, repo: Repository, sha: str, recursive: bool) -> Json:
        api = self.repo_api(repo)
        rows: list[Json] = []

        def walk(tree_sha: str, prefix: str) -> None:
            for entry in repo.git.trees[tree_sha]:
                rows.append(self._tree_row(api, prefix + entry.name, entry))
                if recursive and entry.kind == "tree":
                    walk(entry.sha, f"{prefix}{entry.name}/")

        walk(sha, "")
        truncated = len(rows) > MAX_TREE_ENTRIES
        return {"sha": sha, "url": f"{api}/git/trees/{sha}", "tree": rows[:MAX_TREE_ENTRIES], "truncated": truncated}

    @staticmethod
    def _tree_row(api: str, path: str, entry: TreeEntry) -> Json:
        row: Json = {"path": path, "mode": entry.mode, "type": entry.kind, "sha": entry.sha}
        if entry.kind == "blob":
            row["size"] = entry.size
            row["url"] = f"{api}/git/blobs/{entry.sha}"
        else:
            row["url"] = f"{api}/git/trees/{entry.sha}"
        return row

    def content_item(self, repo: Repository, commit: Commit, ref: str, path: str, data: bytes | None,
                     with_content: bool) -> Json:
        """A file (data given) or directory entry of the contents API, as seen at `ref` (resolved: commit)."""
        api = self.repo_api(repo)
        qpath, qref = quote(path), quote(ref, safe="")
        is_file = data is not None
        sha = blob_sha(data) if data is not None else self._dir_sha(repo, commit, path)
        git_url = f"{api}/git/blobs/{sha}" if is_file else f"{api}/git/trees/{sha}"
        html_url = self.html(f"/{repo.full_name}/{'blob' if is_file else 'tree'}/{qref}/{qpath}")
        self_url = f"{api}/contents/{qpath}?ref={qref}"
        out: Json = {
            "type": "file" if is_file else "dir",
            "size": len(data) if data is not None else 0,
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": sha,
            "url": self_url,
            "git_url": git_url,
            "html_url": html_url,
            "download_url": self.html(f"/{repo.full_name}/raw/{commit.sha}/{qpath}") if is_file else None,
            "_links": {"self": self_url, "git": git_url, "html": html_url},
        }
        if with_content and data is not None:
            out["content"] = wrapped_base64(data)
            out["encoding"] = "base64"
        return out

    @staticmethod
    def _dir_sha(repo: Repository, commit: Commit, path: str) -> str:
        sha = commit.tree_sha
        for part in path.split("/"):
            sha = next(e.sha for e in repo.git.trees[sha] if e.name == part and e.kind == "tree")
        return sha

    # pull requests

    def _pull_end(self, repo: Repository, ref: str, sha: str) -> Json:
        return {"label": f"{repo.owner.login}:{ref}", "ref": ref, "sha": sha, "user": self.user(repo.owner),
                "repo": self.repo(repo, full=False)}

    def pull(self, pr: PullRequest, simple: bool = False) -> Json:
        repo = self.state.repos[pr.repo]
        api = self.repo_api(repo)
        url = f"{api}/pulls/{pr.number}"
        html = self.html(f"/{repo.full_name}/pull/{pr.number}")
        issue_url = f"{api}/issues/{pr.number}"
        out: Json = {
            "url": url,
            "id": pr.id,
            "node_id": node_id("PullRequest", pr.id),
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue_url,
            "commits_url": f"{url}/commits",
            "review_comments_url": f"{url}/comments",
            "review_comment_url": f"{api}/pulls/comments{{/number}}",
            "comments_url": f"{issue_url}/comments",
            "statuses_url": f"{api}/statuses/{pr.head_sha}",
            "number": pr.number,
            "state": pr.state,
            "locked": False,
            "title": pr.title,
            "user": self.user(pr.user),
            "body": pr.body,
            "labels": [],
            "milestone": None,
            "active_lock_reason": None,
            "created_at": iso(pr.created_at),
            "updated_at": iso(pr.updated_at),
            "closed_at": iso(pr.closed_at),
            "merged_at": None,
            "merge_commit_sha": None,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": self._pull_end(repo, pr.head_ref, pr.head_sha),
            "base": self._pull_end(repo, pr.base_ref, pr.base_sha),
            "_links": {
                "self": {"href": url},
                "html": {"href": html},
                "issue": {"href": issue_url},
                "comments": {"href": f"{issue_url}/comments"},
                "review_comments": {"href": f"{url}/comments"},
                "review_comment": {"href": f"{api}/pulls/comments{{/number}}"},
                "commits": {"href": f"{url}/commits"},
                "statuses": {"href": f"{api}/statuses/{pr.head_sha}"},
            },
            "author_association": self.association(repo, pr.user),
            "auto_merge": None,
            "draft": pr.draft,
        }
        if not simple:
            files = self.state.pull_diff(pr)
            out.update(
                {
                    "merged": False,
                    "mergeable": True,
                    "rebaseable": True,
                    "mergeable_state": "draft" if pr.draft else "clean",
                    "merged_by": None,
                    "comments": sum(
                        1 for c in self.state.issue_comments.values() if c.repo == pr.repo and c.number == pr.number
                    ),
                    "review_comments": sum(
                        1 for c in self.state.review_comments.values() if c.repo == pr.repo and c.number == pr.number
                    ),
                    "maintainer_can_modify": False,
                    "commits": len(self.state.pull_commits(pr)),
                    "additions": sum(f.additions for f in files),
                    "deletions": sum(f.deletions for f in files),
                    "changed_files": len(files),
                }
            )
        return out

    def issue(self, pr: PullRequest) -> Json:
        """The issue side of a pull request (issues and pull requests share numbers and comments)."""
        repo = self.state.repos[pr.repo]
        api = self.repo_api(repo)
        pull = self.pull(pr, simple=True)
        url = f"{api}/issues/{pr.number}"
        comments = sum(1 for c in self.state.issue_comments.values() if c.repo == pr.repo and c.number == pr.number)
        return {
            "url": url,
            "repository_url": api,
            "labels_url": f"{url}/labels{{/name}}",
            "comments_url": f"{url}/comments",
            "events_url": f"{url}/events",
            "html_url": pull["html_url"],
            "id": pr.id,
            "node_id": node_id("Issue", pr.id),
            "number": pr.number,
            "title": pr.title,
            "user": self.user(pr.user),
            "labels": [],
            "state": pr.state,
            "locked": False,
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "comments": comments,
            "created_at": iso(pr.created_at),
            "updated_at": iso(pr.updated_at),
            "closed_at": iso(pr.closed_at),
            "author_association": pull["author_association"],
            "active_lock_reason": None,
            "draft": pr.draft,
            "pull_request": {
                "url": pull["url"],
                "html_url": pull["html_url"],
                "diff_url": pull["diff_url"],
                "patch_url": pull["patch_url"],
                "merged_at": None,
            },
            "body": pr.body,
            "reactions": {"url": f"{url}/reactions", "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0,
                          "confused": 0, "heart": 0, "rocket": 0, "eyes": 0},
            "timeline_url": f"{url}/timeline",
            "performed_via_github_app": None,
            "state_reason": None,
        }

    def pull_minimal(self, pr: PullRequest) -> Json:
        repo = self.state.repos[pr.repo]
        ref_repo = {"id": repo.id, "url": self.repo_api(repo), "name": repo.name}
        return {
            "url": f"{self.repo_api(repo)}/pulls/{pr.number}",
            "id": pr.id,
            "number": pr.number,
            "head": {"ref": pr.head_ref, "sha": pr.head_sha, "repo": ref_repo},
            "base": {"ref": pr.base_ref, "sha": pr.base_sha, "repo": ref_repo},
        }

    # checks

    def check_run(self, run: CheckRun) -> Json:
        repo = self.state.repos[run.repo]
        url = f"{self.repo_api(repo)}/check-runs/{run.id}"
        html = self.html(f"/{repo.full_name}/runs/{run.id}")
        pulls = self.state.open_pulls_with_head(repo, run.head_sha)
        return {
            "id": run.id,
            "name": run.name,
            "node_id": node_id("CheckRun", run.id),
            "head_sha": run.head_sha,
            "external_id": run.external_id,
            "url": url,
            "html_url": html,
            "details_url": run.details_url or html,
            "status": run.status,
            "conclusion": run.conclusion,
            "started_at": iso(run.started_at),
            "completed_at": iso(run.completed_at),
            "output": {
                "title": run.output.get("title"),
                "summary": run.output.get("summary"),
                "text": run.output.get("text"),
                "annotations_count": len(run.annotations),
                "annotations_url": f"{url}/annotations",
            },
            "check_suite": {"id": run.suite_id},
            "app": self.app(self.state.apps[run.app_id]),
            "pull_requests": [self.pull_minimal(p) for p in pulls],
        }

    def annotation(self, run: CheckRun, annotation: Json) -> Json:
        repo = self.state.repos[run.repo]
        return {
            "path": annotation["path"],
            "blob_href": self.html(f"/{repo.full_name}/blob/{run.head_sha}/{quote(annotation['path'])}"),
            "start_line": annotation["start_line"],
            "end_line": annotation["end_line"],
            "start_column": annotation.get("start_column"),
            "end_column": annotation.get("end_column"),
            "annotation_level": annotation["annotation_level"],
            "title": annotation.get("title"),
            "message": annotation["message"],
            "raw_details": annotation.get("raw_details"),
        }

    # reviews and comments

    def review(self, review: Review) -> Json:
        repo = self.state.repos[review.repo]
        pull_url = f"{self.repo_api(repo)}/pulls/{review.number}"
        html = self.html(f"/{repo.full_name}/pull/{review.number}#pullrequestreview-{review.id}")
        out: Json = {
            "id": review.id,
            "node_id": node_id("PullRequestReview", review.id),
            "user": self.user(review.user),
            "body": review.body,
            "state": review.state,
            "html_url": html,
            "pull_request_url": pull_url,
            "author_association": self.association(repo, review.user),
            "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
            "commit_id": review.commit_id,
        }
        if review.submitted_at is not None:
            out["submitted_at"] = iso(review.submitted_at)
        return out

    def review_comment(self, comment: ReviewComment) -> Json:
        repo = self.state.repos[comment.repo]
        api = self.repo_api(repo)
        url = f"{api}/pulls/comments/{comment.id}"
        pull_url = f"{api}/pulls/{comment.number}"
        html = self.html(f"/{repo.full_name}/pull/{comment.number}#discussion_r{comment.id}")
        return {
            "url": url,
            "pull_request_review_id": comment.review_id,
            "id": comment.id,
            "node_id": node_id("PullRequestReviewComment", comment.id),
            "diff_hunk": comment.diff_hunk,
            "path": comment.path,
            "position": comment.position,
            "original_position": comment.position,
            "commit_id": comment.commit_id,
            "original_commit_id": comment.commit_id,
            "user": self.user(comment.user),
            "body": comment.body,
            "created_at": iso(comment.created_at),
            "updated_at": iso(comment.updated_at),
            "html_url": html,
            "pull_request_url": pull_url,
            "author_association": self.association(repo, comment.user),
            "_links": {"self": {"href": url}, "html": {"href": html}, "pull_request": {"href": pull_url}},
            "reactions": self._reaction_rollup(url, []),
            "start_line": comment.start_line,
            "original_start_line": comment.start_line,
            "start_side": comment.start_side,
            "line": comment.line,
            "original_line": comment.line,
            "side": comment.side,
            "subject_type": "line",
        }

    def _reaction_rollup(self, url: str, reactions: list[Reaction]) -> Json:
        out: Json = {"url": f"{url}/reactions", "total_count": len(reactions)}
        for content in REACTIONS:
            out[content] = sum(1 for r in reactions if r.content == content)
        return out

    def issue_comment(self, comment: IssueComment) -> Json:
        repo = self.state.repos[comment.repo]
        api = self.repo_api(repo)
        url = f"{api}/issues/comments/{comment.id}"
        kind = "pull" if (repo.key, comment.number) in self.state.pulls else "issues"
        reactions = [r for r in self.state.reactions.values() if r.comment_id == comment.id]
        app = next((a for a in self.state.apps.values() if a.bot is comment.user), None)
        return {
            "id": comment.id,
            "node_id": node_id("IssueComment", comment.id),
            "url": url,
            "html_url": self.html(f"/{repo.full_name}/{kind}/{comment.number}#issuecomment-{comment.id}"),
            "body": comment.body,
            "user": self.user(comment.user),
            "created_at": iso(comment.created_at),
            "updated_at": iso(comment.updated_at),
            "issue_url": f"{api}/issues/{comment.number}",
            "author_association": self.association(repo, comment.user),
            "reactions": self._reaction_rollup(url, reactions),
            "performed_via_github_app": self.app(app) if app else None,
        }

    def reaction(self, reaction: Reaction) -> Json:
        return {
            "id": reaction.id,
            "node_id": node_id("Reaction", reaction.id),
            "user": self.user(reaction.user),
            "content": reaction.content,
            "created_at": iso(reaction.created_at),
        }

    def collaborator_permission(self, repo: Repository, user: User, role: str) -> Json:
        rank = ROLES.index(role)
        collaborator = self.user(user)
        collaborator["permissions"] = {
            "admin": rank >= ROLES.index("admin"),
            "maintain": rank >= ROLES.index("maintain"),
            "push": rank >= ROLES.index("write"),
            "triage": rank >= ROLES.index("triage"),
            "pull": rank >= ROLES.index("read"),
        }
        collaborator["role_name"] = role
        # GitHub reports legacy values in `permission` (maintain -> write, triage -> read); the real role is in
        # `role_name`.
        return {"permission": LEGACY_PERMISSION[role], "role_name": role, "user": collaborator}
