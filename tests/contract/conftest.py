"""Fixtures for the contract tests: the pinned npm tools, the simulator, and Prism validating traffic to it
against GitHub's own OpenAPI description."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from align.simulator import Simulator
from align.simulator.auth import generate_app_key_pair

CONTRACT_DIR = Path(__file__).resolve().parent
MODULES = CONTRACT_DIR / "node_modules"
SPEC = MODULES / "@octokit/openapi/generated/api.github.com.json"
EXAMPLES = MODULES / "@octokit/webhooks-examples/api.github.com/index.json"
PRISM = MODULES / ".bin/prism"
PRISM_START_TIMEOUT = 180.0  # loading the 13 MB description takes 6-45 s depending on the machine

APP_ID = 31337
OWNER = "octo-org"
REPO = f"{OWNER}/gpu-service"


def _unavailable(reason: str) -> None:
    """Skip on a developer machine without the tools; in CI (CI=true) a missing tool is a failure."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def npm_contract_dir() -> Path:
    """tests/contract with node_modules installed from package-lock.json (`npm ci` when missing)."""
    if not (PRISM.exists() and SPEC.exists() and EXAMPLES.exists()):
        npm = shutil.which("npm")
        if npm is None:
            _unavailable("npm is not installed: the contract tests need Prism and GitHub's OpenAPI description")
        else:
            result = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
                cwd=CONTRACT_DIR, capture_output=True, text=True, timeout=900, check=False,
            )
            if result.returncode != 0:
                _unavailable(f"npm ci failed in {CONTRACT_DIR}: {result.stderr[-2000:]}")
    return CONTRACT_DIR


@pytest.fixture(scope="session")
def webhook_examples(npm_contract_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """@octokit/webhooks-examples: event name -> example payloads."""
    events = json.loads(EXAMPLES.read_text())
    return {event["name"]: event["examples"] for event in events}


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 -> JSON Schema: `nullable: true` becomes an explicit null alternative."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _json_schema(value) for key, value in node.items()}
    if not out.pop("nullable", False):
        return out
    if "type" in out and isinstance(out["type"], str):
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        return out
    return {"anyOf": [{"type": "null"}, out]}


@pytest.fixture(scope="session")
def webhook_validator(npm_contract_dir: Path) -> Callable[[str], Draft202012Validator]:
    """GitHub's own JSON schema for a webhook ("pull-request-opened"...) from the OpenAPI `x-webhooks`."""
    spec = json.loads(SPEC.read_text())
    root = _json_schema({"components": spec["components"], "x-webhooks": spec["x-webhooks"]})

    def validator(name: str) -> Draft202012Validator:
        if name not in root["x-webhooks"]:
            raise KeyError(f"GitHub's description has no webhook {name!r}")
        pointer = f"#/x-webhooks/{name}/post/requestBody/content/application~1json/schema"
        return Draft202012Validator({**root, "$ref": pointer})

    return validator


@dataclass
class ContractWorld:
    """The simulator seeded with one installed repository and an open pull request."""

    sim: Simulator
    private_key: str
    installation: int
    repo: str
    number: int
    base_sha: str
    head_sha: str
    files: dict[str, str] = field(default_factory=dict)




@pytest.fixture(scope="session")
def simulator() -> Iterator[ContractWorld]:
    private, public = generate_app_key_pair()
    sim = Simulator()
    sim.start()
    sim.register_app(APP_ID, public, "align")
    installation = sim.create_installation(OWNER)
    service = "".join(f"setting_{i} = {i}\n" for i in range(1, 61))
    base = sim.create_repo(REPO, {"align.yaml": "version: 1\n", "README.md": "# GPU service\n",
                                  "deploy/service.py": service}, installation)
    changed = service.replace("setting_30 = 30\n", 'GPU_MODEL = "H200"\n')
    files = {"deploy/service.py": changed, **{f"docs/page{i:02d}.md": f"page {i}\n" for i in range(35)}}
    head = sim.commit(REPO, "feature", files, "Use H200")
    number = sim.open_pull(REPO, "feature", title="Use H200", user="dev")
    sim.set_permission(REPO, "dev", "maintain")
    try:
        yield ContractWorld(sim, private, installation, REPO, number, base, head, files)
    finally:
        sim.stop()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class PrismProxy:
    """A running `prism proxy --errors` in front of the simulator, and what it logged."""

    url: str
    log: Path
    process: subprocess.Popen[bytes]

    def mark(self) -> int:
        return self.log.stat().st_size

    def violations(self, since: int = 0) -> list[str]:
        """Validation problems Prism reported (errors and warnings, requests and responses) after `since`."""
        self._settle()
        with self.log.open("rb") as handle:
            handle.seek(since)
            text = handle.read().decode(errors="replace")
        return [line.strip() for line in text.splitlines()
                if "Violation" in line or "Request terminated with error" in line]


    def _settle(self) -> None:
        """Send a sentinel request; once Prism has logged it, everything before it is in the log too."""
        sentinel = uuid.uuid4().hex
        httpx.get(f"{self.url}/rate_limit", params={"sentinel": sentinel}, timeout=30)
        deadline = time.monotonic() + 30
        while sentinel not in self.log.read_text(errors="replace"):
            if time.monotonic() > deadline:
                pytest.fail("Prism never logged the sentinel request")
            time.sleep(0.05)


@pytest.fixture(scope="session")
def prism_proxy(simulator: ContractWorld, npm_contract_dir: Path,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrismProxy]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("prism") / "prism.log"
    command = [str(PRISM), "proxy", "--errors", str(SPEC), simulator.sim.server_url, "--host", "127.0.0.1",
               "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=npm_contract_dir, stdout=out, stderr=subprocess.STDOUT)
    # PyGithub only follows URLs on the host and port it was given: the simulator must advertise Prism's.
    simulator.sim.public_url = url
    try:
        deadline = time.monotonic() + PRISM_START_TIMEOUT
        while not _listening(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Prism did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.25)
        yield PrismProxy(url, log, process)
    finally:
        simulator.sim.public_url = None
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
