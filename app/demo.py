"""`align demo`: the whole loop on this machine, with no GitHub account.

A local GitHub simulator is seeded with the example repository (production on 3 × GH200) and a pull
request written for H200; the real service runs on a free port with the embedded queue and receives the
signed webhook; then this prints what a reviewer would see on GitHub.
"""

from __future__ import annotations

import re
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

from pydantic import SecretStr

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "lambda-gh200"
REPO = "lambda-labs/inference"
BRANCH = "enhanced-infrastructure"
_HIDDEN = re.compile(r"\n*<!-- align:[^>]*-->\n*")

# Used when the package is installed without the examples folder.
_TINY_BASE = {
    "align.yaml": "version: 1\ndeployments:\n  - name: production\n    gpu: GH200\n    count: 3\n"
                  "    price_per_gpu_hour: 1.49\n    provider: lambda\n",
    "README.md": "# Inference\n\nRuns on 3 × GH200 (96 GB each).\n",
}
_TINY_HEAD = {
    "deploy/config.py": 'GPU_MODEL = "H200"\nGPU_MEMORY_GB = 141\nPRICE_PER_GPU_HOUR = 2.49\n',
}


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _example() -> tuple[dict[str, Any], dict[str, Any]]:
    if (EXAMPLE / "base").is_dir() and (EXAMPLE / "head").is_dir():
        return _tree(EXAMPLE / "base"), _tree(EXAMPLE / "head")
    return dict(_TINY_BASE), dict(_TINY_HEAD)




def _visible(body: str) -> str:
    """A comment as GitHub renders it: hidden markers removed."""
    return _HIDDEN.sub("\n", body).strip()


def _rule(title: str, out: TextIO) -> None:
    print(f"\n{'=' * 100}\n{title}\n{'=' * 100}", file=out)


def run_demo(out: TextIO | None = None, *, timeout: float = 60.0) -> int:
    """0 when the check run completed (whatever its conclusion), 1 when the loop did not finish."""
    from align.service.app import create_app
    from align.service.github_client import GitHubGateway
    from align.service.server import BackgroundServer
    from align.service.settings import Settings
    from align.simulator import Simulator
    from align.simulator.auth import generate_app_key_pair

    out = out or sys.stdout
    base, head = _example()
    private, public = generate_app_key_pair()
    secret = secrets.token_hex(16)
    data_dir = Path(tempfile.mkdtemp(prefix="align-demo-"))
    simulator = Simulator()
    api_url = simulator.start()
    server: BackgroundServer | None = None
    try:
        simulator.register_app(1, public, "align")
        installation = simulator.create_installation(REPO.split("/")[0])
        simulator.create_repo(REPO, base, installation)
        simulator.commit(REPO, BRANCH, head, "Infrastructure enhancement for H200 nodes", author="dev")
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, app_id=1, app_slug="align", private_key=SecretStr(private),
            webhook_secret=SecretStr(secret),
            github_api_url=api_url, seconds_between_requests=0, seconds_between_writes=0,
            data_dir=data_dir,  # the demo's jobs are its own, never resumed by a real `align serve`
        )
        app = create_app(settings, github=GitHubGateway(settings))
        server = BackgroundServer(app).start()
        simulator.configure_webhook(f"{server.url}/api/github/webhooks", secret)
        print(f"GitHub simulator at {api_url}; Align service at {server.url}", file=out)
        number = simulator.open_pull(REPO, BRANCH, title="Infrastructure enhancement (PR #136)", user="dev")
        print(f"Opened pull request {REPO}#{number}; waiting for the Align check run…", file=out)

        deadline = time.monotonic() + timeout
        sha = simulator.pull(REPO, number).head_sha
        while app.state.queue.busy() or not any(r.status == "completed" for r in simulator.check_runs(REPO, sha)):
            if time.monotonic() > deadline:
                print("The check run did not complete in time.", file=out)
                return 1
            time.sleep(0.05)
        _show(simulator, number, sha, out)
        return 0
    finally:
        if server is not None:
            server.stop()
        simulator.stop()


def _show(simulator: Any, number: int, sha: str, out: TextIO) -> None:
    run = simulator.check_runs(REPO, sha, "Align")[-1]
    summary = [c for c in simulator.issue_comments(REPO, number) if "<!-- align:summary -->" in c.body]
    _rule(f"Check run “Align” on {sha[:7]}: {run.conclusion.upper()} — {run.output.get('title')}", out)
    same = summary and _visible(summary[-1].body).strip() == (run.output.get("summary") or "").strip()
    print(f"{len(run.annotations)} annotations on the Files changed tab; its summary is "
          + ("the report below (the same text as the summary comment)." if same else "this report:"), file=out)
    if not same:
        print(run.output.get("summary") or "", file=out)

    comments = simulator.review_comments(REPO, number)
    _rule(f"Review: {len(comments)} inline comments", out)
    for comment in comments:
        where = f"{comment.path}:{comment.start_line}-{comment.line}" if comment.start_line else \
            f"{comment.path}:{comment.line}"
        print(f"\n--- {where}\n{_visible(comment.body)}", file=out)

    _rule("Summary comment on the pull request", out)
    print(_visible(summary[-1].body) if summary else "(none)", file=out)
    _rule("Next", out)
    print(NEXT_STEPS, file=out)


NEXT_STEPS = """\
- On your repository: `align init` proposes an align.yaml from its infrastructure files
  (`align init --write` writes it), then `align check` reviews your branch like this pull request.
- In CI: the GitHub Action (`uses: align-bot/align@v0` in a pull_request workflow) annotates pull requests;
  as a pre-commit hook: `id: align` from this repository's .pre-commit-hooks.yaml.
- As a GitHub App for every pull request: see "Registering the GitHub App" in the README."""
