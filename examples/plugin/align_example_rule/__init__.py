"""An example third-party rule. Install with `pip install -e examples/plugin`; `align rules` then lists it."""

from __future__ import annotations

from collections.abc import Iterator

from align.context import ReviewContext
from align.findings import Finding, Severity
from align.rule_api import BaseRule


class TodoGpu(BaseRule):
    """Flags `TODO-GPU` markers on changed lines.

    Why: teams mark GPU-specific shortcuts with it and forget them before a migration.
    Example: `batch = 8  # TODO-GPU tune for GH200`.
    Fix: none offered (the marker needs a human decision).
    """

    id = "todo-gpu"
    default_severity = Severity.NOTICE
    summary = "A TODO-GPU marker left on a changed line."
    fix_safe = False

    def check(self, ctx: ReviewContext) -> Iterator[Finding]:
        for source_file in ctx.files:
            for line in sorted(source_file.changed_lines):
                text = source_file.line_text(line)
                if "TODO-GPU" in text:
                    yield self.finding(source_file, line, "TODO-GPU marker left in the change", evidence=text)
