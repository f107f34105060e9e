"""Starting, waiting for and stopping real server processes on 127.0.0.1 in tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest

HOST = "127.0.0.1"
LOG_TAIL_LINES = 40


def unavailable(reason: str) -> NoReturn:
    """Skip the test for ``reason`` (a missing server or tool); in CI (CI=true), fail it: CI
    installs every server, so a missing one is a broken setup, not a reason to skip."""
    if os.environ.get("CI", "").lower() in {"true", "1"}:
        pytest.fail(reason)
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def log_tail(log_path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of a server's log file."""
    if not log_path.exists():
        return "(no log file)"
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])


def start(
    command: list[str], log_path: Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start ``command`` in its own process group, stdout and stderr to ``log_path``."""
    with log_path.open("wb") as log:
        return subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True
        )


def wait_until(
    ready: Callable[[], bool],
    proc: subprocess.Popen[bytes],
    log_path: Path,
    what: str,
    timeout_s: float,
) -> None:
    """Poll ``ready()``; raise with the log tail if the process exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        if proc.poll() is not None:
            raise RuntimeError(
                f"{what} exited with code {proc.returncode}; log:\n{log_tail(log_path)}"
            )
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{what} not ready after {timeout_s:.0f} s; log:\n{log_tail(log_path)}"
            )
        time.sleep(0.3)


def http_ok(url: str) -> Callable[[], bool]:
    """A readiness probe: ``url`` answers 200."""

    def probe() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    return probe


def http_answers(url: str) -> Callable[[], bool]:
    """A readiness probe: ``url`` answers with any HTTP status (for servers behind a token)."""

    def probe() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except urllib.error.HTTPError:
            return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    return probe


def stop(proc: subprocess.Popen[bytes], timeout_s: float = 15.0) -> None:
    """SIGTERM the process group, then SIGKILL if it has not exited in time."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
