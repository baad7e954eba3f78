"""The ASGI application: authentication, rate limits, faults and recording around the endpoint handlers."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from align.simulator import api_app, api_checks, api_git, api_issues, api_pulls, errors
from align.simulator.auth import Principal, authenticate, require_permission
from align.simulator.errors import GitHubError
from align.simulator.faults import Fault, Faults
from align.simulator.limits import PrimaryLimits, SecondaryLimits
from align.simulator.payloads import Shapes
from align.simulator.router import Ctx, Route, Routes, error_response, new_request_id
from align.simulator.state import State


@dataclass(frozen=True)
class Call:
    """One request the simulator answered (status 0 when the connection was dropped)."""

    method: str
    path: str
    query: str
    status: int
    time: float
    duration: float
    authorization: bool = False  # an Authorization header came with it


@dataclass
class CallLog:
    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def snapshot(self) -> list[Call]:
        with self._lock:
            return list(self.calls)

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()


def build_routes() -> Routes:
    routes = Routes()
    # order matters: specific templates before the `{x:path}` catch-alls of the git module
    for module in (api_app, api_checks, api_pulls, api_issues, api_git):
        module.register(routes)
    return routes


def _fault_response(fault: Fault, request_id: str) -> Response:
    status = fault.status or 502
    headers = {"retry-after": str(fault.retry_after)} if fault.retry_after is not None else {}
    if status in (403, 429):
        error = GitHubError(status, errors.SECONDARY_LIMIT.format(request_id=request_id),
                            documentation_url=errors.SECONDARY_LIMIT_DOCS, headers=headers)
    elif status >= 500:
        error = GitHubError(status, "Server Error", headers=headers)
    else:
        error = GitHubError(status, f"Injected fault {status}", headers=headers)
    return error_response(error)


class SimulatorApp:
    """Pure ASGI, so that a fault can close the connection without any answer."""

    def __init__(
        self,
        state: State,
        *,
        public_url: Callable[[], str],
        archive_url: Callable[[], str],
        faults: Faults,
        budgets: PrimaryLimits,
        secondary: SecondaryLimits,
        calls: CallLog,
        drop_connection: Callable[[Scope], None],
    ) -> None:
        self.state = state
        self.public_url = public_url
        self.archive_url = archive_url
        self.faults = faults
        self.budgets = budgets
        self.secondary = secondary
        self.calls = calls
        self.drop_connection = drop_connection
        self.routes = build_routes()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        started = time.time()
        recorded = False

        def record(status: int) -> None:
            nonlocal recorded
            recorded = True
            authorization = any(name.lower() == b"authorization" for name, _ in scope.get("headers", []))
            self.calls.add(Call(scope["method"], scope["path"], scope.get("query_string", b"").decode(), status,
                                started, time.time() - started, authorization))

        async def tracking_send(message: Message) -> None:
            # record before the client can see the answer, so `calls` is complete once a request returns
            if message["type"] == "http.response.start":
                record(message["status"])
            await send(message)

        request = Request(scope, receive)
        try:
            response = await self._respond(request, scope)
            if response is not None:
                await response(scope, receive, tracking_send)
        finally:
            if not recorded:
                record(0)

    async def _respond(self, request: Request, scope: Scope) -> Response | None:
        request_id = new_request_id()
        raw_body = await request.body()
        if self.faults.take(request.method, request.url.path, expire_tokens=True) is not None:
            self.state.expire_tokens()
        admitted = self._admit(request, request_id)
        if isinstance(admitted, Response):
            return admitted
        principal, route, params, counted = admitted
        try:
            fault = self.faults.take(request.method, request.url.path)
            if fault is not None and fault.delay:
                await asyncio.sleep(fault.delay)
            if fault is not None and fault.drop_connection:
                self.drop_connection(scope)
                await asyncio.sleep(0.01)  # let the server notice the closed transport before we return
                return None
            if fault is not None and fault.status is not None and not fault.after_write:
                response = _fault_response(fault, request_id)
            else:
                response = self._dispatch(request, principal, route, params, raw_body)
                if fault is not None and fault.after_write:
                    response = _fault_response(fault, request_id)  # the write above is kept
        finally:
            if counted:
                self.secondary.leave(principal.bucket)
        self._decorate(response, principal, request_id)
        return response

    def _admit(
        self, request: Request, request_id: str
    ) -> Response | tuple[Principal, Route, dict[str, str], bool]:
        """Authenticate, route and charge the rate limits; an error response when the request stops here."""
        principal = Principal("anonymous")
        with self.state.lock:
            try:
                matched = self.routes.match(request.method, request.url.path)
                auth_needed = matched is None or matched[0].auth != "none"
                if auth_needed:
                    principal = authenticate(self.state, request.headers.get("authorization"))
                if matched is None:
                    raise errors.not_found()
                route, params = matched
                if route.counts and auth_needed and not self.budgets.spend(principal.bucket):
                    installation = principal.token.installation_id if principal.token else 0
                    raise GitHubError(403, errors.PRIMARY_LIMIT.format(installation_id=installation),
                                      documentation_url=errors.RATE_LIMIT_DOCS)
                wait = self.secondary.enter(principal.bucket, request.method, route.creates_content)
                if wait is not None:
                    raise GitHubError(403, errors.SECONDARY_LIMIT.format(request_id=request_id),
                                      documentation_url=errors.SECONDARY_LIMIT_DOCS,
                                      headers={"retry-after": str(wait)})
            except GitHubError as error:
                response = error_response(error)
                self._decorate(response, principal, request_id)
                return response
        return principal, route, params, self.secondary.enabled

    def _dispatch(
        self, request: Request, principal: Principal, route: Route, params: dict[str, str], raw_body: bytes
    ) -> Response:
        with self.state.lock:
            try:
                self._check_caller(route, principal, request.method)
                require_permission(principal, route.permissions)
                shapes = Shapes(self.public_url(), self.state, self.archive_url())
                ctx = Ctx(request, params, principal, self.state, shapes, raw_body, self.budgets)
                return route.handler(ctx)
            except GitHubError as error:
                return error_response(error)

    @staticmethod
    def _check_caller(route: Route, principal: Principal, method: str) -> None:
        if route.auth == "app" and principal.kind != "app":
            raise GitHubError(401, errors.JWT_UNDECODABLE)
        if route.auth == "installation":
            if principal.kind == "app":
                raise GitHubError(403, errors.NOT_ACCESSIBLE)
            if principal.kind == "anonymous" and method != "GET":
                raise GitHubError(401, errors.REQUIRES_AUTH)

    def _decorate(self, response: Response, principal: Principal, request_id: str) -> None:
        response.headers["x-github-request-id"] = request_id
        response.headers["x-github-api-version-selected"] = "2022-11-28"
        for name, value in self.budgets.budget(principal.bucket).headers().items():
            response.headers[name] = value

