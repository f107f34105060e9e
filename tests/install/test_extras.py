"""Each pip extra on its own, from the built wheel: what a user gets after ``pip install``.

- core only: the ``vocalbaby`` command works, and commands of missing extras say which to install;
- ``[pipeline]``: the Dagster code location loads and validates (it once needed the service);
- ``[annotate]``: ``vocalbaby annotate`` serves the review page with its waveform in Chromium,
  with wavesurfer.js from the wheel (no npm).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser import ARTIFACTS, TIMEOUT_MS
from tests.install.conftest import run
from tests.servers.process import free_port, http_ok, log_tail, start, stop, wait_until
from vocalbaby import synthetic

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The test's environment without anything that would point at the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    return env | {"HOME": str(tmp_path), "DAGSTER_HOME": str(tmp_path)} | extra


def test_core_alone_runs_and_names_the_missing_extras(
    fresh_venv: Callable[[str], Path], tmp_path: Path
) -> None:
    venv = fresh_venv("")
    env = _env(tmp_path)
    out = run([venv / "bin" / "vocalbaby", "demo-data", "demo", "--clips", "20"], tmp_path, env=env)
    assert "wrote 20 synthetic clips" in out and (tmp_path / "demo" / "metadata.csv").is_file()
    for command, extra in (
        ([venv / "bin" / "vocalbaby", "annotate", "demo"], "annotate"),
        ([venv / "bin" / "vocalbaby-pipeline", "train"], "pipeline"),
    ):
        result = subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 2, result.stdout + result.stderr
        assert f"pip install 'vocalbaby[{extra}]'" in result.stderr


def test_pipeline_extra_alone_loads_the_code_location(
    fresh_venv: Callable[[str], Path], tmp_path: Path
) -> None:
    venv = fresh_venv("pipeline")
    env = _env(tmp_path, VOCALBABY_ARTIFACTS_URI=str(tmp_path / "artifacts"))
    probe = (
        "import vocalbaby_assets, vocalbaby_assets.definitions as d; "
        "print(vocalbaby_assets.__file__); print(len(d.ASSETS))"
    )
    location, count = run([venv / "bin" / "python", "-c", probe], tmp_path, env=env).split()
    assert location.startswith(str(venv)), "loaded from the installed wheel"
    assert int(count) >= 15
    dagster = venv / "bin" / "dagster"
    out = run(
        [dagster, "definitions", "validate", "-m", "vocalbaby_assets.definitions"],
        tmp_path,
        env=env,
    )
    assert "Validation successful" in out


def test_annotate_extra_alone_serves_the_page_with_its_waveform(
    fresh_venv: Callable[[str], Path], browser: Browser, tmp_path: Path
) -> None:
    venv = fresh_venv("annotate")
    folder = synthetic.generate(tmp_path / "recordings", clips=12, seed=4) / "audio"
    port = free_port()
    log = tmp_path / "annotate.log"
    command = [str(venv / "bin" / "vocalbaby"), "annotate", str(folder), "--port", str(port)]
    proc = start(
        [*command, "--store", str(tmp_path / "store")], log, env=_env(tmp_path), cwd=tmp_path
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(http_ok(url + "/api/config"), proc, log, "vocalbaby annotate", timeout_s=90)
        source = json.loads(_get(url + "/vendor/SOURCE.json"))
        for name, digest in source["sha256"].items():
            assert hashlib.sha256(_get(f"{url}/vendor/{name}")).hexdigest() == digest, name
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        page.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url)
        page.wait_for_selector("body[data-ready=true]")
        page.locator("#recording-list button").first.click()
        expect(page.locator("[part~='region']")).to_have_count(1)  # drawn once audio decoded
        expect(page.locator("#waveform canvas").first).to_be_visible()
        expect(page.locator("#spectrogram canvas").first).to_be_visible()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "annotate-from-wheel.png"))
        assert not errors, errors
    finally:
        stop(proc)
    assert "Traceback" not in log_tail(log)


def _get(url: str) -> bytes:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200, url
        return response.read()
