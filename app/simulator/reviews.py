"""Where a review comment may go: GitHub's rules for anchoring comments on a pull request's diff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from align.simulator import errors
from align.simulator.diff import FileDiff
from align.simulator.errors import GitHubError

MAX_BODY = 65_536
REVIEW_DOCS = "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request"
COMMENT_DOCS = "https://docs.github.com/rest/pulls/comments#create-a-review-comment-for-a-pull-request"
SIDES = ("LEFT", "RIGHT")


@dataclass(frozen=True)
class Anchor:
    path: str
    body: str
    line: int
    side: str
    start_line: int | None
    start_side: str | None
    position: int
    diff_hunk: str


def body_too_long(resource: str) -> GitHubError:
    return errors.validation_failed(resource, "body", "custom", f"Body is too long (maximum is {MAX_BODY} characters)")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _anchor_one(fd: FileDiff | None, comment: dict[str, Any]) -> tuple[Anchor | None, list[str]]:
    """Resolve one comment against its file's diff; returns the anchor or GitHub's error messages."""
    if fd is None:
        return None, [errors.REVIEW_PATH_INVALID, errors.REVIEW_HUNK_BLANK]
    side = comment.get("side") or "RIGHT"
    line = _int(comment.get("line"))
    start_line = _int(comment.get("start_line"))
    start_side = comment.get("start_side") or (side if start_line is not None else None)
    if line is None and _int(comment.get("position")) is not None:
        located = fd.at_position(int(comment["position"]))
        if located is None:
            return None, [errors.REVIEW_POSITION_INVALID, errors.REVIEW_HUNK_BLANK]
        diff_line = fd.hunks[located[0]].lines[located[1]]
        side = "LEFT" if diff_line.kind == "-" else "RIGHT"
        line = diff_line.old if side == "LEFT" else diff_line.new
        assert line is not None
    elif line is None:
        return None, [errors.REVIEW_LINE_NOT_IN_DIFF, errors.REVIEW_HUNK_BLANK]
    else:
        located = fd.locate(side, line)
    problems: list[str] = []
    if located is None:
        problems.append(errors.REVIEW_LINE_NOT_IN_DIFF)
    if start_line is not None:
        if start_side == side and start_line >= line:
            problems.append(errors.REVIEW_START_PRECEDES)
        else:
            start = fd.locate(start_side or side, start_line)
            if start is None or located is None or start[0] != located[0] or start[1] > located[1]:
                problems.append(errors.REVIEW_START_SAME_HUNK)
    if located is None:
        problems.append(errors.REVIEW_HUNK_BLANK)
    if problems:
        return None, problems
    assert located is not None
    anchor = Anchor(
        path=fd.path,
        body=comment["body"],
        line=line,
        side=side,
        start_line=start_line,
        start_side=start_side,
        position=fd.position_of(*located),
        diff_hunk=fd.diff_hunk(*located),
    )
    return anchor, []


def anchor_comments(diffs: list[FileDiff], comments: Any, docs: str = REVIEW_DOCS) -> list[Anchor]:
    """Check every comment; one bad comment rejects them all (GitHub creates the review all-or-nothing)."""
    if not isinstance(comments, list):
        raise errors.invalid_request("For 'properties/comments', it is not an array.", docs)
    by_path = {fd.path: fd for fd in diffs}
    anchors: list[Anchor] = []
    problems: list[str] = []
    for comment in comments:
        if not isinstance(comment, dict):
            raise errors.invalid_request(f"For 'items', {comment!r} is not an object.", docs)
        for required in ("path", "body"):
            if not isinstance(comment.get(required), str):
                raise errors.invalid_request(f'"{required}" wasn\'t supplied.', docs)
        if len(comment["body"]) > MAX_BODY:
            raise body_too_long("PullRequestReviewComment")
        for key in ("side", "start_side"):
            if comment.get(key) is not None and comment[key] not in SIDES:
                raise errors.invalid_request(
                    f"For 'properties/{key}', {comment[key]!r} is not a member of {list(SIDES)}.", docs
                )
        anchor, messages = _anchor_one(by_path.get(comment["path"]), comment)
        if anchor is not None:
            anchors.append(anchor)
        problems += [m for m in messages if m not in problems]
    if problems:
        raise GitHubError(422, "Unprocessable Entity", errors=[errors.to_sentence(problems)], documentation_url=docs)
    return anchors
