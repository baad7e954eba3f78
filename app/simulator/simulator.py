"""The `Simulator`: a local GitHub for tests and `align demo`.

It runs a real HTTP server on 127.0.0.1 (see `server.py`) and offers a Python API to seed repositories and
pull requests, act as users (push, comment, click "Re-run"), send the matching signed webhooks, read back
what a bot posted, inject faults and inspect the requests it received.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from align.simulator.events import Events
from align.simulator.faults import Fault, Faults
from align.simulator.limits import PrimaryLimits, SecondaryLimits
from align.simulator.payloads import Json, Shapes
from align.simulator.server import Call, CallLog, SimulatorApp
from align.simulator.serving import BackgroundServer
from align.simulator.state import (
    APP_EVENTS,
    DEFAULT_INSTALLATION_PERMISSIONS,
    ROLES,
    App,
    Changes,
    CheckRun,
    Installation,
    IssueComment,
    PullRequest,
    Reaction,
    Repository,
    Review,
    ReviewComment,
    State,
    Token,
    User,
)
from align.simulator.webhooks import Delivery, WebhookSender


class Simulator:
    """A fake GitHub that enforces GitHub's real limits and answers with GitHub's real error texts."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = State()
        self.faults = Faults()
        self.budgets = PrimaryLimits()
        self.secondary = SecondaryLimits()
        self._calls = CallLog()
        self._webhooks = WebhookSender()
        self._server = BackgroundServer(self._build_app(), host, port)
        # GitHub redirects archive downloads to another host (codeload.github.com): another port here
        self._archive_server = BackgroundServer(self._build_app(), host, 0)
        self._started = False
        # Clients may reach the server through a proxy (Prism in the contract tests): URLs in responses must
        # then carry the proxy's address, or PyGithub refuses to follow them.
        self.public_url: str | None = None
        self.send_check_suite_requested = False
        # GitHub Enterprise Server without subdomain isolation serves archives from the API's own host
        self.archives_on_api_host = False

    def _build_app(self) -> SimulatorApp:
        return SimulatorApp(
            self.state,
            public_url=lambda: self.base_url,
            archive_url=lambda: self.archive_url,
            faults=self.faults,
            budgets=self.budgets,
            secondary=self.secondary,
            calls=self._calls,
            drop_connection=lambda scope: self._server.drop(scope),
        )

    # lifecycle

    def start(self) -> str:
        """Start serving; returns the base URL to give PyGithub (`base_url=`) and the service."""
        if not self._started:
            self._server.start()
            self._archive_server.start()
            self._started = True
        return self.base_url

    def stop(self) -> None:
        self._server.stop()
        self._archive_server.stop()
        self._webhooks.close()
        self._started = False

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return (self.public_url or self._server.url).rstrip("/")

    @property
    def archive_url(self) -> str:
        """The archive host's address (it stays the same after `stop_archive_host`)."""
        return self.server_url if self.archives_on_api_host else self._archive_server.url

    def stop_archive_host(self) -> None:
        """Close the archive host: downloads GitHub redirects there get "connection refused", as behind an
        egress firewall that only lets the API through."""
        self._archive_server.stop()

    def serve_archives_as(self, body: Callable[[bytes], bytes | Iterable[bytes]] | None) -> None:
        """The archive host answers 200 with `body(archive)` instead of the archive: garbage, a cut-off
        stream, a gzip bomb (an iterable is streamed, so a large one is never held). None: archives again."""
        with self.state.lock:
            self.state.archive_body = body

    def answer_contents_as_objects(self, on: bool = True) -> None:
        """The contents API answers as with `application/vnd.github.object` by default: a file over 1 MB comes
        as `"encoding": "none"` and an empty `content` (what GitHub documents for that media type), rather
        than the 403 "too large" its default media type gives today."""
        with self.state.lock:
            self.state.contents_as_objects = on

    @property
    def server_url(self) -> str:
        """Where the server itself listens (differs from base_url when a proxy is in front)."""
        return self._server.url

    def _shapes(self) -> Shapes:
        return Shapes(self.base_url, self.state, self.server_url)

    def _events(self) -> Events:
        return Events(self._shapes(), self._webhooks.app_id or None)

    # the app and its installations

    def register_app(
        self,
        app_id: int,
        public_key_pem: str | bytes,
        slug: str = "align",
        *,
        name: str | None = None,
        owner: str = "align-dev",
        permissions: Mapping[str, str] | None = None,
        events: list[str] | None = None,
    ) -> App:
        pem = public_key_pem.decode() if isinstance(public_key_pem, bytes) else public_key_pem
        with self.state.lock:
            app = App(
                id=app_id,
                slug=slug,
                name=name or slug.capitalize(),
                public_key_pem=pem,
                owner=self.state.user(owner, "Organization"),
                bot=self.state.user(f"{slug}[bot]", "Bot"),
                created_at=self.state.now(),
                permissions=dict(permissions or DEFAULT_INSTALLATION_PERMISSIONS),
                events=list(events or APP_EVENTS),
            )
            self.state.apps[app_id] = app
            return app

    def create_installation(
        self,
        account: str,
        *,
        app_id: int | None = None,
        permissions: Mapping[str, str] | None = None,
        repositories: list[str] | None = None,
        account_type: str = "Organization",
    ) -> int:
        """Install the app on an account; `repositories` (full names) makes it a "selected" installation."""
        with self.state.lock:
            app = self._app(app_id)
            installation = Installation(
                id=self.state.next_id("installation"),
                app_id=app.id,
                account=self.state.user(account, account_type),
                permissions=dict(permissions or app.permissions),
                selected={r.lower() for r in repositories} if repositories is not None else None,
                created_at=self.state.now(),
            )
            self.state.installations[installation.id] = installation
            return installation.id

    def _app(self, app_id: int | None) -> App:
        if app_id is not None:
            return self.state.apps[app_id]
        if len(self.state.apps) != 1:
            raise ValueError("register_app() first (or pass app_id when several apps are registered)")
        return next(iter(self.state.apps.values()))

    # repositories and pushes

    def create_repo(
        self,
        full_name: str,
        files: Changes,
        installation_id: int | None = None,
        default_branch: str = "main",
        *,
        private: bool = True,
        author: str | None = None,
        message: str = "Initial commit",
    ) -> str:
        """Create a repository with one commit holding `files`; returns that commit's sha."""
        owner_login, _, name = full_name.partition("/")
        with self.state.lock:
            if self.state.repo(full_name) is not None:
                raise ValueError(f"{full_name} exists")
            owner = self.state.user(owner_login, "Organization")  # an existing account keeps its type
            repo = Repository(self.state.next_id("repo"), owner, name, default_branch, private, self.state.now())
            self.state.repos[repo.key] = repo
            commit = self.state.commit_files(repo, None, files, message, author or owner.login)
            repo.branches[default_branch] = commit.sha
            if installation_id is not None:
                installation = self.state.installations[installation_id]
                if installation.account.login.lower() != owner.login.lower():
                    raise ValueError(f"installation {installation_id} is on {installation.account.login}")
                if installation.selected is not None:
                    installation.selected.add(repo.key)
            return commit.sha

    def _repo(self, full_name: str) -> Repository:
        repo = self.state.repo(full_name)
        if repo is None:
            raise KeyError(full_name)
        return repo

    def create_branch(self, repo: str, branch: str, from_ref: str | None = None) -> str:
        with self.state.lock:
            r = self._repo(repo)
            sha = self.state.resolve_ref(r, from_ref or r.default_branch)
            if sha is None:
                raise KeyError(from_ref)
            r.branches[branch] = sha
            return sha

    def commit(
        self, repo: str, branch: str, changes: Changes, message: str = "Update files", *, author: str | None = None
    ) -> str:
        """Push one commit to `branch` (created from the default branch if missing); content None deletes.

        Open pull requests whose head is `branch` get `pull_request.synchronize`.
        """
        with self.state.lock:
            r = self._repo(repo)
            parent = r.branches.get(branch) or r.branches[r.default_branch]
            commit = self.state.commit_files(r, parent, changes, message, author or r.owner.login)
            before = r.branches.get(branch)
            r.branches[branch] = commit.sha
        self._after_push(r, branch, before, commit.sha, author or r.owner.login)
        return commit.sha

    def force_push(
        self,
        repo: str,
        branch: str,
        files: Changes,
        message: str = "Rewrite history",
        *,
        author: str | None = None,
        onto: str | None = None,
    ) -> str:
        """Replace `branch` with one new commit on `onto` (default: where the branch forked from the default
        branch) whose files are `onto`'s plus `files`; the old head is no longer on the branch."""
        with self.state.lock:
            r = self._repo(repo)
            before = r.branches.get(branch)
            default_tip = r.branches[r.default_branch]
            base = onto or (r.git.merge_base(before, default_tip) if before else None) or default_tip
            base_sha = self.state.resolve_ref(r, base)
            if base_sha is None:
                raise KeyError(base)
            commit = self.state.commit_files(r, base_sha, files, message, author or r.owner.login)
            r.branches[branch] = commit.sha
        self._after_push(r, branch, before, commit.sha, author or r.owner.login)
        return commit.sha

    def _after_push(self, repo: Repository, branch: str, before: str | None, after: str, pusher: str) -> None:
        deliveries: list[tuple[str, Json]] = []
        with self.state.lock:
            sender = self.state.user(pusher)
            events = self._events()
            for pr in self.state.pulls.values():
                if pr.repo == repo.key and pr.head_ref == branch and pr.state == "open":
                    pr.head_sha = after
                    pr.base_sha = repo.branches[pr.base_ref]
                    pr.updated_at = self.state.now()
                    deliveries.append(("pull_request", events.pull_request(
                        "synchronize", pr, sender, before=before or "0" * 40, after=after)))
            if self.send_check_suite_requested and self.state.apps:
                suite = self.state.suite_for(repo, after, self._webhooks.app_id or self._app(None).id)
                deliveries.append(("check_suite", events.check_suite("requested", suite, sender)))
        for event, payload in deliveries:
            self._send(event, payload)

    # pull requests

    def open_pull(
        self,
        repo: str,
        head: str,
        base: str | None = None,
        title: str = "Update",
        user: str = "octocat",
        draft: bool = False,
        body: str | None = None,
    ) -> int:
        """Open a pull request from branch `head` into `base` (default branch); sends `opened`."""
        with self.state.lock:
            r = self._repo(repo)
            base = base or r.default_branch
            if head not in r.branches or base not in r.branches:
                raise KeyError(f"no branch {head!r} or {base!r} in {repo}")
            now = self.state.now()
            pr = PullRequest(
                id=self.state.next_id("pull"), number=r.next_number, repo=r.key, title=title, body=body,
                user=self.state.user(user), head_ref=head, head_sha=r.branches[head], base_ref=base,
                base_sha=r.branches[base], draft=draft, created_at=now, updated_at=now,
            )
            r.next_number += 1
            self.state.pulls[(r.key, pr.number)] = pr
            payload = self._events().pull_request("opened", pr, pr.user)
        self._send("pull_request", payload)
        return pr.number

    def _pull(self, repo: str, number: int) -> PullRequest:
        pr = self.state.pull(self._repo(repo), number)
        if pr is None:
            raise KeyError(f"{repo}#{number}")
        return pr

    def _pull_event(self, repo: str, number: int, action: str, change: Any, sender: str | None, **extra: Any) -> None:
        with self.state.lock:
            pr = self._pull(repo, number)
            change(pr)
            pr.updated_at = self.state.now()
            who = self.state.user(sender) if sender else pr.user
            payload = self._events().pull_request(action, pr, who, **extra)
        self._send("pull_request", payload)

    def close_pull(self, repo: str, number: int, sender: str | None = None) -> None:
        def close(pr: PullRequest) -> None:
            pr.state, pr.closed_at = "closed", self.state.now()

        self._pull_event(repo, number, "closed", close, sender)

    def reopen_pull(self, repo: str, number: int, sender: str | None = None) -> None:
        def reopen(pr: PullRequest) -> None:
            r = self.state.repos[pr.repo]
            pr.state, pr.closed_at = "open", None
            pr.head_sha, pr.base_sha = r.branches[pr.head_ref], r.branches[pr.base_ref]

        self._pull_event(repo, number, "reopened", reopen, sender)

    def mark_ready(self, repo: str, number: int, sender: str | None = None) -> None:
        self._pull_event(repo, number, "ready_for_review", lambda pr: setattr(pr, "draft", False), sender)

    def convert_to_draft(self, repo: str, number: int, sender: str | None = None) -> None:
        self._pull_event(repo, number, "converted_to_draft", lambda pr: setattr(pr, "draft", True), sender)

    def edit_pull(
        self,
        repo: str,
        number: int,
        *,
        base: str | None = None,
        title: str | None = None,
        body: str | None = None,
        sender: str | None = None,
    ) -> None:
        """Edit a pull request; a new base sends `edited` with `changes.base` like GitHub."""
        with self.state.lock:
            pr = self._pull(repo, number)
            r = self.state.repos[pr.repo]
            changes: dict[str, Any] = {}
            if base is not None and base != pr.base_ref:
                if base not in r.branches:
                    raise KeyError(base)
                changes["base"] = {"ref": {"from": pr.base_ref}, "sha": {"from": pr.base_sha}}
            if title is not None and title != pr.title:
                changes["title"] = {"from": pr.title}
            if body is not None and body != pr.body:
                changes["body"] = {"from": pr.body or ""}

        def apply(p: PullRequest) -> None:
            if "base" in changes:
                p.base_ref, p.base_sha = base or p.base_ref, r.branches[base or p.base_ref]
            p.title = title if title is not None else p.title
            p.body = body if body is not None else p.body

        self._pull_event(repo, number, "edited", apply, sender, changes=changes)

    # people

    def add_user(self, login: str, user_type: str = "User") -> User:
        with self.state.lock:
            return self.state.user(login, user_type)

    def set_permission(self, repo: str, user: str, permission: str) -> None:
        """Make `user` a collaborator with a role: admin | maintain | write | triage | read | none."""
        if permission not in ROLES:
            raise ValueError(f"permission must be one of {ROLES}")
        with self.state.lock:
            r = self._repo(repo)
            self.state.user(user)
            r.collaborators[user.lower()] = permission

    def add_comment(self, repo: str, number: int, user: str, body: str, user_type: str = "User") -> int:
        """A person (or another bot) comments on the pull request; sends `issue_comment.created`."""
        with self.state.lock:
            pr = self._pull(repo, number)
            now = self.state.now()
            author = self.state.user(user, user_type)
            comment = IssueComment(self.state.next_id("comment"), pr.repo, number, author, body, now, now)
            self.state.issue_comments[comment.id] = comment
            payload = self._events().issue_comment("created", pr, comment)
        self._send("issue_comment", payload)
        return comment.id

    # clicks in the checks UI

    def rerequest_check_run(self, check_run_id: int, user: str | None = None) -> int:
        """The "Re-run" button: sends `check_run.rerequested`; returns the delivery's HTTP status."""
        return self._check_run_event("rerequested", check_run_id, user)

    def request_action(self, check_run_id: int, identifier: str, user: str | None = None) -> int:
        """A click on one of the check run's action buttons: sends `check_run.requested_action`."""
        with self.state.lock:
            run = self.state.check_runs[check_run_id]
            if identifier not in {a["identifier"] for a in run.actions}:
                raise KeyError(f"check run {check_run_id} has no action {identifier!r}")
        return self._check_run_event("requested_action", check_run_id, user, identifier)

    def _check_run_event(self, action: str, run_id: int, user: str | None, identifier: str | None = None) -> int:
        with self.state.lock:
            run = self.state.check_runs[run_id]
            sender = self.state.user(user) if user else self.state.repos[run.repo].owner
            payload = self._events().check_run(action, run_id, sender, identifier)
        return self._send("check_run", payload)

    def rerequest_check_suite(self, check_suite_id: int, user: str | None = None) -> int:
        """The "Re-run all checks" button: sends `check_suite.rerequested`."""
        with self.state.lock:
            suite = self.state.check_suites[check_suite_id]
            sender = self.state.user(user) if user else self.state.repos[suite.repo].owner
            payload = self._events().check_suite("rerequested", suite, sender)
        return self._send("check_suite", payload)

    # webhooks

    def configure_webhook(self, url: str | None, secret: str | None, *, check_suite_requested: bool = False) -> None:
        """Where deliveries go (None: nowhere); `check_suite_requested` also sends `check_suite.requested` on
        every push, as GitHub does for apps with checks permission."""
        app = self._app(None) if len(self.state.apps) == 1 else None
        self._webhooks.configure(url, secret, hook_id=(app.id if app else 1) * 10 + 7, app_id=app.id if app else 0)
        self.send_check_suite_requested = check_suite_requested

    def _send(self, event: str, payload: Json) -> int:
        if self._webhooks.url is None:
            return 0
        return self.deliver(event, payload)

    def deliver(self, event: str, payload: Json, delivery_id: str | None = None) -> int:
        """Send one webhook; returns the receiver's HTTP status (0 when it did not answer within 10 s)."""
        return self._webhooks.deliver(event, payload, delivery_id).status or 0

    def redeliver(self, delivery_id: str) -> int:
        """Send a past delivery again with the same X-GitHub-Delivery, like "Redeliver" in the app settings."""
        return self._webhooks.redeliver(delivery_id).status or 0

    @property
    def deliveries(self) -> list[Delivery]:
        return list(self._webhooks.deliveries)

    @property
    def last_delivery(self) -> Delivery | None:
        return self._webhooks.deliveries[-1] if self._webhooks.deliveries else None

    # what the bot posted

    def _copy(self, items: Any) -> Any:
        with self.state.lock:
            return copy.deepcopy(items)

    def check_runs(self, repo: str, head_sha: str | None = None, name: str | None = None) -> list[CheckRun]:
        key = repo.lower()
        found = [
            r for r in list(self.state.check_runs.values())  # a copy: the server adds runs meanwhile
            if r.repo == key and (head_sha is None or r.head_sha == head_sha) and (name is None or r.name == name)
        ]
        return self._copy(sorted(found, key=lambda r: r.id))

    def check_run(self, check_run_id: int) -> CheckRun:
        return self._copy(self.state.check_runs[check_run_id])

    def reviews(self, repo: str, number: int) -> list[Review]:
        key = repo.lower()
        found = [r for r in self.state.reviews.values() if r.repo == key and r.number == number]
        return self._copy(sorted(found, key=lambda r: r.id))

    def review_comments(self, repo: str, number: int) -> list[ReviewComment]:
        key = repo.lower()
        found = [c for c in self.state.review_comments.values() if c.repo == key and c.number == number]
        return self._copy(sorted(found, key=lambda c: c.id))

    def issue_comments(self, repo: str, number: int) -> list[IssueComment]:
        key = repo.lower()
        found = [c for c in self.state.issue_comments.values() if c.repo == key and c.number == number]
        return self._copy(sorted(found, key=lambda c: c.id))

    def reactions(self, comment_id: int) -> list[Reaction]:
        found = [r for r in self.state.reactions.values() if r.comment_id == comment_id]
        return self._copy(sorted(found, key=lambda r: r.id))

    def pull(self, repo: str, number: int) -> PullRequest:
        with self.state.lock:
            return self._copy(self._pull(repo, number))

    def head_sha(self, repo: str, branch: str) -> str:
        with self.state.lock:
            return self._repo(repo).branches[branch]

    def tokens(self, installation_id: int | None = None) -> list[Token]:
        """Installation tokens issued so far (to check they were narrowed to one repo and few permissions)."""
        with self.state.lock:
            return [copy.copy(t) for t in self.state.tokens.values()
                    if installation_id in (None, t.installation_id)]

    def expire_tokens(self, installation_id: int | None = None) -> None:
        """Make issued tokens invalid now (GitHub then answers 401 "Bad credentials")."""
        self.state.expire_tokens(installation_id)

    # requests received

    @property
    def calls(self) -> list[Call]:
        return self._calls.snapshot()

    def reset_calls(self) -> None:
        self._calls.clear()

    # faults and limits

    def inject(
        self,
        method: str,
        path_regex: str,
        *,
        status: int | None = None,
        times: int | None = 1,
        retry_after: int | None = None,
        delay: float = 0.0,
        drop_connection: bool = False,
        after_write: bool = False,
        expire_tokens: bool = False,
        skip: int = 0,
    ) -> Fault:
        """Make the next `times` matching requests fail (times=None: until `clear_faults`).

        status 5xx answers a server error; 403/429 a secondary rate limit (with `retry_after` seconds);
        `delay` answers late; `drop_connection` closes the socket without answering; `after_write` performs
        the request, then answers `status` (default 502) — the write is stored although the client sees an
        error; `expire_tokens` (alone) expires every installation token issued so far just before the request
        is authenticated: a token that runs out mid-review, at exactly that request. `skip` lets that many
        matching requests through first.
        """
        fault = Fault(method.upper(), re.compile(path_regex), status, times, retry_after, delay, drop_connection,
                      after_write, expire_tokens, skip)
        return self.faults.add(fault)

    def clear_faults(self) -> None:
        self.faults.clear()

    def set_rate_limit(self, installation_id: int, *, limit: int | None = None, remaining: int | None = None) -> None:
        """Set an installation's hourly budget (default 5,000) or what is left of it."""
        self.budgets.set(f"installation:{installation_id}", limit=limit, remaining=remaining)

    def enable_secondary_limits(self, enabled: bool = True, **limits: float) -> None:
        """Enforce GitHub's secondary limits: 100 concurrent requests, 900 points/min, 80 content-creating
        requests/min and 500/h; keyword arguments replace those numbers (e.g. content_per_minute=3, or the
        windows: minute_seconds=2, hour_seconds=10), the others go back to GitHub's values."""
        self.secondary.configure(enabled, **limits)
