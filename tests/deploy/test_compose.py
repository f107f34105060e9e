"""deploy/docker-compose.monitoring.yml: structure, and ``docker compose config`` where a client
with the compose plugin is installed (no Docker engine is needed for it)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.tools import DEPLOY

COMPOSE_FILE = DEPLOY / "docker-compose.monitoring.yml"


def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def _compose_command() -> list[str] | None:
    """``docker compose`` (plugin) or ``docker-compose``, whichever answers; else None."""
    candidates = [["docker", "compose"], ["docker-compose"]]
    for command in candidates:
        if shutil.which(command[0]) is None:
            continue
        probe = subprocess.run([*command, "version"], capture_output=True, timeout=30, check=False)
        if probe.returncode == 0:
            return command
    return None


def test_the_stack_runs_service_prometheus_grafana_and_pushgateway() -> None:
    services = compose()["services"]
    assert set(services) == {"vocalbaby", "prometheus", "grafana", "pushgateway"}
    for name, service in services.items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond localhost"
        image = service["image"]
        if name != "vocalbaby":
            assert ":" in image and not image.endswith(":latest"), f"{name}: pin {image}"


def test_mounted_configuration_exists_in_the_repository() -> None:
    for name, service in compose()["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"
    grafana = compose()["services"]["grafana"]
    assert grafana["environment"]["PROMETHEUS_URL"] == "http://prometheus:9090"
    targets = (DEPLOY / "prometheus" / "targets" / "vocalbaby.yml").read_text()
    assert "vocalbaby:3000" in targets


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    command = _compose_command()
    if command is None:
        pytest.skip("no docker compose plugin or docker-compose (the check is optional)")
    result = subprocess.run(
        [*command, "-f", str(COMPOSE_FILE), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
