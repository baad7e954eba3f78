"""Conversation endpoints: issue comments on pull requests, reactions, collaborator permissions."""

from __future__ import annotations

from starlette.responses import Response

from align.simulator import errors
from align.simulator.errors import GitHubError
from align.simulator.payloads import REACTIONS
from align.simulator.reviews import MAX_BODY, body_too_long
from align.simulator.router import Ctx, Routes, json_response
from align.simulator.state import IssueComment, Reaction

# comments on a pull request may be written with either permission
COMMENT_READ = [("issues", "read"), ("pull_requests", "read")]
COMMENT_WRITE = [("issues", "write"), ("pull_requests", "write")]
COMMENT_DOCS = "https://docs.github.com/rest/issues/comments#create-an-issue-comment"


def _comment(ctx: Ctx) -> IssueComment:
    repo = ctx.repo()
    comment = ctx.state.issue_comments.get(ctx.int_param("comment_id"))
    if comment is None or comment.repo != repo.key:
        raise errors.not_found()
    return comment


def _body(ctx: Ctx) -> str:
    text = ctx.body().get("body")
    if not isinstance(text, str):
        raise errors.validation_failed("IssueComment", "body", "missing_field")
    if len(text) > MAX_BODY:
        raise body_too_long("IssueComment")
    return text


def _own(ctx: Ctx, comment: IssueComment) -> None:
    # Only the author edits or deletes a comment here; the bot must never touch what people wrote.
    if comment.user is not ctx.actor:
        raise GitHubError(403, errors.NOT_ACCESSIBLE)


def register(routes: Routes) -> None:
    @routes.add("GET", "/repos/{owner}/{repo}/issues/{number:int}", permission=COMMENT_READ)
    def get_issue(ctx: Ctx) -> Response:
        repo = ctx.repo()
        pr = ctx.state.pull(repo, ctx.int_param("number"))
        if pr is None:
            raise errors.not_found()
        return json_response(ctx.shapes.issue(pr))

    @routes.add("GET", "/repos/{owner}/{repo}/issues/{number:int}/comments", permission=COMMENT_READ)
    def list_comments(ctx: Ctx) -> Response:
        repo = ctx.repo()
        number = ctx.int_param("number")
        if (repo.key, number) not in ctx.state.pulls:
            raise errors.not_found()
        found = sorted((c for c in ctx.state.issue_comments.values() if c.repo == repo.key and c.number == number),
                       key=lambda c: c.id)
        return ctx.paginate(found, ctx.shapes.issue_comment)

    @routes.add("POST", "/repos/{owner}/{repo}/issues/{number:int}/comments", permission=COMMENT_WRITE,
                creates_content=True)
    def create_comment(ctx: Ctx) -> Response:
        repo = ctx.repo()
        number = ctx.int_param("number")
        if (repo.key, number) not in ctx.state.pulls:
            raise errors.not_found()
        text = _body(ctx)
        now = ctx.state.now()
        comment = IssueComment(ctx.state.next_id("comment"), repo.key, number, ctx.actor, text, now, now)
        ctx.state.issue_comments[comment.id] = comment
        return json_response(ctx.shapes.issue_comment(comment), 201,
                             headers={"location": ctx.shapes.issue_comment(comment)["url"]})

    @routes.add("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id:int}", permission=COMMENT_READ)
    def get_comment(ctx: Ctx) -> Response:
        return json_response(ctx.shapes.issue_comment(_comment(ctx)))

    @routes.add("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id:int}", permission=COMMENT_WRITE)
    def edit_comment(ctx: Ctx) -> Response:
        comment = _comment(ctx)
        _own(ctx, comment)
        text = _body(ctx)
        comment.body, comment.updated_at = text, ctx.state.now()
        return json_response(ctx.shapes.issue_comment(comment))

    @routes.add("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id:int}", permission=COMMENT_WRITE)
    def delete_comment(ctx: Ctx) -> Response:
        comment = _comment(ctx)
        _own(ctx, comment)
        del ctx.state.issue_comments[comment.id]
        return Response(status_code=204)

    @routes.add("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id:int}/reactions", permission=COMMENT_READ)
    def list_reactions(ctx: Ctx) -> Response:
        comment = _comment(ctx)
        found = sorted((r for r in ctx.state.reactions.values() if r.comment_id == comment.id), key=lambda r: r.id)
        return ctx.paginate(found, ctx.shapes.reaction)

    @routes.add("POST", "/repos/{owner}/{repo}/issues/comments/{comment_id:int}/reactions",
                permission=COMMENT_WRITE, creates_content=True)
    def create_reaction(ctx: Ctx) -> Response:
        comment = _comment(ctx)
        content = ctx.body().get("content")
        if content not in REACTIONS:
            raise errors.validation_failed("Reaction", "content", "invalid")
        actor = ctx.actor
        for existing in ctx.state.reactions.values():
            if existing.comment_id == comment.id and existing.user is actor and existing.content == content:
                return json_response(ctx.shapes.reaction(existing), 200)
        reaction = Reaction(ctx.state.next_id("reaction"), comment.id, actor, content, ctx.state.now())
        ctx.state.reactions[reaction.id] = reaction
        return json_response(ctx.shapes.reaction(reaction), 201)

    @routes.add("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission", permission=("metadata", "read"))
    def collaborator_permission(ctx: Ctx) -> Response:
        repo = ctx.repo()
        user = ctx.state.users.get(ctx.params["username"].lower())
        if user is None:
            raise errors.not_found()
        if user.login.lower() == repo.owner.login.lower() and user.type != "Organization":
            role = "admin"
        else:
            role = repo.collaborators.get(user.login.lower(), "none" if repo.private else "read")
        return json_response(ctx.shapes.collaborator_permission(repo, user, role))
