"""Repository and git data endpoints: repo, commits, compare, trees, contents, archives."""

from __future__ import annotations

import io
import secrets
import tarfile
from urllib.parse import quote

from starlette.responses import Response, StreamingResponse

from align.simulator import errors
from align.simulator.diff import diff_trees, render_unified
from align.simulator.errors import GitHubError
from align.simulator.gitstore import Commit
from align.simulator.router import Ctx, Routes, json_response
from align.simulator.state import Repository

MAX_JSON_BLOB = 1024 * 1024  # contents API: full features up to 1 MB
MAX_RAW_BLOB = 100 * 1024 * 1024  # raw media type: up to 100 MB
MAX_COMPARE_FILES = 300
ARCHIVE_TOKEN_LIFETIME = 300.0
DIFF_TYPE = "application/vnd.github.diff; charset=utf-8"
CONTENTS = ("contents", "read")
METADATA = ("metadata", "read")


def _blob_too_large() -> GitHubError:
    return GitHubError(
        403,
        errors.BLOB_TOO_LARGE,
        errors=[{"resource": "Blob", "field": "data", "code": "too_large"}],
        documentation_url="https://docs.github.com/rest/repos/contents#get-repository-content",
    )


def commit_or_422(ctx: Ctx, repo: Repository, ref: str) -> Commit:
    sha = ctx.state.resolve_ref(repo, ref)
    if sha is None:
        raise GitHubError(422, f"No commit found for SHA: {ref}",
                          documentation_url="https://docs.github.com/rest/commits/commits#get-a-commit")
    return repo.git.commits[sha]


def _ref_or_404(ctx: Ctx, repo: Repository, ref: str) -> Commit:
    sha = ctx.state.resolve_ref(repo, ref)
    if sha is None:
        raise GitHubError(404, f"No commit found for the ref {ref}",
                          documentation_url="https://docs.github.com/rest/repos/contents")
    return repo.git.commits[sha]


def make_tarball(repo: Repository, commit: Commit) -> bytes:
    """A .tar.gz laid out like GitHub's: one top directory "{owner}-{repo}-{sha7}/" and a pax comment."""
    top = f"{repo.owner.login}-{repo.name}-{commit.sha[:7]}"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT,
                      pax_headers={"comment": commit.sha}) as archive:
        directories = sorted({"/".join(p.split("/")[:i]) for p in commit.files for i in range(1, p.count("/") + 1)})
        for directory in ["", *directories]:
            info = tarfile.TarInfo(f"{top}/{directory}".rstrip("/") + "/")
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o775, int(commit.timestamp)
            archive.addfile(info)
        for path in sorted(commit.files):
            data = commit.files[path]
            info = tarfile.TarInfo(f"{top}/{path}")
            info.size, info.mode, info.mtime = len(data), 0o664, int(commit.timestamp)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def register(routes: Routes) -> None:
    @routes.add("GET", "/repos/{owner}/{repo}", permission=METADATA)
    def get_repo(ctx: Ctx) -> Response:
        return json_response(ctx.shapes.repo(ctx.repo()))

    @routes.add("GET", "/repos/{owner}/{repo}/commits/{sha}/pulls", permission=("pull_requests", "read"))
    def commit_pulls(ctx: Ctx) -> Response:
        repo = ctx.repo()
        commit = commit_or_422(ctx, repo, ctx.params["sha"])
        found = [
            pr for pr in ctx.state.pulls.values()
            if pr.repo == repo.key and commit.sha in {c.sha for c in ctx.state.pull_commits(pr)}
        ]
        return ctx.paginate(sorted(found, key=lambda p: -p.number), lambda pr: ctx.shapes.pull(pr, simple=True))

    @routes.add("GET", "/repos/{owner}/{repo}/commits/{ref:path}", permission=CONTENTS)
    def get_commit(ctx: Ctx) -> Response:
        repo = ctx.repo()
        commit = commit_or_422(ctx, repo, ctx.params["ref"])
        parent = commit.parents[0] if commit.parents else None
        old = repo.git.commits[parent].files if parent else {}
        files = diff_trees(old, commit.files)
        if ctx.accepts("application/vnd.github.diff") or ctx.accepts("application/vnd.github.v3.diff"):
            return Response(render_unified(files), media_type=DIFF_TYPE)
        body = ctx.shapes.commit(repo, commit, files)
        body["files"] = body["files"][:MAX_COMPARE_FILES]
        return json_response(body)

    @routes.add("GET", "/repos/{owner}/{repo}/compare/{basehead:path}", permission=CONTENTS)
    def compare(ctx: Ctx) -> Response:
        repo = ctx.repo()
        basehead = ctx.params["basehead"]
        base_ref, sep, head_ref = basehead.partition("...")
        if not sep:
            base_ref, sep, head_ref = basehead.partition("..")
        if not sep:
            raise errors.not_found()
        base, head = _ref_or_404(ctx, repo, base_ref), _ref_or_404(ctx, repo, head_ref)
        merge_base_sha = repo.git.merge_base(base.sha, head.sha) or base.sha
        ahead = repo.git.commits_between(base.sha, head.sha)
        behind = repo.git.commits_between(head.sha, base.sha)
        files = ctx.state.diff(repo, base.sha, head.sha)
        if ctx.accepts("application/vnd.github.diff") or ctx.accepts("application/vnd.github.v3.diff"):
            return Response(render_unified(files), media_type=DIFF_TYPE)
        if ahead and behind:
            status = "diverged"
        elif ahead:
            status = "ahead"
        elif behind:
            status = "behind"
        else:
            status = "identical"
        api = ctx.shapes.repo_api(repo)
        html = ctx.shapes.html(f"/{repo.full_name}/compare/{quote(basehead)}")
        body = {
            "url": f"{api}/compare/{quote(basehead)}",
            "html_url": html,
            "permalink_url": ctx.shapes.html(f"/{repo.full_name}/compare/{base.sha}...{head.sha}"),
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "base_commit": ctx.shapes.commit(repo, base),
            "merge_base_commit": ctx.shapes.commit(repo, repo.git.commits[merge_base_sha]),
            "status": status,
            "ahead_by": len(ahead),
            "behind_by": len(behind),
            "total_commits": len(ahead),
            "commits": [ctx.shapes.commit(repo, c) for c in ahead[:250]],
            "files": [ctx.shapes.diff_entry(repo, head.sha, f) for f in files[:MAX_COMPARE_FILES]],
        }
        return json_response(body)

    @routes.add("GET", "/repos/{owner}/{repo}/git/trees/{sha:path}", permission=CONTENTS)
    def get_tree(ctx: Ctx) -> Response:
        repo = ctx.repo()
        ref = ctx.params["sha"]
        tree_sha = ref if ref in repo.git.trees else None
        if tree_sha is None:
            commit_sha = ctx.state.resolve_ref(repo, ref)
            if commit_sha is None:
                raise errors.not_found()
            tree_sha = repo.git.commits[commit_sha].tree_sha
        recursive = ctx.query("recursive") is not None  # GitHub: any value turns recursion on
        return json_response(ctx.shapes.tree(repo, tree_sha, recursive))

    def contents(ctx: Ctx, path: str) -> Response:
        repo = ctx.repo()
        ref = ctx.query("ref") or repo.default_branch
        commit = _ref_or_404(ctx, repo, ref)
        path = path.strip("/")
        data = commit.files.get(path)
        raw = ctx.accepts("application/vnd.github.raw") or ctx.accepts("application/vnd.github.v3.raw")
        if data is not None:
            if len(data) > MAX_RAW_BLOB:
                raise _blob_too_large()
            if raw:
                return Response(data, media_type="application/vnd.github.raw")
            obj = ctx.accepts("application/vnd.github.object") or ctx.state.contents_as_objects
            if len(data) > MAX_JSON_BLOB and not obj:
                raise _blob_too_large()
            body = ctx.shapes.content_item(repo, commit, ref, path, data, with_content=True)
            if len(data) > MAX_JSON_BLOB:
                body["content"], body["encoding"] = "", "none"
            return json_response(body)
        prefix = f"{path}/" if path else ""
        names: dict[str, bytes | None] = {}
        for file_path, file_data in commit.files.items():
            if file_path.startswith(prefix):
                head, sep, _ = file_path[len(prefix) :].partition("/")
                names[head] = None if sep else file_data
        if not names:
            raise errors.not_found()
        if raw:
            raise errors.not_found()
        listing = [
            ctx.shapes.content_item(repo, commit, ref, prefix + name, names[name], with_content=False)
            for name in sorted(names)
        ]
        return json_response(listing)

    @routes.add("GET", "/repos/{owner}/{repo}/contents", permission=CONTENTS)
    def root_contents(ctx: Ctx) -> Response:
        return contents(ctx, "")

    @routes.add("GET", "/repos/{owner}/{repo}/contents/{path:path}", permission=CONTENTS)
    def path_contents(ctx: Ctx) -> Response:
        return contents(ctx, ctx.params["path"])

    def archive_redirect(ctx: Ctx, ref: str) -> Response:
        repo = ctx.repo()
        commit = _ref_or_404(ctx, repo, ref)
        token = secrets.token_hex(16)
        ctx.state.archive_tokens[token] = (repo.key, commit.sha, ctx.state.now() + ARCHIVE_TOKEN_LIFETIME)
        location = f"{ctx.shapes.codeload_base}/_codeload/{repo.full_name}/legacy.tar.gz/{commit.sha}?token={token}"
        return Response(status_code=302, headers={"location": location})

    @routes.add("GET", "/repos/{owner}/{repo}/tarball", permission=CONTENTS)
    def tarball_default(ctx: Ctx) -> Response:
        return archive_redirect(ctx, ctx.repo().default_branch)

    @routes.add("GET", "/repos/{owner}/{repo}/tarball/{ref:path}", permission=CONTENTS)
    def tarball(ctx: Ctx) -> Response:
        return archive_redirect(ctx, ctx.params["ref"])

    @routes.add("GET", "/_codeload/{owner}/{repo}/legacy.tar.gz/{sha}", auth="none", counts=False)
    def codeload(ctx: Ctx) -> Response:
        # like codeload.github.com: no Authorization, a short-lived token from the redirect instead
        grant = ctx.state.archive_tokens.get(ctx.query("token") or "")
        repo = ctx.state.repo(f"{ctx.params['owner']}/{ctx.params['repo']}")
        if grant is None or repo is None or grant[:2] != (repo.key, ctx.params["sha"]) or grant[2] < ctx.state.now():
            raise errors.not_found()
        commit = repo.git.commits[ctx.params["sha"]]
        filename = f"{repo.owner.login}-{repo.name}-{commit.sha[:7]}.tar.gz"
        headers = {"content-disposition": f"attachment; filename={filename}"}
        archive = make_tarball(repo, commit)
        body = archive if ctx.state.archive_body is None else ctx.state.archive_body(archive)
        if isinstance(body, bytes):
            return Response(body, media_type="application/x-gzip", headers=headers)
        return StreamingResponse(iter(body), media_type="application/x-gzip", headers=headers)

    @routes.add("GET", "/{owner}/{repo}/raw/{ref}/{path:path}", auth="installation", permission=CONTENTS)
    def raw_file(ctx: Ctx) -> Response:
        repo = ctx.repo()
        commit = _ref_or_404(ctx, repo, ctx.params["ref"])
        data = commit.files.get(ctx.params["path"])
        if data is None:
            raise errors.not_found()
        return Response(data, media_type="text/plain; charset=utf-8")
