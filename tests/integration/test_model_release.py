"""Release from the gate: the registered model exported to S3 (SeaweedFS), imported by the
release command into a clean BENTOML_HOME, then loaded by the service's model store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vocalbaby import training
from vocalbaby_assets.resources import ModelRegistry

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).with_name("vocalbaby-pipeline"))
LOAD = """
import json, sys
import pandas as pd
from vocalbaby_service import model_store
bundle, stored = model_store.load(sys.argv[1])
features = pd.read_parquet(sys.argv[2])
print(json.dumps({"tag": str(stored.tag), "card": stored.info.metadata,
                  "proba": bundle.predict_proba(features).to_numpy().tolist()}))
"""


@pytest.fixture
def s3_env(s3_server, monkeypatch):
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    return s3_server


def test_export_to_s3_then_import_into_a_clean_store_and_load(s3_env, tmp_path) -> None:
    s3_env.client().create_bucket(Bucket="vb-release")
    rng = np.random.default_rng(1)
    features = pd.DataFrame(rng.standard_normal((60, 4)), columns=list("abcd"))
    labels = pd.Series(["junk", "crying", "canonical"] * 20)
    bundle = training.train(features, labels, training.DEFAULT_PARAMS)
    bundle.metadata = {"version": "release-v1"}
    registry = ModelRegistry()
    tag = registry.register(bundle, {"model_version": "release-v1"}, {"stage": "gated"})
    uri = registry.export(tag, "s3://vb-release/models/bentoml")
    assert uri == f"s3://vb-release/models/bentoml/{tag.replace(':', '-')}.bentomodel"

    clean = tmp_path / "bentoml-home"
    env = {**os.environ, "BENTOML_HOME": str(clean)}
    imported = subprocess.run(  # the folder: its latest.json names the export
        [CLI, "import-model", "s3://vb-release/models/bentoml"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr[-3000:]
    assert imported.stdout.strip() == tag
    assert (clean / "models").is_dir()

    features.to_parquet(tmp_path / "features.parquet")
    loaded = subprocess.run(
        [sys.executable, "-c", LOAD, tag, str(tmp_path / "features.parquet")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    result = json.loads(loaded.stdout)
    assert result["tag"] == tag and result["card"] == {"model_version": "release-v1"}
    np.testing.assert_allclose(result["proba"], bundle.predict_proba(features).to_numpy())


def test_importing_nothing_says_so(s3_env, tmp_path) -> None:
    s3_env.client().create_bucket(Bucket="vb-empty")
    env = {**os.environ, "BENTOML_HOME": str(tmp_path / "home")}
    result = subprocess.run(
        [CLI, "import-model", "s3://vb-empty/models/bentoml"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 2
    assert "no exported model there" in result.stderr
