"""``bentoml build`` (offline) packs the service, the core library and the registered model."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

from tests.service.conftest import Service

ROOT = Path(__file__).resolve().parents[2]


def bentoml(*args: str, model_tag: str) -> str:
    command = [str(Path(sys.executable).with_name("bentoml")), *args]
    env = {**os.environ, "BENTOML_DO_NOT_TRACK": "true", "VOCALBABY_MODEL_TAG": model_tag}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_bento_holds_the_service_and_the_model(service: Service, tmp_path: Path) -> None:
    output = bentoml("build", "-o", "tag", model_tag=service.tag)
    bento_tag = output.strip().splitlines()[-1].removeprefix("__tag__:")
    exported = tmp_path / "vocalbaby.bento"

    bentoml("export", bento_tag, str(exported), model_tag=service.tag)

    model_name, model_version = service.tag.split(":")
    with tarfile.open(exported) as bento:
        members = {name.removeprefix("./"): name for name in bento.getnames()}
        requirements = bento.extractfile(members["env/python/requirements.txt"]).read().decode()
    assert f"models/{model_name}/{model_version}/booster.json" in members
    for source in ("src/vocalbaby/inference.py", "src/vocalbaby_service/service.py"):
        assert source in members
    assert not any(name.startswith("src/tests") for name in members)
    for pin in ("xgboost-cpu==", "opensmile==", "pandas==", "soundfile=="):
        assert pin in requirements
