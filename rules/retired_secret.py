"""retired-secret: a changed line that uses a secret the deployment lists in `retired_secrets`."""

from __future__ import annotations

import re
from collections.abc import Iterator

from align.context import ReviewContext
from align.findings import Finding, Severity
from align.rule_api import BaseRule
from align.rules._lines import changed_containing
from align.rules._text import LineKinds, is_manifest_path, kinds_of, token_spans

# Prose that documents a secret's removal rather than using it ("Removes legacy secrets (LAMBDA_API_KEY)").
_RETIREMENT = re.compile(
    r"\b(?:remov\w*|retir\w*|deprecat\w*|legacy|delet\w*|drop\w*|revok\w*|rotat\w*|no\s+longer|replac\w*"
    r"|clean\w*\s+up|unused|obsolete|old|former\w*|instead\s+of|migrat\w*|do\s+not|don't|never)\b",
    re.IGNORECASE,
)


class RetiredSecret(BaseRule):
    """Catches a changed line that uses a secret the deployment lists in `retired_secrets`: an environment
    variable reference, `${{ secrets.X }}`, `os.environ["X"]`, `process.env.X`, `X=` in a `.env` file,
    a Kubernetes `secretKeyRef` name or key.

    Why it matters: a retired credential has been revoked (or should have been); code that still reads it
    fails at run time, or worse, keeps a leaked key alive.

    Example: `return os.environ["LAMBDA_API_KEY"]` where `retired_secrets: [LAMBDA_API_KEY]`.

    The name must be a whole token (`LAMBDA_API_KEY_V2` is another secret), and prose or comments that
    document the removal ("Removes legacy secrets (LAMBDA_API_KEY)") are left alone.

    Fix: none offered: which secret replaces it is a human decision.
    """

    id = "retired-secret"
    default_severity = Severity.ERROR
    summary = "A changed line uses a secret listed in the deployment's retired_secrets."
    fix_safe = False
    file_local = True  # a file's findings depend on that file and the manifest alone

    def check(self, ctx: ReviewContext) -> Iterator[Finding]:
        for source_file, deployment in ctx.files_with_deployment():
            if not deployment.retired_secrets or is_manifest_path(ctx, source_file.path):
                continue
            kinds: LineKinds | None = None
            # A line that uses a secret contains its name.
            for line in changed_containing(source_file, tuple(deployment.retired_secrets)):
                text = source_file.line_text(line)
                for secret in deployment.retired_secrets:
                    spans = token_spans(text, secret)
                    if not spans:
                        continue
                    kinds = kinds or kinds_of(source_file)
                    used = [s for s, _ in spans if not (kinds.is_prose(line, s, text) and _RETIREMENT.search(text))]
                    if used:
                        yield self.finding(
                            source_file,
                            line,
                            f"`{secret}` is a retired secret of deployment `{deployment.name}`; "
                            "use its replacement instead.",
                            evidence=text,
                            deployment=deployment,
                            component="Secret",
                            stated=secret,
                            expected="(retired)",
                        )
                        break  # one finding per line
