"""The archive host failing (unreachable, garbage, cut off, 5xx, a bomb) or an installation token expiring
mid-review: the review still completes, with the findings of the normal path, against the simulator."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from align.service.github_source import MAX_SINGLE_READS
from align.service.github_stream import ARCHIVE_HOST_PAUSE
from align.simulator import Simulator
from align.simulator.archive_shapes import gzip_bomb, pax_header_bomb

from .stack import Stack, start_stack, stop_stack

CONFIG = 'GPU_MODEL = "H200"\nGPU_MEMORY_GB = 141\n'
DOCS = "# Serving\n\nWe serve on 8 x H100 80GB nodes.\n"
BIG = "# generated\n" + "x = 1\n" * 200_000  # 1.2 MB: over the contents API's 1 MB, reported as too large
FILES = {"deploy/config.py": CONFIG, "docs/serving.md": DOCS, "data/big.py": BIG}
UNLISTED = "Only the changed files were read"  # the note of a review without the repository's archive


def findings(stack: Stack, number: int, head: str) -> dict[str, Any]:
    """What a review concluded and posted, without what differs between two pull requests of equal content."""
    run = stack.last_run(head)
    summary = run.output["summary"] or ""
    return {
        "status": (run.status, run.conclusion, run.output["title"]),
        "annotations": sorted((a["path"], a["start_line"], a["annotation_level"], a["message"])
                              for a in run.annotations),
        "inline": sorted((c.path, c.line, c.body) for c in stack.inline(number)),
        "skipped": [line for line in summary.splitlines() if line.startswith("- `data/big.py`")],
        # The whole report, word for word, less the note a fallback adds (what it did not read).
        "summary": re.sub(r"\n{3,}", "\n\n", "\n".join(
            line for line in summary.replace(head, "HEAD").replace(head[:7], "HEAD").splitlines()
            if not line.startswith(UNLISTED))),
        "unlisted": UNLISTED in summary,
    }


def review(stack: Stack, branch: str) -> tuple[int, dict[str, Any]]:
    number, head = stack.open(FILES, branch=branch)
    return number, findings(stack, number, head)


def archive_calls(sim: Simulator) -> list[Any]:
    return [c for c in sim.calls if c.path.startswith("/_codeload/")]


def test_the_normal_path_reads_one_archive_from_another_host_without_the_token(stack: Stack) -> None:
    _number, normal = review(stack, "normal")
    assert normal["status"][1] == "failure" and len(normal["annotations"]) == 3
    assert normal["skipped"] == ["- `data/big.py`: larger than 1 MB"]
    assert [c.status for c in archive_calls(stack.sim)] == [200]
    assert not any(c.authorization for c in archive_calls(stack.sim))
    assert all(c.authorization for c in stack.sim.calls if c.path.startswith("/repos/"))
    assert not any("/contents/deploy" in c.path for c in stack.sim.calls)


def _unreachable(sim: Simulator) -> None:
    sim.stop_archive_host()


def _server_error(sim: Simulator) -> None:
    sim.inject("GET", r"^/_codeload/", status=503, times=None)


def _dropped(sim: Simulator) -> None:
    sim.inject("GET", r"^/_codeload/", drop_connection=True, times=None)


def _answer(body: Callable[[bytes], Any]) -> Callable[[Simulator], None]:
    return lambda sim: sim.serve_archives_as(body)


def _broken_off(archive: bytes) -> Iterator[bytes]:
    yield archive[: len(archive) // 2]
    raise ConnectionResetError("the archive host went away")


FAILURES: dict[str, Callable[[Simulator], None]] = {
    "unreachable": _unreachable,  # connection refused, as behind an egress firewall
    "server-error": _server_error,
    "connection-dropped": _dropped,
    "garbage": _answer(lambda _: b"<html><body>Blocked by proxy policy</body></html>"),
    "truncated-gzip": _answer(lambda archive: archive[: len(archive) // 2]),
    "stream-broken-off": _answer(_broken_off),
    "gzip-bomb": _answer(lambda _: gzip_bomb()),
    "huge-pax-header": _answer(lambda _: pax_header_bomb()),
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_archive_failure_falls_back_to_single_reads_with_the_same_findings(
    stack: Stack, failure: str, caplog: pytest.LogCaptureFixture
) -> None:
    _number, normal = review(stack, "normal")
    FAILURES[failure](stack.sim)
    stack.sim.reset_calls()
    with caplog.at_level(logging.WARNING, logger="align.source"):
        _number, fallback = review(stack, "fallback")
    assert fallback["unlisted"] and not normal["unlisted"]
    assert {**fallback, "unlisted": False} == normal
    reads = [c.path for c in stack.sim.calls if "/contents/" in c.path]
    assert any(p.endswith("/contents/deploy/config.py") for p in reads)
    assert any(p.endswith("/contents/data/big.py") for p in reads)  # and raw, for its first megabyte
    [why] = [r.getMessage() for r in caplog.records if "reading the files one by one" in r.getMessage()]
    assert "unavailable" in why


def test_a_large_file_answered_without_content_is_read_raw_not_taken_as_empty(stack: Stack) -> None:
    """Should GitHub's contents API answer a file over 1 MB as its object media type does (`encoding: none`,
    empty `content`) instead of 403, the file is still read raw and reported as too large, not reviewed as
    an empty file."""
    _number, normal = review(stack, "normal")
    stack.sim.stop_archive_host()
    stack.sim.answer_contents_as_objects()
    stack.sim.reset_calls()
    _number, fallback = review(stack, "objects")
    assert {**fallback, "unlisted": False} == normal and fallback["skipped"] == ["- `data/big.py`: larger than 1 MB"]
    big = [c for c in stack.sim.calls if c.path.endswith("/contents/data/big.py")]
    # The answer without content, then the raw read (and a 404 from the base, where the file is new).
    assert sorted(c.status for c in big) == [200, 200, 404]


def test_a_fallback_review_says_the_files_outside_the_change_were_not_read(stack: Stack) -> None:
    number, head = stack.open(FILES, branch="normal")
    assert "Only the changed files were read" not in stack.last_run(head).output["summary"]
    stack.sim.stop_archive_host()
    number, head = stack.open(FILES, branch="fallback")
    for text in (stack.last_run(head).output["summary"], stack.summaries(number)[0].body):
        assert "Only the changed files were read: the repository's archive could not be downloaded." in text
        assert "`stale-reference`" in text


def test_fallback_logs_why(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    stack.sim.serve_archives_as(lambda _: gzip_bomb())
    with caplog.at_level(logging.WARNING, logger="align.source"):
        review(stack, "bomb")
    [why] = [r.getMessage() for r in caplog.records if "reading the files one by one" in r.getMessage()]
    assert "ArchiveRefused" in why and "claims" in why


@pytest.mark.parametrize("request_path", [
    r"/tarball/",  # the archive download's first hop, on the API
    r"/pulls/\d+/files$",
    r"/contents/",
    r"/issues/\d+/comments$",
    r"/check-runs/\d+$",  # a write
])
def test_token_expiring_mid_review_is_renewed_once_and_the_review_completes(
    stack: Stack, request_path: str
) -> None:
    _number, normal = review(stack, "normal")
    if request_path == r"/contents/":  # only read when the archive is not: make it so
        stack.sim.stop_archive_host()
    issued = len(stack.sim.tokens())
    stack.sim.inject("*", request_path, expire_tokens=True)
    stack.sim.reset_calls()
    number, later = review(stack, "later")
    assert later == {**normal, "unlisted": request_path == r"/contents/"}  # which says it read no archive
    assert len(stack.sim.tokens()) == issued + 1  # one new token, asked for after the 401
    assert [c.status for c in stack.sim.calls if c.status == 401] == [401]
    assert len(stack.summaries(number)) == 1 and len(stack.sim.reviews(stack.repo, number)) == 1


def test_the_archive_after_an_expired_token_still_goes_to_its_host_without_the_token(stack: Stack) -> None:
    stack.sim.inject("GET", r"/tarball/", expire_tokens=True)
    review(stack, "expired")
    tarball = [c.status for c in stack.sim.calls if "/tarball/" in c.path]
    assert tarball == [401, 302]
    assert [(c.status, c.authorization) for c in archive_calls(stack.sim)] == [(200, False)]
    assert not any("/contents/deploy" in c.path for c in stack.sim.calls)  # no fallback was needed


def test_an_unreachable_archive_host_is_not_asked_again_for_a_while(app_key: tuple[str, str]) -> None:
    """Behind an egress firewall every review would wait for a connect timeout before falling back."""
    now = [1_000_000.0]
    stack = start_stack(*app_key, gateway_options={"clock": lambda: now[0]})
    try:
        stack.sim.stop_archive_host()
        _first, first = review(stack, "first")
        _second, second = review(stack, "second")
        assert second == first and first["annotations"]
        assert len([c for c in stack.sim.calls if "/tarball/" in c.path]) == 1
        now[0] += ARCHIVE_HOST_PAUSE + 1
        review(stack, "third")
        assert len([c for c in stack.sim.calls if "/tarball/" in c.path]) == 2  # asked again after the pause
    finally:
        stop_stack(stack)


def test_a_401_from_the_archive_host_asks_github_again_with_a_new_token(stack: Stack) -> None:
    stack.sim.inject("GET", r"^/_codeload/", status=401)
    _number, found = review(stack, "codeload-401")
    assert [c.status for c in stack.sim.calls if "/tarball/" in c.path] == [302, 302]
    assert [c.status for c in archive_calls(stack.sim)] == [401, 200]
    assert len(stack.sim.tokens()) == 2 and found["annotations"]  # the review's, then one after the 401
    assert not any("/contents/deploy" in c.path for c in stack.sim.calls)


def test_an_archive_on_the_apis_own_origin_gets_the_token(stack: Stack) -> None:
    """GitHub Enterprise Server without subdomain isolation redirects to its own host."""
    stack.sim.archives_on_api_host = True
    _number, found = review(stack, "ghes")
    assert [(c.status, c.authorization) for c in archive_calls(stack.sim)] == [(200, True)]
    assert found["annotations"] and not any("/contents/deploy" in c.path for c in stack.sim.calls)


def test_the_fallback_stays_within_its_read_budget_and_says_what_it_did_not_read(stack: Stack) -> None:
    stack.sim.stop_archive_host()
    files = {f"svc/m{i:03d}.py": f'GPU_MODEL = "H200"  # m{i}\n' for i in range(MAX_SINGLE_READS + 20)}
    number, head = stack.open(files)
    run = stack.last_run(head)
    reads = [c for c in stack.sim.calls if "/contents/" in c.path]
    assert len(reads) == MAX_SINGLE_READS
    assert (run.status, run.conclusion) == ("completed", "failure")
    unread = MAX_SINGLE_READS + 20 - len(run.annotations)
    assert 20 <= unread <= 25  # the manifest's reads come out of the same budget
    summary = stack.summaries(number)[0].body
    assert summary.count("could not be read") == unread


def test_a_401_after_a_server_error_is_still_retried_with_a_new_token(stack: Stack) -> None:
    """The retry that follows a 502 finds the token expired: a 401 on any attempt gets its one renewal."""
    stack.sim.inject("GET", r"/pulls/\d+/files$", status=502)
    stack.sim.inject("GET", r"/pulls/\d+/files$", expire_tokens=True, skip=1)
    _number, found = review(stack, "after-502")
    assert [c.status for c in stack.sim.calls if c.path.endswith("/files")] == [502, 401, 200]
    assert len(stack.sim.tokens()) == 2 and found["annotations"]
