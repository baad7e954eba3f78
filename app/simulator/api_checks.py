"""Check run endpoints with GitHub's validation rules (enums, output limits, 50 annotations per request)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.responses import Response

from align.simulator import errors
from align.simulator.errors import GitHubError
from align.simulator.router import Ctx, Routes, json_response
from align.simulator.state import CheckRun, Repository

CHECKS_READ = ("checks", "read")
CHECKS_WRITE = ("checks", "write")
CREATE_DOCS = "https://docs.github.com/rest/checks/runs#create-a-check-run"
UPDATE_DOCS = "https://docs.github.com/rest/checks/runs#update-a-check-run"
STATUSES = ("queued", "in_progress", "completed")
CONCLUSIONS = ("action_required", "cancelled", "failure", "neutral", "success", "skipped", "timed_out")
LEVELS = ("notice", "warning", "failure")
MAX_TEXT = 65_535
MAX_ANNOTATIONS = 50
MAX_ANNOTATION_TEXT = 64 * 1024
MAX_ANNOTATION_TITLE = 255
MAX_ACTIONS = 3
ACTION_LIMITS = {"label": 20, "description": 40, "identifier": 20}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Validator:
    """Raises GitHub's 'Invalid request.' 422 for the first rule a body breaks."""

    def __init__(self, docs: str) -> None:
        self.docs = docs

    def fail(self, detail: str) -> GitHubError:
        return errors.invalid_request(detail, self.docs)

    def string(self, body: dict[str, Any], key: str, where: str = "properties") -> None:
        if key in body and not isinstance(body[key], str):
            raise self.fail(f"For '{where}/{key}', {body[key]!r} is not a string.")

    def enum(self, body: dict[str, Any], key: str, allowed: tuple[str, ...], where: str = "properties") -> None:
        if key in body and body[key] not in allowed:
            raise self.fail(f"For '{where}/{key}', {body[key]!r} is not a member of {list(allowed)}.")

    def length(self, value: str, limit: int) -> None:
        if len(value) > limit:
            raise self.fail(f"Only {limit} characters are allowed; {len(value)} were supplied.")

    def items(self, values: Any, key: str, limit: int) -> list[Any]:
        if not isinstance(values, list):
            raise self.fail(f"For 'properties/{key}', {values!r} is not an array.")
        if len(values) > limit:
            raise self.fail(f"No more than {limit} items are allowed; {len(values)} were supplied.")
        for value in values:
            if not isinstance(value, dict):
                raise self.fail(f"For 'items', {value!r} is not an object.")
        return values

    def timestamp(self, body: dict[str, Any], key: str) -> float | None:
        if key not in body:
            return None
        try:
            return datetime.fromisoformat(str(body[key]).replace("Z", "+00:00")).timestamp()
        except ValueError as exc:
            raise self.fail(f"For 'properties/{key}', {body[key]!r} is not a date-time.") from exc

    def annotations(self, values: Any) -> list[dict[str, Any]]:
        checked = []
        for item in self.items(values, "annotations", MAX_ANNOTATIONS):
            for key in ("path", "start_line", "end_line", "annotation_level", "message"):
                if key not in item:
                    raise self.fail(f'"{key}" wasn\'t supplied.')
            for key in ("start_line", "end_line", "start_column", "end_column"):
                if key in item and not _is_int(item[key]):
                    raise self.fail(f"For 'items/{key}', {item[key]!r} is not an integer.")
            for key in ("path", "message", "title", "raw_details"):
                self.string(item, key, "items")
            self.enum(item, "annotation_level", LEVELS, "items")
            if item["start_line"] < 1 or item["end_line"] < item["start_line"]:
                raise self.fail("Invalid annotation: end_line must be greater than or equal to start_line.")
            has_columns = "start_column" in item or "end_column" in item
            if has_columns and item["start_line"] != item["end_line"]:
                raise self.fail("Annotations only support start_column and end_column on the same line.")
            self.length(item["message"], MAX_ANNOTATION_TEXT)
            self.length(item.get("raw_details", ""), MAX_ANNOTATION_TEXT)
            self.length(item.get("title", ""), MAX_ANNOTATION_TITLE)
            checked.append(dict(item))
        return checked

    def actions(self, values: Any) -> list[dict[str, str]]:
        checked = []
        for item in self.items(values, "actions", MAX_ACTIONS):
            for key, limit in ACTION_LIMITS.items():
                if not isinstance(item.get(key), str):
                    raise self.fail(f'"{key}" wasn\'t supplied.')
                self.length(item[key], limit)
            checked.append({key: item[key] for key in ACTION_LIMITS})
        return checked

    def output(self, output: Any) -> tuple[dict[str, str | None], list[dict[str, Any]]]:
        if not isinstance(output, dict):
            raise self.fail(f"For 'properties/output', {output!r} is not an object.")
        for key in ("title", "summary"):
            if key not in output:
                raise self.fail(f'"{key}" wasn\'t supplied.')
        for key in ("title", "summary", "text"):
            self.string(output, key, "output")
        self.length(output["summary"], MAX_TEXT)
        self.length(output.get("text") or "", MAX_TEXT)
        annotations = self.annotations(output.get("annotations", []))
        return {"title": output["title"], "summary": output["summary"], "text": output.get("text")}, annotations

    def common(self, body: dict[str, Any]) -> None:
        for key in ("name", "details_url", "external_id"):
            self.string(body, key)
        self.enum(body, "status", STATUSES)
        self.enum(body, "conclusion", CONCLUSIONS)
        completing = body.get("status") == "completed" or "completed_at" in body
        if completing and "conclusion" not in body:
            raise self.fail('"conclusion" wasn\'t supplied.')


def _apply(ctx: Ctx, run: CheckRun, body: dict[str, Any], check: _Validator) -> None:
    """Apply a validated create/update body; annotations append, never replace."""
    if "output" in body:
        output, annotations = check.output(body["output"])
    else:
        output, annotations = None, []
    actions = check.actions(body["actions"]) if "actions" in body else None
    started = check.timestamp(body, "started_at")
    completed = check.timestamp(body, "completed_at")
    if "name" in body:
        run.name = body["name"]
    if "details_url" in body:
        run.details_url = body["details_url"]
    if "external_id" in body:
        run.external_id = body["external_id"]
    if started is not None:
        run.started_at = started
    if "status" in body:
        run.status = body["status"]
    if "conclusion" in body:
        run.status, run.conclusion = "completed", body["conclusion"]
        run.completed_at = completed or ctx.state.now()
    elif run.status != "completed":
        run.conclusion, run.completed_at = None, None
    if output is not None:
        run.output = output
    run.annotations.extend(annotations)
    if actions is not None:
        run.actions = actions
    if "status" in body or "conclusion" in body:
        run.history.append((run.status, run.output.get("title")))


def _run(ctx: Ctx) -> tuple[Repository, CheckRun]:
    repo = ctx.repo()
    run = ctx.state.check_runs.get(ctx.int_param("check_run_id"))
    if run is None or run.repo != repo.key:
        raise errors.not_found()
    return repo, run


def register(routes: Routes) -> None:
    @routes.add("POST", "/repos/{owner}/{repo}/check-runs", permission=CHECKS_WRITE, creates_content=True)
    def create_check_run(ctx: Ctx) -> Response:
        repo = ctx.repo()
        body = ctx.body()
        check = _Validator(CREATE_DOCS)
        for key in ("name", "head_sha"):
            if not isinstance(body.get(key), str):
                raise check.fail(f'"{key}" wasn\'t supplied.')
        check.common(body)
        sha = ctx.state.resolve_ref(repo, body["head_sha"])
        if sha is None or sha != body["head_sha"]:
            raise GitHubError(422, "No commit found for SHA: " + body["head_sha"], documentation_url=CREATE_DOCS)
        app = ctx.principal.app
        assert app is not None
        now = ctx.state.now()
        run = CheckRun(
            id=ctx.state.next_id("check"), repo=repo.key, name=body["name"], head_sha=sha,
            suite_id=ctx.state.suite_for(repo, sha, app.id).id, app_id=app.id, status="queued", conclusion=None,
            started_at=now, completed_at=None, external_id="", details_url=None,
        )
        _apply(ctx, run, body, check)
        ctx.state.check_runs[run.id] = run
        return json_response(ctx.shapes.check_run(run), 201)

    @routes.add("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id:int}", permission=CHECKS_WRITE)
    def update_check_run(ctx: Ctx) -> Response:
        _, run = _run(ctx)
        if ctx.principal.app is None or run.app_id != ctx.principal.app.id:
            raise GitHubError(403, errors.NOT_ACCESSIBLE)
        body = ctx.body()
        check = _Validator(UPDATE_DOCS)
        check.common(body)
        _apply(ctx, run, body, check)
        return json_response(ctx.shapes.check_run(run))

    @routes.add("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id:int}", permission=CHECKS_READ)
    def get_check_run(ctx: Ctx) -> Response:
        return json_response(ctx.shapes.check_run(_run(ctx)[1]))

    @routes.add("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id:int}/annotations", permission=CHECKS_READ)
    def list_annotations(ctx: Ctx) -> Response:
        _, run = _run(ctx)
        return ctx.paginate(run.annotations, lambda a: ctx.shapes.annotation(run, a))

    @routes.add("GET", "/repos/{owner}/{repo}/commits/{ref:path}/check-runs", permission=CHECKS_READ)
    def runs_for_ref(ctx: Ctx) -> Response:
        repo = ctx.repo()
        sha = ctx.state.resolve_ref(repo, ctx.params["ref"])
        if sha is None:
            raise GitHubError(422, f"No commit found for SHA: {ctx.params['ref']}")
        name, status = ctx.query("check_name"), ctx.query("status")
        runs = [
            r for r in ctx.state.check_runs.values()
            if r.repo == repo.key and r.head_sha == sha
            and (name is None or r.name == name) and (status is None or r.status == status)
        ]
        if ctx.query("filter", "latest") == "latest":  # newest run per name, like GitHub's default
            newest: dict[str, CheckRun] = {}
            for run in runs:
                if run.name not in newest or run.id > newest[run.name].id:
                    newest[run.name] = run
            runs = list(newest.values())
        runs.sort(key=lambda r: -r.id)
        chunk, headers = ctx.page(runs, ctx.shapes.check_run)
        return json_response({"total_count": len(runs), "check_runs": chunk}, headers=headers)
