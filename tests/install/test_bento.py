"""The Bento runs from its own environment: built offline, its requirements from uv.lock, served
from a fresh venv of exactly those requirements (what the container installs), it classifies a
real clip as the model does in-process and exports its metrics.

No Docker here: ``bentoml containerize`` runs in the release workflow; this is the same Bento and
the same requirements, without the image."""

from __future__ import annotations

import os
import sys
from importlib.metadata import version as installed
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement

from tests.install.conftest import REPO, _uv, run
from tests.servers.bento import LocalServer, register_model
from vocalbaby import audio, inference, synthetic
from vocalbaby_service import model_store

REQUIREMENTS = REPO / "deploy" / "bento" / "requirements.txt"
BENTOML = installed("bentoml")
TOKEN = "bento-test-token-0123456789abcdef0123"


def pins(path: Path) -> set[str]:
    """The requirements in a requirements file, normalised (BentoML rewrites the file)."""
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return {str(Requirement(line)) for line in lines if line}


def test_the_bento_requirements_are_the_lock(tmp_path: Path) -> None:
    exported = tmp_path / "requirements.txt"
    export = [*_uv(), "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes"]
    run([*export, "--no-header", "--extra=service", "--quiet", "-o", exported], cwd=REPO)
    assert REQUIREMENTS.read_text() == exported.read_text(), "run `make bento-requirements`"
    names = {p.split(";")[0].split("==")[0] for p in pins(REQUIREMENTS)}
    assert {"bentoml", "opensmile", "xgboost-cpu", "numpy", "soundfile"} <= names


def test_the_built_bento_serves_from_its_own_requirements(tmp_path: Path, real_dev: Path) -> None:
    home = Path(os.environ["BENTOML_HOME"])  # the session's store (tests/conftest.py)
    tag = register_model(synthetic.generate(tmp_path / "data", clips=150), rounds=20)
    built = run(
        [Path(sys.executable).with_name("bentoml"), "build", "-o", "tag"],
        cwd=REPO,
        env={**os.environ, "VOCALBABY_MODEL_TAG": tag},
    )
    bento_tag = built.strip().splitlines()[-1].removeprefix("__tag__:")
    name, version = bento_tag.split(":")
    bento = home / "bentos" / name / version
    requirements = bento / "env" / "python" / "requirements.txt"
    # What the lock says, plus the bentoml pin BentoML adds (the same version as the lock's).
    added = pins(requirements) - pins(REQUIREMENTS)
    assert pins(REQUIREMENTS) <= pins(requirements) and added == {f"bentoml=={BENTOML}"}

    venv = tmp_path / "venv"
    run([*_uv(), "venv", "--quiet", "--python", sys.executable, venv])
    run(
        [
            *_uv(),
            "pip",
            "install",
            "--quiet",
            "--python",
            venv / "bin" / "python",
            "-r",
            requirements,
        ]
    )
    clip = sorted((real_dev / "audio" / "crying").glob("*.wav"))[0]
    bundle, _ = model_store.load(tag)
    expected = inference.analyze(audio.load(clip), bundle).prediction
    env = {
        "BENTOML_HOME": str(home),
        "VOCALBABY_MODEL_TAG": tag,
        "VOCALBABY_API_TOKEN": TOKEN,
        "VOCALBABY_REQUIRE_TOKEN": "1",
        "PYTHONPATH": "",  # the Bento's src/, never the checkout
    }
    server = LocalServer(
        env=env,
        log_path=tmp_path / "serve.log",
        cwd=tmp_path,
        target=bento_tag,
        bentoml=venv / "bin" / "bentoml",
        ready_timeout_s=180,
    )
    with server, httpx.Client(base_url=server.url, timeout=60) as client:
        client.headers["Authorization"] = f"Bearer {TOKEN}"
        files = {"files": (clip.name, clip.read_bytes(), "audio/wav")}
        response = client.post("/predict", files=files)
        assert response.status_code == 200, response.text
        (result,) = response.json()["results"]
        assert result["label"] == expected.label
        for label, p in result["probabilities"].items():
            assert p == pytest.approx(expected.probabilities[label], abs=1e-5)
        metrics = client.get("/metrics")
        assert metrics.status_code == 200 and "vocalbaby_predictions_total" in metrics.text
    log = (tmp_path / "serve.log").read_text()
    assert str(REPO) not in log, "the served code came from the checkout"
