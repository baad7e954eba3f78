"""App-level endpoints: the app itself, installations, installation tokens, rate limit, users."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from align.simulator import errors
from align.simulator.auth import accessible_repos, can_see_repo, issue_token
from align.simulator.errors import GitHubError
from align.simulator.payloads import iso
from align.simulator.router import Ctx, Routes, json_response
from align.simulator.state import Installation


def _own_installation(ctx: Ctx) -> Installation:
    installation = ctx.state.installations.get(ctx.int_param("installation_id"))
    if installation is None or ctx.principal.app is None or installation.app_id != ctx.principal.app.id:
        raise errors.not_found()
    return installation


def register(routes: Routes) -> None:
    @routes.add("GET", "/app", auth="app")
    def get_app(ctx: Ctx) -> Response:
        assert ctx.principal.app is not None
        return json_response(ctx.shapes.app(ctx.principal.app))

    @routes.add("GET", "/app/installations", auth="app")
    def list_installations(ctx: Ctx) -> Response:
        app = ctx.principal.app
        mine = [i for i in ctx.state.installations.values() if app is not None and i.app_id == app.id]
        return ctx.paginate(mine, ctx.shapes.installation)

    @routes.add("GET", "/app/installations/{installation_id:int}", auth="app")
    def get_installation(ctx: Ctx) -> Response:
        return json_response(ctx.shapes.installation(_own_installation(ctx)))

    @routes.add("POST", "/app/installations/{installation_id:int}/access_tokens", auth="app")
    def create_token(ctx: Ctx) -> Response:
        installation = _own_installation(ctx)
        token, repos = issue_token(ctx.state, installation, ctx.body())
        body: dict[str, Any] = {
            "token": token.value,
            "expires_at": iso(token.expires_at),
            "permissions": token.permissions,
            "repository_selection": "selected" if repos or installation.selected is not None else "all",
        }
        if repos:
            body["repositories"] = [ctx.shapes.repo(r, full=False) for r in repos]
        return json_response(body, 201)

    @routes.add("GET", "/repos/{owner}/{repo}/installation", auth="app")
    def repo_installation(ctx: Ctx) -> Response:
        repo = ctx.state.repo(f"{ctx.params['owner']}/{ctx.params['repo']}")
        app = ctx.principal.app
        installation = ctx.state.installation_for(repo, app.id) if repo and app else None
        if installation is None:
            raise errors.not_found()
        return json_response(ctx.shapes.installation(installation))

    @routes.add("GET", "/installation/repositories")
    def installation_repositories(ctx: Ctx) -> Response:
        token = ctx.principal.token
        if token is None:
            raise GitHubError(401, errors.REQUIRES_AUTH)
        installation = ctx.state.installations[token.installation_id]
        repos = [r for r in accessible_repos(ctx.state, installation) if can_see_repo(ctx.state, ctx.principal, r)]
        chunk, headers = ctx.page(repos, lambda r: ctx.shapes.repo(r, full=False))
        selection = "all" if installation.selected is None else "selected"
        body = {"total_count": len(repos), "repositories": chunk, "repository_selection": selection}
        return json_response(body, headers=headers)

    @routes.add("GET", "/rate_limit", auth="any", counts=False)
    def rate_limit(ctx: Ctx) -> Response:
        core = ctx.budgets.budget(ctx.principal.bucket)
        search = {"limit": 30, "remaining": 30, "reset": int(core.reset_at), "used": 0, "resource": "search"}

        def row(resource: str) -> dict[str, int | str]:
            return {"limit": core.limit, "remaining": core.remaining, "reset": int(core.reset_at),
                    "used": core.used, "resource": resource}

        body = {
            "resources": {"core": row("core"), "search": search, "graphql": row("graphql"),
                          "integration_manifest": row("integration_manifest"), "code_search": {**search,
                          "limit": 10, "remaining": 10, "resource": "code_search"}},
            "rate": row("core"),
        }
        return json_response(body)

    @routes.add("GET", "/users/{login}", auth="any")
    def get_user(ctx: Ctx) -> Response:
        user = ctx.state.users.get(ctx.params["login"].lower())
        if user is None:
            raise errors.not_found()
        body = ctx.shapes.user(user)
        body.update({"name": None, "company": None, "blog": "", "location": None, "email": None,
                     "hireable": None, "bio": None, "twitter_username": None, "public_repos": 0,
                     "public_gists": 0, "followers": 0, "following": 0, "created_at": iso(0),
                     "updated_at": iso(0)})
        return json_response(body)
