"""Real Prometheus and Pushgateway servers (Debian packages) on 127.0.0.1 for tests.

    with running_pushgateway(tmp) as gateway, running_prometheus(config, tmp) as prometheus:
        prometheus.wait_for("up")

``config`` is a prometheus.yml (its rule files and file_sd targets resolve next to it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.servers.process import HOST, free_port, http_ok, start, stop, wait_until

BINARIES = {"prometheus": "/usr/bin/prometheus", "pushgateway": "/usr/bin/prometheus-pushgateway"}
START_TIMEOUT_S = 30.0


def binary(name: str) -> str | None:
    """The Debian binary of ``prometheus`` or ``pushgateway``, else one on PATH, else None."""
    path = BINARIES[name]
    return path if os.access(path, os.X_OK) else shutil.which(Path(path).name)


@dataclass(frozen=True)
class Prometheus:
    """A running Prometheus: its URL and its HTTP API."""

    url: str

    def get(self, path: str, **params: str) -> dict:
        """GET an API path (e.g. ``/api/v1/rules``); the ``data`` of its JSON answer."""
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.url}{path}{query}", timeout=10) as response:
            body = json.loads(response.read())
        if body.get("status") != "success":
            raise RuntimeError(f"{path} {params}: {body}")
        return body["data"]

    def query(self, promql: str) -> list[dict]:
        """The result of an instant query (raises on a PromQL error)."""
        return self.get("/api/v1/query", query=promql)["result"]

    def wait_for(self, promql: str, timeout_s: float = 30.0) -> list[dict]:
        """Poll ``promql`` until it returns a sample; raise ``TimeoutError`` after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while not (found := self.query(promql)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{promql} returned nothing for {timeout_s:.0f} s")
            time.sleep(0.5)
        return found


def _serve(name: str, args: list[str], address: str, workdir: Path) -> subprocess.Popen[bytes]:
    """Start ``name`` with ``args`` and wait until ``address`` answers ``/-/ready``."""
    executable = binary(name)
    if executable is None:
        raise FileNotFoundError(f"no {BINARIES[name]} (scripts/install-test-tools.sh installs it)")
    log = workdir / f"{name}.log"
    proc = start([executable, *args], log, cwd=workdir)
    try:
        wait_until(http_ok(f"http://{address}/-/ready"), proc, log, name, START_TIMEOUT_S)
    except BaseException:
        stop(proc)
        raise
    return proc


@contextmanager
def running_pushgateway(workdir: Path) -> Iterator[str]:
    """A Pushgateway on a free port; yields its URL."""
    address = f"{HOST}:{free_port()}"
    proc = _serve("pushgateway", [f"--web.listen-address={address}"], address, workdir)
    try:
        yield f"http://{address}"
    finally:
        stop(proc)


@contextmanager
def running_prometheus(config: Path, workdir: Path) -> Iterator[Prometheus]:
    """Prometheus with ``config`` on a free port, its data in ``workdir``."""
    address = f"{HOST}:{free_port()}"
    args = [
        f"--config.file={config}",
        f"--storage.tsdb.path={workdir / 'prometheus-data'}",
        f"--web.listen-address={address}",
    ]
    proc = _serve("prometheus", args, address, workdir)
    try:
        yield Prometheus(f"http://{address}")
    finally:
        stop(proc)
