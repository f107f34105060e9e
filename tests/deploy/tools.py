"""Paths of the deployment files and the tools that check them, for tests/deploy.

A missing tool skips its test with the reason, except in CI (``CI=true``), where it fails:
scripts/install-test-tools.sh installs every one of them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

from tests.servers import process

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
TERRAFORM = DEPLOY / "terraform"
PROMETHEUS = DEPLOY / "prometheus"
GRAFANA = DEPLOY / "grafana"
INSTALL_HINT = "run scripts/install-test-tools.sh"


def unavailable(reason: str) -> NoReturn:
    """Skip the test for ``reason``; in CI (CI=true), fail it instead."""
    process.unavailable(f"{reason} ({INSTALL_HINT})")


def tool(name: str) -> str:
    """An isolated tool (``checkov``, ``dvc``) from ``.tools/<name>``, else PATH; else skip."""
    local = REPO / ".tools" / name / "bin" / name
    found = str(local) if os.access(local, os.X_OK) else shutil.which(name)
    if found is None:
        unavailable(f"no {name}")
    return found


def binary(name: str) -> str:
    """A system binary on PATH (``promtool``, ``shellcheck``); else skip."""
    found = shutil.which(name)
    if found is None:
        unavailable(f"no {name} on PATH")
    return found
