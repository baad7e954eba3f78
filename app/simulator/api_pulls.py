"""Pull request endpoints: the pull request, its files and diff, reviews and review comments."""

from __future__ import annotations

from starlette.responses import Response

from align.simulator import errors
from align.simulator.diff import render_unified
from align.simulator.errors import GitHubError
from align.simulator.reviews import COMMENT_DOCS, MAX_BODY, REVIEW_DOCS, anchor_comments, body_too_long
from align.simulator.router import Ctx, Routes, json_response
from align.simulator.state import PullRequest, Repository, Review, ReviewComment

MAX_PULL_FILES = 3_000
MAX_DIFF_FILES = 300
MAX_DIFF_LINES = 20_000
PULLS_READ = ("pull_requests", "read")
PULLS_WRITE = ("pull_requests", "write")
REVIEW_STATES = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED"}


def _pull(ctx: Ctx) -> tuple[Repository, PullRequest]:
    repo = ctx.repo()
    pr = ctx.state.pull(repo, ctx.int_param("number"))
    if pr is None:
        raise errors.not_found()
    return repo, pr


def _too_large(message: str) -> GitHubError:
    return GitHubError(406, message, errors=[{"resource": "PullRequest", "field": "diff", "code": "too_large"}],
                       documentation_url="https://docs.github.com/rest/pulls/pulls#list-pull-requests-files")


def _review_commit(ctx: Ctx, repo: Repository, pr: PullRequest, commit_id: object) -> str:
    if commit_id is None:
        return pr.head_sha
    if not isinstance(commit_id, str) or commit_id not in repo.git.commits:
        raise GitHubError(422, "Unprocessable Entity", errors=["Commit could not be found"],
                          documentation_url=REVIEW_DOCS)
    return commit_id


def register(routes: Routes) -> None:
    @routes.add("GET", "/repos/{owner}/{repo}/pulls", permission=PULLS_READ)
    def list_pulls(ctx: Ctx) -> Response:
        repo = ctx.repo()
        wanted = ctx.query("state") or "open"
        head, base = ctx.query("head"), ctx.query("base")
        found = [
            pr for pr in ctx.state.pulls.values()
            if pr.repo == repo.key
            and (wanted == "all" or pr.state == wanted)
            and (head is None or f"{repo.owner.login}:{pr.head_ref}" == head)
            and (base is None or pr.base_ref == base)
        ]
        found.sort(key=lambda p: -p.number)
        return ctx.paginate(found, lambda pr: ctx.shapes.pull(pr, simple=True))

    @routes.add("GET", "/repos/{owner}/{repo}/pulls/{number:int}", permission=PULLS_READ)
    def get_pull(ctx: Ctx) -> Response:
        _, pr = _pull(ctx)
        if ctx.accepts("application/vnd.github.diff") or ctx.accepts("application/vnd.github.v3.diff"):
            files = ctx.state.pull_diff(pr)
            if len(files) > MAX_DIFF_FILES:
                raise _too_large(errors.DIFF_TOO_MANY_FILES)
            text = render_unified(files)
            if text.count("\n") > MAX_DIFF_LINES:
                raise _too_large(errors.DIFF_TOO_MANY_LINES)
            return Response(text, media_type="application/vnd.github.diff; charset=utf-8")
        return json_response(ctx.shapes.pull(pr))

    @routes.add("GET", "/repos/{owner}/{repo}/pulls/{number:int}/files", permission=PULLS_READ)
    def pull_files(ctx: Ctx) -> Response:
        repo, pr = _pull(ctx)
        files = ctx.state.pull_diff(pr)[:MAX_PULL_FILES]
        return ctx.paginate(files, lambda f: ctx.shapes.diff_entry(repo, pr.head_sha, f))

    @routes.add("GET", "/repos/{owner}/{repo}/pulls/{number:int}/commits", permission=PULLS_READ)
    def pull_commits(ctx: Ctx) -> Response:
        repo, pr = _pull(ctx)
        commits = ctx.state.pull_commits(pr)[:250]
        return ctx.paginate(commits, lambda c: ctx.shapes.commit(repo, c))

    @routes.add("POST", "/repos/{owner}/{repo}/pulls/{number:int}/reviews", permission=PULLS_WRITE,
                creates_content=True)
    def create_review(ctx: Ctx) -> Response:
        repo, pr = _pull(ctx)
        body = ctx.body()
        event = body.get("event")
        if event is not None and event not in REVIEW_STATES:
            raise errors.invalid_request(
                f"For 'properties/event', {event!r} is not a member of {list(REVIEW_STATES)}.", REVIEW_DOCS
            )
        text = body.get("body") or ""
        if not isinstance(text, str):
            raise errors.invalid_request("For 'properties/body', it is not a string.", REVIEW_DOCS)
        if len(text) > MAX_BODY:
            raise body_too_long("PullRequestReview")
        commit_id = _review_commit(ctx, repo, pr, body.get("commit_id"))
        anchors = anchor_comments(ctx.state.pull_diff(pr, commit_id), body.get("comments") or [])
        if not text and (event == "REQUEST_CHANGES" or (event == "COMMENT" and not anchors)):
            raise GitHubError(422, "Unprocessable Entity", errors=["Review body can't be blank"],
                              documentation_url=REVIEW_DOCS)
        actor = ctx.actor
        if event is None and any(
            r.state == "PENDING" and r.user is actor and r.repo == repo.key and r.number == pr.number
            for r in ctx.state.reviews.values()
        ):
            raise GitHubError(422, "Unprocessable Entity",
                              errors=["User can only have one pending review per pull request"],
                              documentation_url=REVIEW_DOCS)
        now = ctx.state.now()
        review = Review(
            id=ctx.state.next_id("review"),
            repo=repo.key,
            number=pr.number,
            user=actor,
            body=text,
            state=REVIEW_STATES[event] if event else "PENDING",
            commit_id=commit_id,
            submitted_at=now if event else None,
        )
        ctx.state.reviews[review.id] = review
        for anchor in anchors:
            comment = ReviewComment(
                id=ctx.state.next_id("comment"), review_id=review.id, repo=repo.key, number=pr.number, user=actor,
                body=anchor.body, path=anchor.path, line=anchor.line, side=anchor.side,
                start_line=anchor.start_line, start_side=anchor.start_side, position=anchor.position,
                commit_id=commit_id, diff_hunk=anchor.diff_hunk, created_at=now, updated_at=now,
            )
            ctx.state.review_comments[comment.id] = comment
        return json_response(ctx.shapes.review(review))

    @routes.add("GET", "/repos/{owner}/{repo}/pulls/{number:int}/reviews", permission=PULLS_READ)
    def list_reviews(ctx: Ctx) -> Response:
        repo, pr = _pull(ctx)
        found = [r for r in ctx.state.reviews.values() if r.repo == repo.key and r.number == pr.number
                 and (r.state != "PENDING" or r.user is ctx.principal.actor)]
        return ctx.paginate(sorted(found, key=lambda r: r.id), ctx.shapes.review)

    @routes.add("GET", "/repos/{owner}/{repo}/pulls/{number:int}/reviews/{review_id:int}", permission=PULLS_READ)
    def get_review(ctx: Ctx) -> Response:
        repo, pr = _pull(ctx)
        review = ctx.state.reviews.get(ctx.int_param("review_id"))
        if review is None or review.repo != repo.key or review.number != pr.number:
            raise errors.not_found()
        return json_response(ctx.shapes.review(review))

    @routes.add("GET", "/repos/{owner}/{repo}/pulls/{number:int}/comments", permission=PULLS_READ)
    def list_review_comments(ctx: Ctx) -> Response:
        repo, pr = _pull(ctx)
        found = [c for c in ctx.state.review_comments.values() if c.repo == repo.key and c.number == pr.number
                 and _visible(ctx, c)]
        return ctx.paginate(sorted(found, key=lambda c: c.id), ctx.shapes.review_comment)

    @routes.add("POST", "/repos/{owner}/{repo}/pulls/{number:int}/comments", permission=PULLS_WRITE,
                creates_content=True)
    def create_review_comment(ctx: Ctx) -> Response:
        repo, pr = _pull(ctx)
        body = ctx.body()
        if not isinstance(body.get("commit_id"), str):
            raise errors.invalid_request("\"commit_id\" wasn't supplied.", COMMENT_DOCS)
        commit_id = _review_commit(ctx, repo, pr, body["commit_id"])
        comment_in = {k: body.get(k) for k in ("path", "body", "line", "side", "start_line", "start_side",
                                                "position")}
        (anchor,) = anchor_comments(ctx.state.pull_diff(pr, commit_id), [comment_in], COMMENT_DOCS)
        now = ctx.state.now()
        review = Review(ctx.state.next_id("review"), repo.key, pr.number, ctx.actor, "", "COMMENTED", commit_id, now)
        ctx.state.reviews[review.id] = review
        comment = ReviewComment(
            id=ctx.state.next_id("comment"), review_id=review.id, repo=repo.key, number=pr.number, user=ctx.actor,
            body=anchor.body, path=anchor.path, line=anchor.line, side=anchor.side, start_line=anchor.start_line,
            start_side=anchor.start_side, position=anchor.position, commit_id=commit_id,
            diff_hunk=anchor.diff_hunk, created_at=now, updated_at=now,
        )
        ctx.state.review_comments[comment.id] = comment
        return json_response(ctx.shapes.review_comment(comment), 201)

    def _comment(ctx: Ctx) -> ReviewComment:
        repo = ctx.repo()
        comment = ctx.state.review_comments.get(ctx.int_param("comment_id"))
        if comment is None or comment.repo != repo.key or not _visible(ctx, comment):
            raise errors.not_found()
        return comment

    @routes.add("GET", "/repos/{owner}/{repo}/pulls/comments/{comment_id:int}", permission=PULLS_READ)
    def get_review_comment(ctx: Ctx) -> Response:
        return json_response(ctx.shapes.review_comment(_comment(ctx)))

    @routes.add("PATCH", "/repos/{owner}/{repo}/pulls/comments/{comment_id:int}", permission=PULLS_WRITE)
    def edit_review_comment(ctx: Ctx) -> Response:
        comment = _comment(ctx)
        if comment.user is not ctx.actor:
            raise GitHubError(403, errors.NOT_ACCESSIBLE)
        text = ctx.body().get("body")
        if not isinstance(text, str):
            raise errors.invalid_request("\"body\" wasn't supplied.")
        if len(text) > MAX_BODY:
            raise body_too_long("PullRequestReviewComment")
        comment.body, comment.updated_at = text, ctx.state.now()
        return json_response(ctx.shapes.review_comment(comment))

    @routes.add("DELETE", "/repos/{owner}/{repo}/pulls/comments/{comment_id:int}", permission=PULLS_WRITE)
    def delete_review_comment(ctx: Ctx) -> Response:
        comment = _comment(ctx)
        if comment.user is not ctx.actor:
            raise GitHubError(403, errors.NOT_ACCESSIBLE)
        del ctx.state.review_comments[comment.id]
        return Response(status_code=204)


def _visible(ctx: Ctx, comment: ReviewComment) -> bool:
    """Comments of a pending review are seen only by its author."""
    review = ctx.state.reviews.get(comment.review_id)
    return review is None or review.state != "PENDING" or review.user is ctx.principal.actor
