"""`/align` commands in pull request comments: parsing, who may run them, and the answers.

`/align review` and `/align ignore` change what the bot reports, so they need write, maintain or admin
permission on the repository; `explain` and `help` only answer. Accepted commands get a reaction,
refused ones a reply that says why.

A command is ASCII: a line that starts (after spaces or tabs) with `/align`, then the end of the line or
a space or tab, then an ASCII verb. Lookalikes (`/alıgn`, `/alİgn`, `/align` + a no-break space, a
fullwidth slash) are not commands: no reply, no action. Letter case is ASCII-only (`/ALIGN Review`
works). What a reply quotes from the comment goes through align.report.untrusted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from align.findings import Waiver
from align.report.untrusted import code, mention
from align.rule_api import LoadedRules, Rule
from align.service.markers import SUMMARY_MARKER, StateSeal, SummaryState, reply_marker, report_part

if TYPE_CHECKING:
    from align.service.jobs import Job
    from align.service.worker import WorkerDeps

CommandName = Literal["review", "ignore", "explain", "help", "unknown"]
WRITERS = frozenset({"admin", "maintain", "write"})
# re.ASCII: `\s` is a space, tab or the like only, and IGNORECASE folds ASCII letters only (without it
# Python's re matches "ı" and "İ" for "i", and a no-break space for `\s`).
_COMMAND = re.compile(r"/align(?:[ \t]+(?P<rest>.*))?", re.IGNORECASE | re.ASCII)
_BLANK = " \t"
_FINGERPRINT = re.compile(r"^[0-9a-f]{16}$")
# A waiver's reason is kept in the summary comment's state, which shares the comment's 65,535 characters
# with the report: a few sentences, not a page.
MAX_REASON = 500


@dataclass(frozen=True)
class Command:
    name: CommandName
    target: str | None = None  # ignore: fingerprint or rule id; explain: rule id; unknown: the word used
    reason: str | None = None
    text: str = ""


def find_command_line(body: str) -> str | None:
    """The first line that is an `/align` command, outside quotes and code blocks."""
    in_code = False
    for raw in body.split("\n"):  # not splitlines(): a line is what GitHub shows as one (\n, \r\n)
        line = raw.strip(_BLANK + "\r")
        if line.startswith(("```", "~~~")):
            in_code = not in_code
            continue
        if in_code or line.startswith(">"):
            continue
        if _COMMAND.fullmatch(line):
            return line
    return None


def parse_command(line: str) -> Command:
    match = _COMMAND.fullmatch(line.strip(_BLANK + "\r\n"))
    if match is None:
        return Command("unknown", text=line)
    words = re.split(r"[ \t]+", (match.group("rest") or "").strip(_BLANK), maxsplit=2)
    words = [word for word in words if word]
    if not words:
        return Command("help", text=line)
    if not words[0].isascii():
        return Command("unknown", words[0], text=line)
    verb = words[0].lower()
    if verb in ("review", "help"):
        return Command(verb, text=line)  # type: ignore[arg-type]
    if verb == "explain":
        return Command("explain", words[1] if len(words) > 1 else None, text=line)
    if verb == "ignore":
        target = words[1] if len(words) > 1 else None
        reason = words[2].strip(_BLANK) if len(words) > 2 else None
        return Command("ignore", target, reason or None, text=line)
    return Command("unknown", verb, text=line)


def ignore_problem(command: Command, rule_ids: Sequence[str]) -> str | None:
    """Why an `/align ignore` cannot be accepted, or None."""
    if not command.target:
        return "it needs a finding fingerprint or a rule id: `/align ignore <fingerprint-or-rule> <reason>`."
    if command.target not in rule_ids and not _FINGERPRINT.match(command.target):
        return (f"{code(command.target, 100)} is neither a rule id nor a finding fingerprint. Rule ids: "
                + ", ".join(code(r) for r in rule_ids) + ".")
    if not command.reason:
        return "a waiver needs a reason, so reviewers can see why: `/align ignore <fingerprint-or-rule> <reason>`."
    if len(command.reason) > MAX_REASON:
        return f"a waiver's reason is at most {MAX_REASON} characters; this one has {len(command.reason):,}."
    return None


def help_text(rule_ids: Sequence[str]) -> str:
    return (
        "**Align commands** (in a pull request comment):\n\n"
        "- `/align review`: review the pull request again now (write permission).\n"
        "- `/align ignore <fingerprint-or-rule> <reason>`: waive a finding, or a whole rule, for this pull "
        "request; the waiver and its reason are shown in the report (write permission).\n"
        "- `/align explain <rule>`: what a rule checks and why.\n"
        "- `/align help`: this message.\n\n"
        "Rules: " + ", ".join(code(r) for r in rule_ids) + "."
    )


def explain_text(rule: Rule) -> str:
    doc = rule.doc() if hasattr(rule, "doc") else (type(rule).__doc__ or rule.summary)
    return f"### `{rule.id}` ({rule.default_severity.value} by default)\n\n{rule.summary}\n\n{doc}".strip()


ReviewRunner = Callable[["Job", "WorkerDeps", Sequence[Waiver]], object]


def handle_command(job: Job, deps: WorkerDeps, run_review: ReviewRunner) -> str:
    """Answer one command; returns an outcome label for metrics and logs."""
    command = parse_command(job.command_text or "")
    client = deps.gateway.repo(job.installation_id, job.repository)
    number = int(job.pull_number or 0)
    rules: LoadedRules = deps.loaded_rules()
    rule_ids = [r.id for r in rules.rules]

    def reply(kind: str, text: str) -> None:
        quoted = f"> {code(command.text, 200)}\n\n" if command.text else ""
        to = f"{mention(job.author)} " if job.author else ""
        marker = reply_marker(job.comment_id, kind)
        client.create_issue_comment(number, f"{quoted}{to}{text}\n\n{marker}", marker)

    if command.name == "help":
        reply("help", help_text(rule_ids))
        return "help"
    if command.name == "unknown":
        reply("unknown", f"I don't know the command {code(command.target or command.text, 100)}.\n\n"
              f"{help_text(rule_ids)}")
        return "unknown"
    if command.name == "explain":
        rule = next((r for r in rules.rules if r.id == command.target), None)
        if rule is None:
            named = code(command.target, 100) if command.target else "no rule"
            reply("refused", f"I can't explain {named}: it is not a rule I know. Rules: "
                  + ", ".join(code(r) for r in rule_ids) + ".")
            return "refused"
        reply("explain", explain_text(rule))
        return "explain"

    permission = client.permission(job.author or "")
    if permission not in WRITERS:
        reply("refused", f"`/align {command.name}` needs write, maintain or admin permission on this repository; "
              f"yours is {code(permission, 40)}.")
        return "refused"

    if command.name == "review":
        if job.comment_id:
            client.add_reaction(job.comment_id, "eyes")
        run_review(job, deps, ())
        return "review"

    problem = ignore_problem(command, rule_ids)
    if problem is not None:
        reply("refused", f"I can't record this waiver: {problem}")
        return "refused"
    waiver = Waiver(str(command.target), job.author or "unknown", str(command.reason))
    _persist_waiver(job, deps, waiver)
    if job.comment_id:
        client.add_reaction(job.comment_id, "+1")
    run_review(job, deps, (waiver,))
    return "ignore"


def _persist_waiver(job: Job, deps: WorkerDeps, waiver: Waiver) -> None:
    """Store the waiver at once in the summary comment's state, so a failing review does not lose it."""
    from align.service.publisher import find_summaries, summary_body

    client = deps.gateway.repo(job.installation_id, job.repository)
    number = int(job.pull_number or 0)
    seal = StateSeal.for_pull(deps.settings.state_key, job.repository, number)
    existing = find_summaries(client.list_issue_comments(number), deps.gateway.bot_login())
    if existing:
        body = str(existing[0].get("body") or "")
        state = SummaryState.decode(body, seal).with_waiver(waiver)
        client.edit_issue_comment(int(existing[0]["id"]), summary_body(report_part(body), state, seal))
    else:
        state = SummaryState().with_waiver(waiver)
        client.create_issue_comment(number, summary_body("Align recorded a waiver; the report follows.", state,
                                                         seal), SUMMARY_MARKER)
