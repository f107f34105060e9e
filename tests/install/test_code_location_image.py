"""The code-location image's recipe without Docker: deploy/dagster/Dockerfile's own `uv sync`
into a fresh venv from uv.lock, its own `dagster api grpc` command, the repository listed over gRPC.
Also hadolint on the Dockerfile."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from dagster._grpc.client import DagsterGrpcClient
from dagster_shared.serdes import deserialize_value

from tests.install.conftest import REPO, UV, run
from tests.servers.process import HOST, free_port, log_tail, start, stop

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DOCKERFILE = REPO / "deploy" / "dagster" / "Dockerfile"


def _instructions(keyword: str) -> list[str]:
    """The arguments of every ``keyword`` instruction of the Dockerfile (continuations joined)."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    return [m[1].strip() for m in re.finditer(rf"^{keyword}\s+(.*)$", text, re.M)]


def _locked_version(package: str) -> str:
    """The version of ``package`` pinned in uv.lock."""
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    (version,) = [p["version"] for p in lock["package"] if p["name"] == package]
    return version


def test_dockerfile_is_hadolint_clean_and_runs_as_non_root() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    result = subprocess.run([hadolint, DOCKERFILE], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _instructions("USER")[-1].split(":")[0] == "10001"
    assert all("--frozen" in line for line in _instructions("RUN") if "uv sync" in line)


def test_the_locked_venv_serves_the_code_location_over_grpc(tmp_path: Path) -> None:
    sync = [line for line in _instructions("RUN") if line.startswith("uv sync")][-1]
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    run(
        [*UV, *shlex.split(sync)[1:], "--python", sys.executable, "--quiet"],
        cwd=REPO,
        env=env | {"UV_PROJECT_ENVIRONMENT": str(venv)},
    )
    command = json.loads(_instructions("CMD")[-1])
    assert command[:3] == ["dagster", "api", "grpc"]
    port = free_port()
    command = [str(venv / "bin" / command[0]), *command[1:]]
    command[command.index("-h") + 1], command[command.index("-p") + 1] = HOST, str(port)
    server_env = env | {
        "DAGSTER_HOME": str(tmp_path),
        "VOCALBABY_ARTIFACTS_URI": str(tmp_path / "artifacts"),
        "DAGSTER_DISABLE_TELEMETRY": "1",
    }
    log_path = tmp_path / "grpc.log"
    server = start(command, log_path, env=server_env, cwd=tmp_path)
    try:
        client = DagsterGrpcClient(port=port, host=HOST)
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, log_tail(log_path)
            try:
                response = deserialize_value(client.list_repositories())
                break
            except Exception:  # not listening yet
                assert time.monotonic() < deadline, log_tail(log_path)
                time.sleep(0.5)
        assert response.executable_path.startswith(str(venv))
        (symbol,) = response.repository_symbols
        assert (symbol.repository_name, symbol.attribute) == ("__repository__", "defs")
        pointer = response.repository_code_pointer_dict["__repository__"]
        assert pointer.module == "vocalbaby_assets.definitions"
        locked = {
            "dagster": _locked_version("dagster"),
            "dagster-aws": _locked_version("dagster-aws"),
        }
        assert {k: response.dagster_library_versions[k] for k in locked} == locked
    finally:
        stop(server)
