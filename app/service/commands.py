"""`/align` commands in pull request comments: parsing, who may run them, and the answers.

`/align review` and `/align ignore` change what the bot reports, so they need write, maintain or admin
permission on the repository; `explain` and `help` only answer. Accepted commands get a reaction,
refused ones a reply that says why.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from app.findings import Waiver
from app.rule_api import LoadedRules, Rule
from app.service.markers import SUMMARY_MARKER, SummaryState, reply_marker

if TYPE_CHECKING:
    from app.service.jobs import Job
    from app.service.worker import WorkerDeps

CommandName = Literal["review", "ignore", "explain", "help", "unknown"]
WRITERS = frozenset({"admin", "maintain", "write"})
_COMMAND = re.compile(r"^/align(?:\s+(?P<rest>.*))?$", re.IGNORECASE)
_FINGERPRINT = re.compile(r"^[0-9a-f]{16}$")


@dataclass(frozen=True)
class Command:
    name: CommandName
    target: str | None = None  # ignore: fingerprint or rule id; explain: rule id; unknown: the word used
    reason: str | None = None
    text: str = ""


def find_command_line(body: str) -> str | None:
    """The first line that is an `/align` command, outside quotes and code blocks."""
    in_code = False
    for raw in body.splitlines():
        line = raw.strip()
        if line.startswith(("```", "~~~")):
            in_code = not in_code
            continue
        if in_code or line.startswith(">"):
            continue
        if _COMMAND.match(line):
            return line
    return None


def parse_command(line: str) -> Command:
    match = _COMMAND.match(line.strip())
    if match is None:
        return Command("unknown", text=line)
    words = (match.group("rest") or "").split(maxsplit=2)
    if not words:
        return Command("help", text=line)
    verb = words[0].lower()
    if verb in ("review", "help"):
        return Command(verb, text=line)  # type: ignore[arg-type]
    if verb == "explain":
        return Command("explain", words[1] if len(words) > 1 else None, text=line)
    if verb == "ignore":
        target = words[1] if len(words) > 1 else None
        reason = words[2].strip() if len(words) > 2 else None
        return Command("ignore", target, reason or None, text=line)
    return Command("unknown", verb, text=line)


def ignore_problem(command: Command, rule_ids: Sequence[str]) -> str | None:
    """Why an `/align ignore` cannot be accepted, or None."""
    if not command.target:
        return "it needs a finding fingerprint or a rule id: `/align ignore <fingerprint-or-rule> <reason>`."
    if command.target not in rule_ids and not _FINGERPRINT.match(command.target):
        return (f"`{command.target}` is neither a rule id nor a finding fingerprint. Rule ids: "
                + ", ".join(f"`{r}`" for r in rule_ids) + ".")
    if not command.reason:
        return "a waiver needs a reason, so reviewers can see why: `/align ignore <fingerprint-or-rule> <reason>`."
    return None


def help_text(rule_ids: Sequence[str]) -> str:
    return (
        "**Align commands** (in a pull request comment):\n\n"
        "- `/align review`: review the pull request again now (write permission).\n"
        "- `/align ignore <fingerprint-or-rule> <reason>`: waive a finding, or a whole rule, for this pull "
        "request; the waiver and its reason are shown in the report (write permission).\n"
        "- `/align explain <rule>`: what a rule checks and why.\n"
        "- `/align help`: this message.\n\n"
        "Rules: " + ", ".join(f"`{r}`" for r in rule_ids) + "."
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
        quoted = f"> {command.text}\n\n" if command.text else ""
        mention = f"@{job.author} " if job.author else ""
        marker = reply_marker(job.comment_id, kind)
        client.create_issue_comment(number, f"{quoted}{mention}{text}\n\n{marker}", marker)

    if command.name == "help":
        reply("help", help_text(rule_ids))
        return "help"
    if command.name == "unknown":
        reply("unknown", f"I don't know the command `{command.target or command.text}`.\n\n{help_text(rule_ids)}")
        return "unknown"
    if command.name == "explain":
        rule = next((r for r in rules.rules if r.id == command.target), None)
        if rule is None:
            named = f"`{command.target}`" if command.target else "no rule"
            reply("refused", f"I can't explain {named}: it is not a rule I know. Rules: "
                  + ", ".join(f"`{r}`" for r in rule_ids) + ".")
            return "refused"
        reply("explain", explain_text(rule))
        return "explain"

    permission = client.permission(job.author or "")
    if permission not in WRITERS:
        reply("refused", f"`/align {command.name}` needs write, maintain or admin permission on this repository; "
              f"yours is `{permission}`.")
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
    from app.service.publisher import find_summaries, summary_body

    client = deps.gateway.repo(job.installation_id, job.repository)
    number = int(job.pull_number or 0)
    existing = find_summaries(client.list_issue_comments(number), deps.gateway.bot_login())
    if existing:
        body = str(existing[0].get("body") or "")
        state = SummaryState.decode(body).with_waiver(waiver)
        report = body.split(SUMMARY_MARKER, 1)[0].rstrip()
        client.edit_issue_comment(int(existing[0]["id"]), summary_body(report, state))
    else:
        state = SummaryState().with_waiver(waiver)
        client.create_issue_comment(number, summary_body("Align recorded a waiver; the report follows.", state),
                                    SUMMARY_MARKER)
