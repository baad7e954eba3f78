"""What a pull request controls cannot forge Align's state, inject Markdown or HTML, or pass for a command.

The real service under uvicorn against the GitHub simulator; rendered output is checked on a CommonMark
parse (tests/markdown_safety.py)."""

from __future__ import annotations

import json

from tests.helpers import GH200_MANIFEST
from tests.markdown_safety import code_spans, headings, problems

from .stack import Stack

H200 = 'GPU_MODEL = "H200"\n'
WAIVE_ALL = [{"target": "gpu-model-mismatch", "author": "dev", "reason": "forged"}]
FORGED_V1 = "<!-- align:state " + json.dumps({"v": 1, "head": None, "reviewed_head": None,
                                               "waivers": WAIVE_ALL}) + " -->"
FORGED_V2 = "<!-- align:state v2 mac=" + "0" * 64 + " " + json.dumps({"v": 2, "waivers": WAIVE_ALL}) + " -->"
HOSTILE_PATHS = [
    "deploy/a`b``c.py",
    "deploy/<img src=x onerror=alert(1)>.py",
    "deploy/</details> @acme/team #1.py",
    "deploy/new\nline.py",
    "deploy/<!-- hide the rest.py",
    "deploy/[x](javascript:alert(1)) ![p](data:image) *em*.py",
]


def _manifest_named(name: str) -> str:
    return GH200_MANIFEST.replace("name: production", f"name: {json.dumps(name)}")


def _markers(body: str) -> int:
    return body.count("<!--")


def test_forged_state_in_file_names_and_align_yaml_values_grants_no_waiver(stack: Stack) -> None:
    # A real waiver on one pull request, whose signed state a second pull request then copies.
    waived, head = stack.open({"deploy/config.py": H200}, branch="waived")
    stack.sim.add_comment(stack.repo, waived, "dev", "/align ignore gpu-model-mismatch the vendor doc quotes H200")
    stack.settle()
    assert stack.last_run(head).conclusion == "success"
    copied = stack.summaries(waived)[0].body.rstrip().rsplit("\n", 1)[1]
    assert copied.startswith("<!-- align:state v2") and stack.state(waived).waivers

    files = {
        "align.yaml": _manifest_named(f"production {FORGED_V1}"),
        "deploy/config.py": H200,
        f"deploy/{FORGED_V1}.py": H200,
        f"deploy/{FORGED_V2}.py": H200,
        f"deploy/{copied}.py": H200,
    }
    number, first = stack.open(files, branch="forger")
    second = stack.push({"deploy/config.py": 'GPU_MODEL = "H200"  # again\n'}, branch="forger")
    for sha in (first, second):
        run = stack.last_run(sha)
        assert run.conclusion == "failure" and "waived" not in (run.output["title"] or "")
        assert "<!--" not in (run.output["summary"] or "")
    [summary] = stack.summaries(number)
    assert stack.state(number).waivers == ()
    assert _markers(summary.body) == 2  # the summary marker and the one signed state, nothing rendered
    assert stack.state(number).head == second  # the real state is read: it is the service's own
    assert problems(summary.body) == []


def test_hostile_file_names_and_align_yaml_values_are_shown_not_rendered(stack: Stack) -> None:
    name = "prod <img src=x> @acme/team `x` </details>\n# heading"
    files = {path: H200 for path in HOSTILE_PATHS}
    number, head = stack.open({"align.yaml": _manifest_named(name), **files})
    run = stack.last_run(head)
    report = run.output["summary"] or ""
    [summary] = stack.summaries(number)
    assert run.conclusion == "failure"
    for markdown in (report, summary.body, run.output["title"] or ""):
        assert problems(markdown) == []
    assert "<!--" not in report and _markers(summary.body) == 2
    # Every file keeps its own heading, each name shown whole in code, the structure intact.
    assert headings(report, 4) == len(HOSTILE_PATHS) + 1  # and align.yaml (manifest-changed)
    spans = code_spans(report)
    for path in HOSTILE_PATHS:
        assert " ".join(path.split()) in spans
    assert headings(report, 3) == headings(summary.body, 3) >= 4
    inline = stack.inline(number)
    assert {c.path for c in inline} >= set(HOSTILE_PATHS)
    for comment in inline:
        assert problems(comment.body) == [] and _markers(comment.body) == 1
    [review] = stack.sim.reviews(stack.repo, number)
    assert problems(review.body) == []
    for annotation in run.annotations:
        assert "<!--" not in annotation["message"] and "\u202e" not in annotation["message"]

    # A waiver whose reason is hostile is stored as typed and shown as text.
    reason = "<img src=x> @acme/team </details> <!-- align:state {} --> `"
    stack.sim.add_comment(stack.repo, number, "dev", f"/align ignore gpu-model-mismatch {reason}")
    stack.settle()
    [waiver] = stack.state(number).waivers
    assert waiver.reason == reason
    [summary] = stack.summaries(number)
    assert problems(summary.body, mentions=["dev"]) == [] and _markers(summary.body) == 2
    waived = [c for c in stack.inline(number) if "gpu-model-mismatch" in c.body]
    assert len(waived) == len(HOSTILE_PATHS)
    for comment in waived:
        assert "Waived by @dev" in comment.body
        assert problems(comment.body, mentions=["dev"]) == [] and _markers(comment.body) == 1


LOOKALIKES = [
    "/alıgn review",  # dotless i
    "/alİgn review",  # dotted capital I
    "/align\u00a0review",  # no-break space
    "/align\u3000review",  # ideographic space
    "／align review",  # fullwidth solidus
    "∕align review",  # division slash
    "\u200b/align review",  # zero-width space first
    "\u00a0/align review",  # no-break space first
    "/ａlign review",  # fullwidth a
    "see\u2028/align review",  # a line separator GitHub does not break on
]


def test_lookalike_commands_get_no_reply_and_no_action(stack: Stack) -> None:
    number, head = stack.open({"deploy/config.py": H200})
    comments = [stack.sim.add_comment(stack.repo, number, "dev", text) for text in LOOKALIKES]
    stack.settle()
    assert stack.replies(number) == []
    assert all(stack.sim.reactions(comment) == [] for comment in comments)
    assert len(stack.runs(head)) == 1
    real = stack.sim.add_comment(stack.repo, number, "dev", "thanks!\n\t /ALIGN review")  # ASCII case is fine
    stack.settle()
    assert [r.content for r in stack.sim.reactions(real)] == ["eyes"] and len(stack.runs(head)) == 2


def test_replies_never_echo_command_text_unescaped(stack: Stack) -> None:
    number, _ = stack.open({"deploy/config.py": H200})
    stack.sim.set_permission(stack.repo, "reader", "read")
    hostile = "<img src=x> @acme/team </details> `x` <!-- align:summary -->"
    for text in (f"/align explain {hostile}", f"/align {hostile}", f"/align ignore {hostile}",
                 f"/align ignore 0123456789abcdef {hostile}"):
        stack.sim.add_comment(stack.repo, number, "reader", text)
    stack.settle()
    replies = stack.replies(number)
    assert len(replies) == 4
    for reply in replies:
        assert problems(reply.body, mentions=["reader"]) == [] and _markers(reply.body) == 1
        assert "<!-- align:summary -->" not in reply.body
    assert len(stack.summaries(number)) == 1  # no reply passes for a summary (it would be deleted as one)
