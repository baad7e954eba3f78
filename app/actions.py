"""Running under GitHub Actions: the base and head a review should compare, from the event that started
the workflow, and the history a shallow checkout lacks.

`actions/checkout` clones one commit (`fetch-depth: 1`): for a pull request, the merge commit GitHub
made of the head onto the base branch, whose parents are named in the commit object but not fetched.
So the base is the event's `pull_request.base.sha`; when the checked-out commit is that merge commit,
its diff against the base is exactly the pull request's change, and one more commit (the base, depth
1) is all that must be fetched. Otherwise (a checkout of the head itself) the base is the merge-base,
which needs history: fetched, or exit 2 saying to set `fetch-depth: 0`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from align.git_source import GitSource
from align.source import SourceError

ZERO_SHA = "0" * 40
FETCH_DEPTH_HINT = "set `fetch-depth: 0` on actions/checkout"


@dataclass(frozen=True)
class ActionsEvent:
    """What a review needs from `GITHUB_EVENT_PATH` and the `GITHUB_*` variables."""

    name: str  # GITHUB_EVENT_NAME: pull_request, push, ...
    base_sha: str | None = None  # pull_request.base.sha, or a push's `before`
    head_sha: str | None = None  # pull_request.head.sha, or a push's `after`
    base_ref: str | None = None  # the base branch's name (GITHUB_BASE_REF)
    default_branch: str | None = None  # repository.default_branch
    number: int | None = None  # the pull request's number

    @property
    def is_pull_request(self) -> bool:
        return self.base_sha is not None and self.number is not None


def in_actions(environ: Mapping[str, str]) -> bool:
    return environ.get("GITHUB_ACTIONS") == "true"


def read_event(environ: Mapping[str, str]) -> ActionsEvent | None:
    """The event of this workflow run, or None outside GitHub Actions. An unreadable event file leaves
    the fields it would have given empty (the variables still count)."""
    if not in_actions(environ):
        return None
    payload: dict[str, object] = {}
    path = environ.get("GITHUB_EVENT_PATH")
    if path:
        try:
            loaded = json.loads(Path(path).read_text(encoding="utf-8"))
            payload = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            payload = {}
    name = environ.get("GITHUB_EVENT_NAME", "")
    repository = _dict(payload.get("repository"))
    default_branch = _str(repository.get("default_branch"))
    base_ref = environ.get("GITHUB_BASE_REF") or None
    pull = _dict(payload.get("pull_request"))
    if pull:
        base, head = _dict(pull.get("base")), _dict(pull.get("head"))
        number = pull.get("number", payload.get("number"))
        return ActionsEvent(
            name=name,
            base_sha=_str(base.get("sha")),
            head_sha=_str(head.get("sha")),
            base_ref=_str(base.get("ref")) or base_ref,
            default_branch=default_branch,
            number=number if isinstance(number, int) else None,
        )
    group = _dict(payload.get("merge_group"))
    if group:  # a merge queue: the queued commit against the base it was built on
        return ActionsEvent(name=name, base_sha=_str(group.get("base_sha")), head_sha=_str(group.get("head_sha")),
                            base_ref=base_ref, default_branch=default_branch)
    if name == "push":
        before = _str(payload.get("before"))
        return ActionsEvent(
            name=name,
            base_sha=None if before in (None, ZERO_SHA) else before,  # a new branch has no `before`
            head_sha=_str(payload.get("after")),
            base_ref=base_ref,
            default_branch=default_branch,
        )
    return ActionsEvent(name=name, base_ref=base_ref, default_branch=default_branch)


def base_for(source: GitSource, event: ActionsEvent, head: str = "HEAD") -> str:
    """The base to review `head` against under this event, fetching what a shallow clone lacks. Raises
    SourceError (exit 2) saying what to set when the history cannot be had."""
    if event.base_sha and not event.is_pull_request and not _fetched(source, event.base_sha):
        event = replace(event, base_sha=None)  # a push whose `before` is gone (force-pushed): the default branch
    if event.base_sha:
        _ensure(source, event.base_sha, f"the base commit {event.base_sha[:12]}")
        head_sha = source.resolve(head)
        if event.base_sha in source.parents(head_sha):  # the pull request's merge commit (or a push onto base)
            return event.base_sha
        if event.is_pull_request:
            return _merge_base(source, event.base_sha, head_sha)
        return event.base_sha  # a push: what was there before it
    branch = event.base_ref or event.default_branch
    if not branch:
        return source.default_base(head)
    ref = f"refs/remotes/origin/{branch}"
    if not source.has_commit(ref):
        try:
            source.fetch(f"+refs/heads/{branch}:{ref}", depth=1)
        except SourceError as error:
            raise SourceError(f"cannot fetch the base branch {branch!r} ({error}); {FETCH_DEPTH_HINT}") from None
    return _merge_base(source, ref, source.resolve(head))


def _fetched(source: GitSource, sha: str) -> bool:
    """True when the commit is here or could be fetched (depth 1)."""
    if source.has_commit(sha):
        return True
    try:
        source.fetch(sha, depth=1)
    except SourceError:
        return False
    return source.has_commit(sha)


def _ensure(source: GitSource, sha: str, what: str) -> None:
    if source.has_commit(sha):
        return
    try:
        source.fetch(sha, depth=1)
    except SourceError as error:
        raise SourceError(f"{what} is not in this clone and cannot be fetched ({error}); {FETCH_DEPTH_HINT}") \
            from None
    if not source.has_commit(sha):
        raise SourceError(f"{what} is not in this clone; {FETCH_DEPTH_HINT}")


def _merge_base(source: GitSource, base: str, head: str) -> str:
    """merge-base of the two, deepening a shallow clone until it is found (then all history, once)."""
    found = source.merge_base(base, head)
    if found is not None:
        return found
    if source.is_shallow():
        try:
            source.fetch(source.resolve(base), source.resolve(head), unshallow=True)  # by SHA: any local name
        except SourceError as error:
            raise SourceError(f"this shallow clone lacks the history to find where the change starts and it "
                              f"cannot be fetched ({error}); {FETCH_DEPTH_HINT}") from None
        found = source.merge_base(base, head)
        if found is not None:
            return found
    raise SourceError(f"{head[:12]} and {base[:12] if len(base) == 40 else base} have no common history; "
                      "pass --base")


def _dict(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
