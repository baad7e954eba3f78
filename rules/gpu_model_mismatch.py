"""gpu-model-mismatch: a changed line names a GPU other than the deployment's."""

from __future__ import annotations

from collections.abc import Iterator

from align.catalog import GpuMention
from align.context import ReviewContext, SourceFile
from align.findings import Finding, Severity
from align.manifest import Deployment
from align.rule_api import BaseRule
from align.rules._lines import changed_mention_lines
from align.rules._text import (
    LineKinds,
    apply_edits,
    claimed_gpus,
    equivalent_spelling,
    inside_file_name,
    kinds_of,
    mention_kind,
    reviewed_files,
)


def describe_mention(mention: GpuMention) -> str:
    """"Product label `NVIDIA-H200` selects H200", "Names H200 (`h200`)": what the text claims, as written."""
    gpu = mention.gpu.name
    kind = mention_kind(mention)
    if kind == "product_label":
        return f"Product label `{mention.text}` selects {gpu}"
    if kind == "node_label":
        return f"Node label `{mention.text}` selects {gpu}"
    if kind == "instance_type":
        return f"Instance type `{mention.text}` implies {gpu}"
    return f"Names {gpu}" if mention.text == gpu else f"Names {gpu} (`{mention.text}`)"


class GpuModelMismatch(BaseRule):
    """Catches a changed line that names a GPU other than the one the deployment runs: a model name or
    alias ("H200"), an `nvidia.com/gpu.product` value (`NVIDIA-H200`), a GKE or Karpenter node label
    (`nvidia-h200-141gb`), or a cloud instance type that implies a GPU (`p5e.48xlarge`).

    Why it matters: code written for the wrong GPU schedules on nodes that do not exist, sizes memory
    for the wrong card and prices the wrong hardware.

    Example: `accelerators: H200:8` where align.yaml says `gpu: GH200` → suggests `accelerators: GH200:8`.

    Prose that compares GPUs on purpose ("upgrade from A10 to GH200", "H200 vs GH200", "previously ran on
    A100", a table that also lists the deployment's GPU) is left alone, and so are links and code lists
    that also hold the deployment's GPU; other code and config values always count.

    Fix: safe. The suggestion swaps each wrong mention for the deployment's GPU spelled the same way (a
    name for a name, a product label for a product label, the deployment's instance type for an instance
    type of the same provider), token-bounded, so an existing GH200 is never touched. No suggestion when
    the deployment has no equivalent, the line names several other models, or the mention is part of a
    file name.
    """

    id = "gpu-model-mismatch"
    default_severity = Severity.ERROR
    summary = "A changed line names a GPU other than the deployment's."
    fix_safe = True
    file_local = True  # a file's findings depend on that file and the manifest alone

    def check(self, ctx: ReviewContext) -> Iterator[Finding]:
        for source_file, deployment in reviewed_files(ctx):
            kinds = kinds_of(source_file)
            for line in changed_mention_lines(ctx, source_file):  # only a line that names a GPU claims one
                finding = self._check_line(ctx, source_file, kinds, line, deployment)
                if finding is not None:
                    yield finding

    def _check_line(
        self, ctx: ReviewContext, source_file: SourceFile, kinds: LineKinds, line: int, deployment: Deployment
    ) -> Finding | None:
        flagged = claimed_gpus(ctx, source_file, kinds, line, deployment.gpu)
        if not flagged:
            return None
        text = source_file.line_text(line)
        edits: list[tuple[int, int, str]] = []
        # Several different models on one line ("H100 or A100") have no single right replacement.
        if len({m.gpu.name for m in flagged}) == 1:
            for mention in flagged:
                replacement = equivalent_spelling(mention, deployment)
                if replacement is None or inside_file_name(text, mention.start, mention.end):
                    edits = []
                    break
                edits.append((mention.start, mention.end, replacement))
        suggestion = apply_edits(text, edits) if edits else None
        first = flagged[0]
        stated = ", ".join(dict.fromkeys(m.text for m in flagged))
        claim = describe_mention(first)
        others = list(dict.fromkeys(m.gpu.name for m in flagged if m.gpu.name != first.gpu.name))
        if others:
            claim += " (and " + ", ".join(others) + ")"
        return self.finding(
            source_file,
            line,
            f"{claim}, but deployment `{deployment.name}` runs {deployment.gpu.name}.",
            evidence=text,
            deployment=deployment,
            suggestion=suggestion,
            component="GPU model",
            stated=stated,
            expected=deployment.gpu.name,
        )
