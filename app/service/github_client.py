"""Talking to GitHub as the App: tokens, rate limits, retries and idempotent writes.

`GitHubGateway` holds what is shared per process (the App's JWT client, installation tokens, one lock per
installation, call counts). `gateway.repo(installation_id, "owner/name")` gives a `RepoClient` with only
the operations the worker needs, returning GitHub's JSON as plain dicts.

Retries are done here, in one place, not by PyGithub: its default `GithubRetry` re-sends a POST after a
5xx, and a 502 after GitHub stored the write would post a duplicate. So PyGithub gets `retry=0`; reads are
retried with back-off; a write that fails with a 5xx is first looked for (hidden markers, the check run's
external id) and only sent again when it is not there.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github import Auth, Consts, GithubIntegration
from github.GithubException import GithubException
from github.Requester import Requester

from align import __version__
from align.service.budget import BudgetExhausted, LocalRequestBudget, RequestBudget, RequestCost, pause_deadline
from align.service.markers import authored_by
from align.service.settings import Settings, SettingsError

log = logging.getLogger("align.github")

# What a review needs, nothing more (the contract's least-privilege list).
TOKEN_PERMISSIONS = {
    "checks": "write",
    "pull_requests": "write",
    "issues": "write",
    "contents": "read",
    "metadata": "read",
}
TOKEN_REFRESH_MARGIN = 300.0  # seconds: tokens live 1 hour; renew 5 minutes before expiry
USER_AGENT = f"align-bot/{__version__}"
MAX_CLIENTS = 64

T = TypeVar("T")


class CallObserver(Protocol):
    def observe_call(self, method: str, status: int | None, installation: int | None, remaining: int | None) -> None:
        ...


class GitHubCallError(Exception):
    """A call that failed for good (after retries). `status` is None for a connection error."""

    def __init__(self, method: str, path: str, status: int | None, message: str) -> None:
        super().__init__(f"GitHub {method} {path} failed: {status or 'no response'} {message}".strip())
        self.method = method
        self.path = path
        self.status = status


class RateLimitWait(GitHubCallError):
    """GitHub's limits leave no room for this call before `until` (epoch), further away than a worker may
    wait: nothing was sent. The job waits in its queue and runs again then (see worker.run_review)."""

    def __init__(self, method: str, path: str, until: float, message: str) -> None:
        super().__init__(method, path, 429, message)
        self.until = until


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    status: int | None
    installation: int | None


@dataclass
class _Token:
    value: str
    expires_at: float


class _InstallationTokenAuth(Auth.Auth):
    """Hands PyGithub the current token for one (installation, repository), renewing it when due."""

    def __init__(self, fetch: Callable[[], str]) -> None:
        self._fetch = fetch

    @property
    def token_type(self) -> str:
        return "token"

    @property
    def token(self) -> str:
        return self._fetch()

    @property
    def _masked_token(self) -> str:
        return "token (installation token removed)"


def _parse_time(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).timestamp()


def _lifetime(token: dict[str, Any], headers: dict[str, Any]) -> float:
    """Seconds the token stays valid, measured on GitHub's clock (its `Date` header), so that a skewed
    local clock neither renews too late nor on every call."""
    if not token.get("expires_at"):
        return 3600.0
    expires = _parse_time(str(token["expires_at"]))
    try:
        issued = parsedate_to_datetime(str(headers["date"])).timestamp()
    except (KeyError, TypeError, ValueError):
        issued = time.time()
    return max(expires - issued, 0.0)


def _next_link(headers: dict[str, Any]) -> str | None:
    for part in str(headers.get("link", "")).split(","):
        url, _, rel = part.partition(";")
        if 'rel="next"' in rel:
            return url.strip().strip("<>")
    return None


class GitHubGateway:
    """Shared per process. Thread-safe: the memory queue runs several jobs at once."""

    def __init__(
        self,
        settings: Settings,
        observer: CallObserver | None = None,
        *,
        budget: RequestBudget | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`budget` keeps requests per installation under GitHub's secondary limits; the distributed mode
        passes one shared through Redis, the embedded mode gets a local one."""
        if settings.app_id is None or settings.private_key is None:
            raise SettingsError("ALIGN_APP_ID and ALIGN_PRIVATE_KEY (or ALIGN_PRIVATE_KEY_FILE) are required")
        try:  # fail at start-up, not at the first delivery
            signing_key = serialization.load_pem_private_key(
                settings.private_key.get_secret_value().encode(), password=None
            )
        except (ValueError, TypeError):
            raise SettingsError("ALIGN_PRIVATE_KEY is not a PEM private key without a passphrase") from None
        if not isinstance(signing_key, rsa.RSAPrivateKey):  # GitHub Apps sign their JWTs with RS256
            raise SettingsError("ALIGN_PRIVATE_KEY is not an RSA key (GitHub App keys are RSA)")
        self.settings = settings
        self.observer = observer
        self.sleep = sleep
        self.clock = clock
        self.calls: list[Call] = []
        self.budget = budget or LocalRequestBudget(max_wait=settings.max_rate_limit_wait, clock=clock, sleep=sleep)
        # TLS verification, for PyGithub and for the archive and raw-file requests made without it
        self.verify: bool | str = str(settings.ca_bundle) if settings.ca_bundle else True
        self._integration = GithubIntegration(
            # The key is parsed once: PyGithub would re-parse the PEM for every JWT (~50-65 ms of CPU with
            # the GIL held, stalling webhook answers in the embedded mode).
            auth=Auth.AppAuth(
                settings.app_id, sign_func=lambda payload: jwt.encode(payload, key=signing_key, algorithm="RS256")
            ),
            base_url=settings.api_url,
            timeout=settings.request_timeout,
            user_agent=USER_AGENT,
            verify=self.verify,
            retry=0,
            seconds_between_requests=settings.seconds_between_requests,
            seconds_between_writes=settings.seconds_between_writes,
        )
        self._guard = threading.Lock()
        self._locks: dict[int, threading.RLock] = {}
        self._tokens: dict[tuple[int, str], _Token] = {}
        self._requesters: OrderedDict[tuple[int, str], Requester] = OrderedDict()  # least recently used first
        self._slug: str | None = settings.app_slug
        self.archive_host_down_until = 0.0  # clock time; see github_stream.ARCHIVE_HOST_PAUSE

    # -- shared state ---------------------------------------------------------------------------------

    def lock(self, installation_id: int) -> threading.RLock:
        """Requests for one installation go one at a time (GitHub's advice against secondary limits)."""
        with self._guard:
            return self._locks.setdefault(installation_id, threading.RLock())

    def record(self, method: str, path: str, status: int | None, installation: int | None,
               headers: dict[str, Any] | None) -> None:
        self.calls.append(Call(method, path.split("?")[0], status, installation))
        remaining: int | None = None
        if headers and "x-ratelimit-remaining" in headers:
            try:
                remaining = int(float(headers["x-ratelimit-remaining"]))
                reset = float(headers.get("x-ratelimit-reset", 0))
            except ValueError:
                remaining = None
            else:
                if remaining == 0 and installation is not None:
                    # Nothing left until the reset: the budget holds every later request until then.
                    self.budget.pause_until(installation, max(reset, self.clock()) + 1)
        if self.observer is not None:
            self.observer.observe_call(method, status, installation, remaining)

    def admit(self, installation_id: int, method: str, path: str) -> None:
        """Wait for room in the installation's request budget (secondary limits, a paused quota)."""
        try:
            self.budget.acquire(installation_id, RequestCost.of(method, path))
        except BudgetExhausted as error:
            raise RateLimitWait(method, path.split("?")[0], error.until, str(error)) from None

    def refused(self, installation_id: int, error: GithubException, attempt: int, method: str = "",
                path: str = "") -> bool:
        """Record a rate-limit refusal in the budget; True when it was one (sending again later is safe).
        Raises RateLimitWait when GitHub asks for a longer pause than a worker may wait."""
        deadline = pause_deadline(error.status, error.headers or {}, self.clock(), attempt)
        if deadline is None:
            message = str(error.data.get("message", "")) if isinstance(error.data, dict) else ""
            if error.status != 403 or "rate limit" not in message.lower():
                return False
            deadline = self.clock() + 60.0 * 2**attempt  # a secondary limit without a hint
        if method:  # GitHub did not count the refused request: neither does the budget
            self.budget.refund(installation_id, RequestCost.of(method, path.split("?")[0]))
        self.budget.pause_until(installation_id, deadline)  # every worker holds off, also past our max wait
        if deadline - self.clock() > self.settings.max_rate_limit_wait:
            raise RateLimitWait(method, path.split("?")[0], deadline, f"GitHub asks to wait until {deadline:.0f}")
        return True

    # -- App-level calls (JWT) ------------------------------------------------------------------------

    def _app_call(self, method: str, path: str, body: Any = None) -> tuple[dict[str, Any], Any]:
        last: Exception | None = None
        for attempt in range(self.settings.retries + 1):
            try:
                headers, data = self._integration.requester.requestJsonAndCheck(method, path, input=body)
                self.record(method, path, 200, None, headers)
                return headers, data
            except GithubException as error:
                self.record(method, path, error.status, None, error.headers)
                last = error
                if error.status < 500:
                    break  # creating a token twice is harmless, so only 5xx is worth another try
            except requests.RequestException as error:
                self.record(method, path, None, None, None)
                last = error
            if attempt < self.settings.retries:
                self.sleep(self.settings.retry_backoff * 2**attempt)
        status = last.status if isinstance(last, GithubException) else None
        raise GitHubCallError(method, path, status, type(last).__name__)

    def app_slug(self) -> str:
        if self._slug is None:
            self._slug = str(self._app_call("GET", "/app")[1]["slug"])
        return self._slug

    def bot_login(self) -> str:
        return f"{self.app_slug()}[bot]"

    def token(self, installation_id: int, repository: str) -> str:
        """An installation token for ONE repository with only the permissions a review needs."""
        key = (installation_id, repository)
        with self.lock(installation_id):
            cached = self._tokens.get(key)
            if cached is not None and cached.expires_at - self.clock() > TOKEN_REFRESH_MARGIN:
                return cached.value
            headers, data = self._app_call(
                "POST",
                f"/app/installations/{installation_id}/access_tokens",
                {"repositories": [repository.split("/", 1)[1]], "permissions": TOKEN_PERMISSIONS},
            )
            self._tokens[key] = _Token(str(data["token"]), self.clock() + _lifetime(data, headers))
            return self._tokens[key].value

    def forget_token(self, installation_id: int, repository: str) -> None:
        """GitHub said the token is no longer valid (revoked, or expired early): ask for a new one."""
        with self.lock(installation_id):
            self._tokens.pop((installation_id, repository), None)

    def repo(self, installation_id: int, repository: str) -> RepoClient:
        key = (installation_id, repository)
        with self._guard:
            requester = self._requesters.get(key)
            if requester is not None:
                self._requesters.move_to_end(key)
            else:
                if len(self._requesters) >= MAX_CLIENTS:  # one connection pool per repository: keep a few
                    self._requesters.popitem(last=False)[1].close()
                requester = Requester(
                    auth=_InstallationTokenAuth(lambda: self.token(installation_id, repository)),
                    base_url=self.settings.api_url,
                    timeout=self.settings.request_timeout,
                    user_agent=USER_AGENT,
                    per_page=Consts.DEFAULT_PER_PAGE,
                    verify=self.verify,
                    retry=0,
                    pool_size=None,
                    seconds_between_requests=self.settings.seconds_between_requests,
                    seconds_between_writes=self.settings.seconds_between_writes,
                )
                self._requesters[key] = requester
        return RepoClient(self, installation_id, repository, requester)

    def close(self) -> None:
        with self._guard:
            for requester in self._requesters.values():
                requester.close()
            self._requesters.clear()
        self._integration.close()


class RepoClient:
    """The GitHub operations of one review, on one repository, with an installation token."""

    def __init__(self, gateway: GitHubGateway, installation_id: int, repository: str, requester: Requester) -> None:
        self.gateway = gateway
        self.installation_id = installation_id
        self.repository = repository
        self._requester = requester
        self._base = f"/repos/{repository}"

    # -- transport ------------------------------------------------------------------------------------

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        recover: Callable[[], T | None] | None = None,
        safe_to_repeat: bool | None = None,
    ) -> tuple[dict[str, Any], Any]:
        """One request with the retry policy. `recover` looks for a write that may have landed despite a 5xx."""
        settings = self.gateway.settings
        repeatable = method in ("GET", "PATCH", "PUT", "DELETE") if safe_to_repeat is None else safe_to_repeat
        attempt = 0
        refreshed = False
        while True:
            self.gateway.admit(self.installation_id, method, path)
            with self.gateway.lock(self.installation_id):
                try:
                    headers, data = self._requester.requestJsonAndCheck(method, path, parameters=params, input=body)
                except GithubException as error:
                    self.gateway.record(method, path, error.status, self.installation_id, error.headers)
                    failure: Exception = error
                except requests.RequestException as error:
                    self.gateway.record(method, path, None, self.installation_id, None)
                    failure = error
                else:
                    self.gateway.record(method, path, 200, self.installation_id, headers)
                    return headers, data
            status = failure.status if isinstance(failure, GithubException) else None
            if status == 401 and not refreshed:
                # Refused before anything was done (the token expired or was revoked mid-review), so sending
                # again once with a new token is safe, whatever attempt this was.
                self.gateway.forget_token(self.installation_id, self.repository)
                refreshed = True
                continue
            if attempt >= settings.retries:
                break
            if isinstance(failure, GithubException) and self.gateway.refused(self.installation_id, failure, attempt,
                                                                              method, path):
                # Refused by GitHub, so nothing was written: sending again (after the pause) is safe.
                log.info("rate limited on %s %s; waiting as GitHub asks", method, path.split("?")[0])
            elif status is None or status >= 500:
                if not repeatable:
                    found = recover() if recover is not None else None
                    if found is not None:
                        return {}, found
                    if recover is None:
                        break  # a write we cannot look for is never sent twice
                self.gateway.sleep(settings.retry_backoff * 2**attempt)
            else:
                break
            attempt += 1
        message = ""
        if isinstance(failure, GithubException) and isinstance(failure.data, dict):
            message = str(failure.data.get("message", ""))[:200]
        raise GitHubCallError(method, path.split("?")[0], status, message or type(failure).__name__)

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._send("GET", path, params=params)[1]

    def _paginate(self, path: str, params: dict[str, Any] | None = None, limit: int = 10_000,
                  key: str | None = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        url: str | None = path
        query: dict[str, Any] | None = {"per_page": 100, **(params or {})}
        while url is not None and len(items) < limit:
            headers, data = self._send("GET", url, params=query)
            page = data.get(key, []) if key and isinstance(data, dict) else data
            items.extend(page or [])
            url, query = _next_link(headers), None  # the next link carries the query already
        return items[:limit]

    # -- pull requests and contents -------------------------------------------------------------------

    def get_pull(self, number: int) -> dict[str, Any]:
        return dict(self._get(f"{self._base}/pulls/{number}"))

    def pulls_for_commit(self, sha: str) -> list[dict[str, Any]]:
        """Open pull requests containing `sha`, those whose head it is first (check runs on fork pushes, and
        on commits a pull request has moved past, do not name them)."""
        pulls = [p for p in self._get(f"{self._base}/commits/{sha}/pulls") or [] if p.get("state") == "open"]
        return sorted(pulls, key=lambda p: p.get("head", {}).get("sha") != sha)

    def list_pull_files(self, number: int, limit: int = 3000) -> list[dict[str, Any]]:
        return self._paginate(f"{self._base}/pulls/{number}/files", limit=limit)

    def compare_files(self, base: str, head: str) -> list[dict[str, Any]]:
        data = self._get(f"{self._base}/compare/{base}...{head}")
        return list(data.get("files") or [])

    def commit_sha(self, ref: str) -> str:
        return str(self._get(f"{self._base}/commits/{quote(ref, safe='')}")["sha"])

    def get_contents(self, path: str, ref: str) -> bytes | None:
        """A file at `ref`, None when there is none. Over 1 MB GitHub answers 403 "too large", or with the
        object media type a file without content (`encoding: none`), raised as the same 403 (the caller reads
        it raw: github_stream.raw_contents)."""
        try:
            data = self._get(f"{self._base}/contents/{quote(path)}", {"ref": ref})
        except GitHubCallError as error:
            if error.status == 404:
                return None
            raise
        if not isinstance(data, dict) or data.get("type") != "file":
            return None  # a directory or a submodule
        if data.get("encoding") == "none":  # 1-100 MB as the object media type answers it: no content
            raise GitHubCallError("GET", f"{self._base}/contents/{quote(path)}", 403,
                                  "too large for the contents API (encoding: none)")
        return base64.b64decode(data.get("content") or "")

    def permission(self, user: str) -> str:
        try:
            data = self._get(f"{self._base}/collaborators/{quote(user)}/permission")
        except GitHubCallError as error:
            if error.status == 404:
                return "none"
            raise
        return str(data.get("permission") or "none")

    # -- check runs -----------------------------------------------------------------------------------

    def list_check_runs(self, head_sha: str, name: str) -> list[dict[str, Any]]:
        """Every check run called `name` on one commit, newest first, whichever app made it (filter=all:
        GitHub's default lists only the newest run per name)."""
        return self._paginate(f"{self._base}/commits/{head_sha}/check-runs", {"check_name": name, "filter": "all"},
                              key="check_runs")

    def create_check_run(self, body: dict[str, Any]) -> dict[str, Any]:
        """`body` must carry an `external_id`: after a 5xx it finds the run that may have been created."""
        external_id = body["external_id"]

        def recover() -> dict[str, Any] | None:
            runs = self.list_check_runs(body["head_sha"], body["name"])
            return next((r for r in runs if r.get("external_id") == external_id), None)

        return dict(self._send("POST", f"{self._base}/check-runs", body=body, recover=recover)[1])

    def update_check_run(self, run_id: int, body: dict[str, Any], annotations_before: int = 0) -> dict[str, Any]:
        """Annotations append on every PATCH, so a PATCH carrying them is repeated only when it did not land."""
        path = f"{self._base}/check-runs/{run_id}"
        count = len((body.get("output") or {}).get("annotations") or [])
        if not count:
            return dict(self._send("PATCH", path, body=body)[1])

        def recover() -> dict[str, Any] | None:
            run = self._get(path)
            landed = (run.get("output") or {}).get("annotations_count", 0) >= annotations_before + count
            return dict(run) if landed else None

        return dict(self._send("PATCH", path, body=body, recover=recover, safe_to_repeat=False)[1])

    # -- comments and reviews -------------------------------------------------------------------------

    def _posted(self, item: dict[str, Any], marker: str) -> bool:
        """Written by this app (not a user quoting the marker) and carrying the marker."""
        return authored_by(item, self.gateway.bot_login()) and marker in (item.get("body") or "")

    def list_issue_comments(self, number: int) -> list[dict[str, Any]]:
        return self._paginate(f"{self._base}/issues/{number}/comments")

    def create_issue_comment(self, number: int, body: str, marker: str) -> dict[str, Any]:
        """`marker` is a hidden string unique to this comment, searched for after a 5xx."""

        def recover() -> dict[str, Any] | None:
            return next((c for c in self.list_issue_comments(number) if self._posted(c, marker)), None)

        return dict(self._send("POST", f"{self._base}/issues/{number}/comments", body={"body": body},
                               recover=recover)[1])

    def edit_issue_comment(self, comment_id: int, body: str) -> dict[str, Any]:
        return dict(self._send("PATCH", f"{self._base}/issues/comments/{comment_id}", body={"body": body})[1])

    def delete_issue_comment(self, comment_id: int) -> None:
        self._send("DELETE", f"{self._base}/issues/comments/{comment_id}")

    def list_review_comments(self, number: int) -> list[dict[str, Any]]:
        return self._paginate(f"{self._base}/pulls/{number}/comments")

    def edit_review_comment(self, comment_id: int, body: str) -> dict[str, Any]:
        return dict(self._send("PATCH", f"{self._base}/pulls/comments/{comment_id}", body={"body": body})[1])

    def list_reviews(self, number: int) -> list[dict[str, Any]]:
        return self._paginate(f"{self._base}/pulls/{number}/reviews")

    def create_review(self, number: int, body: dict[str, Any], marker: str) -> dict[str, Any]:
        def recover() -> dict[str, Any] | None:
            return next((r for r in self.list_reviews(number) if self._posted(r, marker)), None)

        return dict(self._send("POST", f"{self._base}/pulls/{number}/reviews", body=body, recover=recover)[1])

    def add_reaction(self, comment_id: int, content: str) -> None:
        # GitHub answers an existing (user, content) reaction with 200, so sending again is harmless.
        self._send("POST", f"{self._base}/issues/comments/{comment_id}/reactions", body={"content": content},
                   safe_to_repeat=True)
