"""GitHub's error bodies and the texts it uses, kept in one place."""

from __future__ import annotations

from typing import Any

DOCS = "https://docs.github.com/rest"
RATE_LIMIT_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SECONDARY_LIMIT_DOCS = (
    "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api"
    "#about-secondary-rate-limits"
)

NOT_FOUND = "Not Found"
BAD_CREDENTIALS = "Bad credentials"
REQUIRES_AUTH = "Requires authentication"
NOT_ACCESSIBLE = "Resource not accessible by integration"
JWT_UNDECODABLE = "A JSON web token could not be decoded"
JWT_EXPIRED = (
    "'Expiration time' claim ('exp') must be a numeric value representing the future time at which "
    "the assertion expires"
)
JWT_TOO_LONG = "'Expiration time' claim ('exp') is too far in the future"
JWT_IAT = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
SECONDARY_LIMIT = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID {request_id}."
)
PRIMARY_LIMIT = "API rate limit exceeded for installation ID {installation_id}."
DIFF_TOO_MANY_FILES = (
    "Sorry, the diff exceeded the maximum number of files (300). Consider using 'List pull requests files' "
    "API or locally cloning the repository instead."
)
DIFF_TOO_MANY_LINES = (
    "Sorry, the diff exceeded the maximum number of lines (20000). Consider using 'List pull requests files' "
    "API or locally cloning the repository instead."
)
BLOB_TOO_LARGE = (
    "This API returns blobs up to 1 MB in size. The requested blob is too large to fetch via the API, "
    "but you can use the Git Data API to request blobs up to 100 MB in size."
)
REVIEW_LINE_NOT_IN_DIFF = "Pull request review thread line must be part of the diff"
REVIEW_HUNK_BLANK = "Pull request review thread diff hunk can't be blank"
REVIEW_START_SAME_HUNK = "Pull request review thread start line must be part of the same hunk as the line."
REVIEW_START_PRECEDES = "Pull request review thread start line must precede the end line."
REVIEW_PATH_INVALID = "Pull request review thread path is invalid"
REVIEW_POSITION_INVALID = "Pull request review thread position is invalid"


class GitHubError(Exception):
    """Raised by handlers; rendered as GitHub renders errors."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[Any] | None = None,
        documentation_url: str = DOCS,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.documentation_url = documentation_url
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message}
        if self.errors is not None:
            out["errors"] = self.errors
        out["documentation_url"] = self.documentation_url
        out["status"] = str(self.status)
        return out


def not_found() -> GitHubError:
    return GitHubError(404, NOT_FOUND)


def invalid_request(detail: str, documentation_url: str = DOCS) -> GitHubError:
    """The 422 GitHub answers when a body breaks the endpoint's JSON schema (check runs, for one)."""
    return GitHubError(422, f"Invalid request.\n\n{detail}", documentation_url=documentation_url)


def validation_failed(resource: str, field: str, code: str, message: str | None = None) -> GitHubError:
    error: dict[str, Any] = {"resource": resource, "code": code, "field": field}
    if message is not None:
        error["message"] = message
    return GitHubError(422, "Validation Failed", errors=[error])


def to_sentence(parts: list[str]) -> str:
    """Rails' Array#to_sentence, which GitHub uses to join review errors: "a, b, and c"."""
    if len(parts) <= 1:
        return "".join(parts)
    if len(parts) == 2:
        return f"{parts[0]} and {parts[1]}"
    return ", ".join(parts[:-1]) + f", and {parts[-1]}"
