"""Fresh virtual environments holding the built wheel and one extra (or none), from uv.lock.

This is how a user installs VocalBaby (``pip install 'vocalbaby[pipeline]'``), with exactly the
locked versions: ``uv export`` of the extra, then the wheel without its dependencies. Commands
run from a temporary folder, so the checkout itself is never on ``sys.path``.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.servers.process import unavailable

REPO = Path(__file__).resolve().parents[2]
UV = shlex.split(os.environ.get("UV") or "uv")  # .ci/run passes "python3 -m uv" through make


def run(command: list[str | Path], cwd: Path | None = None, **kwargs: object) -> str:
    """Run ``command``; its output, or a failure showing it."""
    result = subprocess.run(
        [str(c) for c in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        **kwargs,
    )
    shown = " ".join(str(c) for c in command)
    assert result.returncode == 0, f"{shown}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result.stdout


def _uv() -> list[str]:
    try:
        subprocess.run([*UV, "--version"], capture_output=True, check=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        reason = f"uv not found ({' '.join(UV)}); set UV or install uv"
        unavailable(reason)
    return UV


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built as a release would build it (no npm involved)."""
    out = tmp_path_factory.mktemp("dist")
    run([*_uv(), "build", "--wheel", "--quiet", "-o", out, REPO])
    (built,) = out.glob("vocalbaby-*.whl")
    return built


@pytest.fixture(scope="session")
def fresh_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``make(extra)``: a venv with the wheel and the locked packages of ``extra`` ("" for none)."""
    made: dict[str, Path] = {}

    def make(extra: str) -> Path:
        if extra not in made:
            root = tmp_path_factory.mktemp(f"venv-{extra or 'core'}")
            requirements = root / "requirements.txt"
            export = [*_uv(), "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes"]
            export += [f"--extra={extra}"] if extra else []
            run([*export, "--quiet", "-o", requirements], cwd=REPO)
            venv = root / "venv"
            run([*_uv(), "venv", "--quiet", "--python", sys.executable, venv])
            python = venv / "bin" / "python"
            run([*_uv(), "pip", "install", "--quiet", "--python", python, "-r", requirements])
            run([*_uv(), "pip", "install", "--quiet", "--python", python, "--no-deps", wheel])
            made[extra] = venv
        return made[extra]

    return make
