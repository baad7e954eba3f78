"""Routing table, per-request context and response helpers shared by the endpoint modules."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import Response

from align.simulator import errors
from align.simulator.auth import Principal, can_see_repo
from align.simulator.errors import GitHubError
from align.simulator.limits import PrimaryLimits
from align.simulator.payloads import Shapes
from align.simulator.state import Repository, State, User

JSON_TYPE = "application/json; charset=utf-8"
Handler = Callable[["Ctx"], Response]
T = TypeVar("T")


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False).encode()
    out = {"x-github-media-type": "github.v3; format=json", **(headers or {})}
    return Response(body, status_code=status, media_type=JSON_TYPE, headers=out)


def error_response(error: GitHubError) -> Response:
    return json_response(error.body(), error.status, error.headers)


def new_request_id() -> str:
    return uuid.uuid4().hex[:20].upper()


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    auth: str  # "installation": token (anonymous reads of public repos) | "app": JWT | "any" | "none"
    permissions: tuple[tuple[str, str], ...]  # any one of these (name, "read" | "write") lets a token in
    creates_content: bool
    counts: bool  # spends the primary rate-limit budget


def _compile(template: str) -> re.Pattern[str]:
    kinds = {"": "[^/]+", "path": ".+", "int": "[0-9]+"}

    def replace(match: re.Match[str]) -> str:
        name, _, kind = match.group(1).partition(":")
        return f"(?P<{name}>{kinds[kind]})"

    return re.compile("^" + re.sub(r"\{([^}]+)\}", replace, template) + "$")


@dataclass
class Routes:
    """Routes tried in registration order, so specific templates go before catch-all `{x:path}` ones."""

    routes: list[Route] = field(default_factory=list)

    def add(
        self,
        method: str,
        template: str,
        *,
        auth: str = "installation",
        permission: tuple[str, str] | list[tuple[str, str]] | None = None,
        creates_content: bool = False,
        counts: bool = True,
    ) -> Callable[[Handler], Handler]:
        alternatives = tuple(permission) if isinstance(permission, list) else (permission,) if permission else ()

        def register(handler: Handler) -> Handler:
            route = Route(method, _compile(template), handler, auth, alternatives, creates_content, counts)
            self.routes.append(route)
            return handler

        return register

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            found = route.pattern.match(path)
            if found and route.method == method:
                return route, found.groupdict()
        return None


@dataclass
class Ctx:
    """What a handler gets: the request, its path parameters, the caller and the simulated world."""

    request: Request
    params: dict[str, str]
    principal: Principal
    state: State
    shapes: Shapes
    raw_body: bytes
    budgets: PrimaryLimits

    def body(self) -> dict[str, Any]:
        if not self.raw_body.strip():
            return {}
        try:
            data = json.loads(self.raw_body)
        except ValueError as exc:
            raise GitHubError(400, "Problems parsing JSON") from exc
        if not isinstance(data, dict):
            raise GitHubError(400, "Body should be a JSON object")
        return data

    def query(self, name: str, default: str | None = None) -> str | None:
        return self.request.query_params.get(name, default)

    def int_param(self, name: str) -> int:
        return int(self.params[name])

    def repo(self) -> Repository:
        repo = self.state.repo(f"{self.params['owner']}/{self.params['repo']}")
        if repo is None or not can_see_repo(self.state, self.principal, repo):
            raise errors.not_found()
        return repo

    @property
    def actor(self) -> User:
        actor = self.principal.actor
        if actor is None:
            raise GitHubError(401, errors.REQUIRES_AUTH)
        return actor

    def accepts(self, media: str) -> bool:
        return media in self.request.headers.get("accept", "")

    def paginate(self, items: list[T], shape: Callable[[T], Any], *, cap: int | None = None) -> Response:
        chunk, headers = self.page(items, shape, cap=cap)
        return json_response(chunk, headers=headers)

    def page(
        self, items: list[T], shape: Callable[[T], Any], *, cap: int | None = None, default_per_page: int = 30
    ) -> tuple[list[Any], dict[str, str]]:
        """One page of `items` (shaped for output) and its Link header, built from the server's own address."""
        try:
            per_page = min(100, max(1, int(self.query("per_page") or default_per_page)))
            page = max(1, int(self.query("page") or 1))
        except ValueError:
            per_page, page = default_per_page, 1
        if cap is not None:
            items = items[:cap]
        last = max(1, -(-len(items) // per_page))
        chunk = [shape(item) for item in items[(page - 1) * per_page : page * per_page]]
        links = []
        if page < last:
            links += [f'<{self._page_url(page + 1, per_page)}>; rel="next"',
                      f'<{self._page_url(last, per_page)}>; rel="last"']
        if page > 1:
            links = [f'<{self._page_url(page - 1, per_page)}>; rel="prev"',
                     f'<{self._page_url(1, per_page)}>; rel="first"', *links]
        return chunk, ({"link": ", ".join(links)} if links else {})

    def _page_url(self, page: int, per_page: int) -> str:
        query = [(k, v) for k, v in parse_qsl(self.request.url.query) if k not in ("page", "per_page")]
        query += [("per_page", str(per_page)), ("page", str(page))]
        return f"{self.shapes.base}{self.request.url.path}?{urlencode(query)}"
