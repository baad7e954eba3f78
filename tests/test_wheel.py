"""The built wheel, installed into a fresh virtual environment next to a project that has its own `app` and
`rules` packages: the import name cannot collide, the engine and the CLI need nothing of the server, and
the server's commands say what to install."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from align import __version__
from tests.gitrepo import commit_tree, git, init_repo

ROOT = Path(__file__).resolve().parents[1]
SERVER_DISTRIBUTIONS = {"fastapi", "uvicorn", "pygithub", "redis", "rq", "prometheus-client", "pydantic-settings",
                        "requests", "httpx", "pyjwt", "cryptography", "rich"}
CLASHING = 'raise ImportError("the project\'s own package was imported")\n'


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                            "--disable-pip-version-check", "-w", str(out), str(ROOT)],
                           capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    [found] = out.glob("align_bot-*.whl")
    return found


@pytest.fixture(scope="module")
def fresh_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    installed = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                                "--disable-pip-version-check", str(wheel)], capture_output=True, text=True,
                               timeout=600)
    if installed.returncode != 0:
        _unavailable(f"the wheel's dependencies could not be installed from the package index: "
                     f"{installed.stderr.strip()[-300:]}")
    return venv


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A service with its own `app` and `rules` packages (importing either fails loudly), on its own path."""
    repo = tmp_path / "service"
    init_repo(repo)
    manifest = "version: 1\ndeployments:\n  - {name: prod, gpu: GH200, count: 3, price_per_gpu_hour: 1.49}\n"
    files = {"align.yaml": manifest, "app/__init__.py": CLASHING, "rules/__init__.py": CLASHING,
             "app/config.py": 'GPU = "GH200"\n'}
    commit_tree(repo, files=files, message="base")
    git(repo, "checkout", "-q", "-b", "change")
    commit_tree(repo, files={"app/config.py": 'GPU = "H100"\n'}, message="change")
    return repo


def _align(venv: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PYTHON"))}
    env["PYTHONPATH"] = str(cwd)  # the project's own packages come first on the path
    return subprocess.run([str(venv / "bin" / "align"), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def test_the_wheel_holds_one_package_named_align_with_its_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"align", f"align_bot-{__version__}.dist-info"}
    assert "align/rules/gpu_model_mismatch.py" in names
    assert {"align/catalog/gpus.yaml", "align/align.schema.json", "align/py.typed"} <= set(names)
    metadata = zipfile.ZipFile(wheel).read(f"align_bot-{__version__}.dist-info/METADATA").decode()
    assert f"Version: {__version__}\n" in metadata  # the version is written once, in align/__init__.py
    assert "Provides-Extra: server" in metadata


def test_the_cli_installs_without_the_server(fresh_venv: Path) -> None:
    listed = subprocess.run([str(fresh_venv / "bin" / "python"), "-m", "pip", "list", "--format", "json"],
                            capture_output=True, text=True, check=True, timeout=120)
    installed = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert not installed & SERVER_DISTRIBUTIONS, installed & SERVER_DISTRIBUTIONS
    assert {"pydantic", "ruamel.yaml", "python-hcl2"} <= installed


def test_align_runs_beside_a_project_with_its_own_app_and_rules(fresh_venv: Path, project: Path) -> None:
    version = _align(fresh_venv, project, "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"align {__version__}"
    checked = _align(fresh_venv, project, "check", "--base", "main", "--format", "json")
    assert checked.returncode == 1, checked.stderr
    [finding] = json.loads(checked.stdout)["findings"]
    assert finding["rule"] == "gpu-model-mismatch" and finding["path"] == "app/config.py"


def test_server_commands_say_which_extra_to_install(fresh_venv: Path, project: Path) -> None:
    served = _align(fresh_venv, project, "serve")
    assert served.returncode == 2
    assert "pip install 'align-bot[server]'" in served.stderr and "Traceback" not in served.stderr
