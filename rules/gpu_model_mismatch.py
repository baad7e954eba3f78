"""gpu-model-mismatch: a changed line names a GPU other than the deployment's."""

from __future__ import annotations

from collections.abc import Iterator

from app.catalog import GpuMention
from app.context import ReviewContext, SourceFile
from app.findings import Finding, Severity
from app.manifest import Deployment
from app.rule_api import BaseRule
from rules._text import (
    COMPARISON,
    LineKinds,
    apply_edits,
    equivalent_spelling,
    inside_file_name,
    is_manifest_path,
    markdown_table_block,
    mentions_of,
)

_KIND_WORDS = {
    "name": "names",
    "product_label": "selects the GPU product label of",
    "node_label": "selects the node label of",
    "instance_type": "uses an instance type that implies",
}


class GpuModelMismatch(BaseRule):
    """Catches a changed line that names a GPU other than the one the deployment runs: a model name or
    alias ("H200"), an `nvidia.com/gpu.product` value (`NVIDIA-H200`), a GKE or Karpenter node label
    (`nvidia-h200-141gb`), or a cloud instance type that implies a GPU (`p5e.48xlarge`).

    Why it matters: code written for the wrong GPU schedules on nodes that do not exist, sizes memory
    for the wrong card and prices the wrong hardware.

    Example: `accelerators: H200:8` where align.yaml says `gpu: GH200` → suggests `accelerators: GH200:8`.

    Prose that compares GPUs on purpose ("upgrade from A10 to GH200", "H200 vs GH200", "previously ran on
    A100") is left alone; code and config values always count.

    Fix: safe. The suggestion swaps each wrong mention for the deployment's GPU spelled the same way (a
    name for a name, a product label for a product label, the deployment's instance type for an instance
    type of the same provider), token-bounded, so an existing GH200 is never touched. No suggestion when
    the deployment has no equivalent or the mention is part of a file name.
    """

    id = "gpu-model-mismatch"
    default_severity = Severity.ERROR
    summary = "A changed line names a GPU other than the deployment's."
    fix_safe = True

    def check(self, ctx: ReviewContext) -> Iterator[Finding]:
        for source_file, deployment in ctx.files_with_deployment():
            if is_manifest_path(ctx, source_file.path) or not source_file.changed_lines:
                continue
            kinds = LineKinds(source_file)
            for line in sorted(source_file.changed_lines):
                finding = self._check_line(ctx, source_file, kinds, line, deployment)
                if finding is not None:
                    yield finding

    def _check_line(
        self, ctx: ReviewContext, source_file: SourceFile, kinds: LineKinds, line: int, deployment: Deployment
    ) -> Finding | None:
        text = source_file.line_text(line)
        mentions = mentions_of(ctx, text)
        wrong = [m for m in mentions if not m.gpu.same_model(deployment.gpu)]
        if not wrong:
            return None
        right = [m for m in mentions if m.gpu.same_model(deployment.gpu)]
        flagged = [m for m in wrong if self._claims(ctx, source_file, kinds, line, text, m, right, deployment)]
        if not flagged:
            return None
        edits = []
        for mention in flagged:
            replacement = equivalent_spelling(mention, deployment)
            if replacement is None or inside_file_name(text, mention.start, mention.end):
                edits = []
                break
            edits.append((mention.start, mention.end, replacement))
        suggestion = apply_edits(text, edits) if edits else None
        first = flagged[0]
        stated = ", ".join(dict.fromkeys(m.text for m in flagged))
        return self.finding(
            source_file,
            line,
            f"`{first.text}` {_KIND_WORDS[first.kind]} {first.gpu.name}, but deployment `{deployment.name}` "
            f"runs {deployment.gpu.name}.",
            evidence=text,
            deployment=deployment,
            suggestion=suggestion,
            component="GPU model",
            stated=stated,
            expected=deployment.gpu.name,
        )

    @staticmethod
    def _claims(
        ctx: ReviewContext,
        source_file: SourceFile,
        kinds: LineKinds,
        line: int,
        text: str,
        mention: GpuMention,
        right: list[GpuMention],
        deployment: Deployment,
    ) -> bool:
        """True when the mention states what the code runs on, rather than comparing GPUs on purpose."""
        if kinds.is_prose(line, mention.start, text):
            if right or COMPARISON.search(text):
                return False
            # A comparison table lists the deployment's GPU in some other row.
            table = markdown_table_block(source_file.lines, line)
            return not any(
                m.gpu.same_model(deployment.gpu) for row in table for m in mentions_of(ctx, source_file.line_text(row))
            )
        # A list or lookup table in code that also holds the deployment's GPU is a catalog, not a claim.
        return not any(not kinds.is_prose(line, m.start, text) for m in right)
