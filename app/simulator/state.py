"""In-memory model of the GitHub objects a review bot touches.

One `State` holds everything; the HTTP handlers and the `Simulator` Python API both work on it under
`State.lock` (the server runs in its own thread).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from align.simulator.diff import FileDiff, diff_trees
from align.simulator.gitstore import Commit, GitStore

Content = bytes | str
Changes = Mapping[str, Content | None]  # path -> new content, None deletes the file

# Repository roles from weakest to strongest, and the legacy `permission` value GitHub reports for each
ROLES = ("none", "read", "triage", "write", "maintain", "admin")
LEGACY_PERMISSION = {"none": "none", "read": "read", "triage": "read", "write": "write", "maintain": "write",
                     "admin": "admin"}
DEFAULT_INSTALLATION_PERMISSIONS = {
    "checks": "write",
    "pull_requests": "write",
    "issues": "write",
    "contents": "read",
    "metadata": "read",
    "members": "read",
}
APP_EVENTS = ["check_run", "check_suite", "issue_comment", "pull_request"]  # installation events come unasked


def as_bytes(content: Content) -> bytes:
    return content.encode() if isinstance(content, str) else content


@dataclass
class User:
    login: str
    id: int
    type: str = "User"  # User | Bot | Organization


@dataclass
class App:
    id: int
    slug: str
    name: str
    public_key_pem: str
    owner: User
    bot: User
    created_at: float
    permissions: dict[str, str]
    events: list[str]


@dataclass
class Installation:
    id: int
    app_id: int
    account: User
    permissions: dict[str, str]
    selected: set[str] | None  # lower-case full names; None = all repositories of the account
    created_at: float


@dataclass
class Token:
    value: str
    installation_id: int
    expires_at: float
    permissions: dict[str, str]
    repositories: frozenset[str] | None  # lower-case full names the token is limited to


@dataclass
class Repository:
    id: int
    owner: User
    name: str
    default_branch: str
    private: bool
    created_at: float
    git: GitStore = field(default_factory=GitStore)
    branches: dict[str, str] = field(default_factory=dict)
    collaborators: dict[str, str] = field(default_factory=dict)  # login -> role
    pushed_at: float = 0.0
    next_number: int = 1  # issues and pull requests share one number sequence

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"

    @property
    def key(self) -> str:
        return self.full_name.lower()


@dataclass
class PullRequest:
    id: int
    number: int
    repo: str  # key of the repository
    title: str
    body: str | None
    user: User
    head_ref: str
    head_sha: str
    base_ref: str
    base_sha: str
    draft: bool
    created_at: float
    updated_at: float
    state: str = "open"
    closed_at: float | None = None


@dataclass
class CheckSuite:
    id: int
    repo: str
    head_sha: str
    head_branch: str | None
    app_id: int


@dataclass
class CheckRun:
    id: int
    repo: str
    name: str
    head_sha: str
    suite_id: int
    app_id: int
    status: str
    conclusion: str | None
    started_at: float
    completed_at: float | None
    external_id: str
    details_url: str | None
    output: dict[str, str | None] = field(default_factory=lambda: {"title": None, "summary": None, "text": None})
    annotations: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, str]] = field(default_factory=list)
    # (status, output title) after each create or update that set them: tests see a run that was queued.
    history: list[tuple[str, str | None]] = field(default_factory=list)


@dataclass
class Review:
    id: int
    repo: str
    number: int
    user: User
    body: str
    state: str  # COMMENTED | CHANGES_REQUESTED | APPROVED | PENDING
    commit_id: str
    submitted_at: float | None


@dataclass
class ReviewComment:
    id: int
    review_id: int
    repo: str
    number: int
    user: User
    body: str
    path: str
    line: int | None
    side: str
    start_line: int | None
    start_side: str | None
    position: int
    commit_id: str
    diff_hunk: str
    created_at: float
    updated_at: float


@dataclass
class IssueComment:
    id: int
    repo: str
    number: int
    user: User
    body: str
    created_at: float
    updated_at: float


@dataclass
class Reaction:
    id: int
    comment_id: int
    user: User
    content: str
    created_at: float


class State:
    """All simulated objects."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._ids: dict[str, int] = {}
        self.users: dict[str, User] = {}
        self.apps: dict[int, App] = {}
        self.installations: dict[int, Installation] = {}
        self.tokens: dict[str, Token] = {}
        self.repos: dict[str, Repository] = {}
        self.pulls: dict[tuple[str, int], PullRequest] = {}
        self.check_suites: dict[int, CheckSuite] = {}
        self.check_runs: dict[int, CheckRun] = {}
        self.reviews: dict[int, Review] = {}
        self.review_comments: dict[int, ReviewComment] = {}
        self.issue_comments: dict[int, IssueComment] = {}
        self.reactions: dict[int, Reaction] = {}
        self.archive_tokens: dict[str, tuple[str, str, float]] = {}  # codeload token -> (repo, sha, expiry)
        # what the archive host sends instead of an archive (garbage, a cut-off stream, a bomb); None: the archive
        self.archive_body: Callable[[bytes], bytes | Iterable[bytes]] | None = None
        # The contents API answering as with the object media type whatever was asked: a file of 1-100 MB
        # comes as `encoding: none` without content, not as 403 "too large" (GitHub's default today).
        self.contents_as_objects = False
        self._diff_cache: dict[tuple[str, str, str], list[FileDiff]] = {}

    @staticmethod
    def now() -> float:
        return time.time()

    def expire_tokens(self, installation_id: int | None = None) -> None:
        """Make issued installation tokens invalid now (GitHub then answers 401 "Bad credentials")."""
        with self.lock:
            for token in self.tokens.values():
                if installation_id in (None, token.installation_id):
                    token.expires_at = 0.0

    def next_id(self, kind: str) -> int:
        # distinct, realistic-looking ranges per kind, so an issue comment id never equals a review id
        start = {"user": 1_000, "repo": 500_000, "pull": 2_000_000, "comment": 3_000_000, "review": 4_000_000,
                 "check": 5_000_000, "suite": 6_000_000, "reaction": 7_000_000, "installation": 40_000}
        self._ids[kind] = self._ids.get(kind, start.get(kind, 9_000_000)) + 1
        return self._ids[kind]

    # users and repositories

    def user(self, login: str, type_: str = "User") -> User:
        found = self.users.get(login.lower())
        if found is None:
            found = User(login, self.next_id("user"), type_)
            self.users[login.lower()] = found
        return found

    def repo(self, full_name: str) -> Repository | None:
        return self.repos.get(full_name.lower())

    def installation_for(self, repo: Repository, app_id: int | None = None) -> Installation | None:
        """The installation (of `app_id`, or of the only app) that covers `repo`."""
        for inst in self.installations.values():
            if inst.account.login.lower() != repo.owner.login.lower():
                continue
            if app_id is not None and inst.app_id != app_id:
                continue
            if inst.selected is None or repo.key in inst.selected:
                return inst
        return None

    def resolve_ref(self, repo: Repository, ref: str) -> str | None:
        """A commit sha for a full or short sha, a branch name or refs/heads/<branch>."""
        if ref in repo.git.commits:
            return ref
        branch = ref.removeprefix("refs/heads/")
        if branch in repo.branches:
            return repo.branches[branch]
        if all(c in "0123456789abcdefABCDEF" for c in ref) and 7 <= len(ref) < 40:
            return repo.git.resolve_prefix(ref)
        return None

    def commit_files(
        self, repo: Repository, parent: str | None, changes: Changes, message: str, author: str
    ) -> Commit:
        files = dict(repo.git.commits[parent].files) if parent else {}
        for path, content in changes.items():
            if content is None:
                files.pop(path, None)
            else:
                files[path.lstrip("/")] = as_bytes(content)
        user = self.user(author)
        commit = repo.git.add_commit(
            files,
            (parent,) if parent else (),
            message,
            author_login=user.login,
            author_name=user.login,
            author_email=f"{user.id}+{user.login}@users.noreply.github.com",
            timestamp=self.now(),
        )
        repo.pushed_at = self.now()
        return commit

    # pull requests

    def pull(self, repo: Repository, number: int) -> PullRequest | None:
        return self.pulls.get((repo.key, number))

    def open_pulls_with_head(self, repo: Repository, sha: str) -> list[PullRequest]:
        return [p for p in self.pulls.values() if p.repo == repo.key and p.head_sha == sha and p.state == "open"]

    def diff(self, repo: Repository, base_sha: str, head_sha: str) -> list[FileDiff]:
        """Files changed from the merge base of base and head to head (GitHub's three-dot diff)."""
        key = (repo.key, base_sha, head_sha)
        if key not in self._diff_cache:
            merge_base = repo.git.merge_base(base_sha, head_sha) or base_sha
            self._diff_cache[key] = diff_trees(repo.git.commits[merge_base].files, repo.git.commits[head_sha].files)
        return self._diff_cache[key]

    def pull_diff(self, pr: PullRequest, commit_id: str | None = None) -> list[FileDiff]:
        repo = self.repos[pr.repo]
        return self.diff(repo, pr.base_sha, commit_id or pr.head_sha)

    def pull_commits(self, pr: PullRequest) -> list[Commit]:
        return self.repos[pr.repo].git.commits_between(pr.base_sha, pr.head_sha)

    # checks

    def suite_for(self, repo: Repository, head_sha: str, app_id: int) -> CheckSuite:
        for suite in self.check_suites.values():
            if suite.repo == repo.key and suite.head_sha == head_sha and suite.app_id == app_id:
                return suite
        branch = next((b for b, sha in repo.branches.items() if sha == head_sha), None)
        suite = CheckSuite(self.next_id("suite"), repo.key, head_sha, branch, app_id)
        self.check_suites[suite.id] = suite
        return suite
