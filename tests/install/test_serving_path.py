"""The service's import path needs nothing the Bento does not ship: with scikit-learn (and the
other training-only libraries) refused by an import hook, the service module imports and a model
bundle classifies a clip through the same code the service runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.install.conftest import REPO
from vocalbaby import dataset, features, synthetic, training

TRAINING_ONLY = ("sklearn", "imblearn", "matplotlib", "optuna", "dagster", "evidently")

PROBE = """
import importlib.abc, sys

BLOCKED = set(sys.argv[1].split(","))

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is refused: not in the Bento")

sys.meta_path.insert(0, Refuse())

import vocalbaby_service.service  # the module `bentoml serve` imports
from vocalbaby import audio, inference
from vocalbaby.model import ModelBundle

bundle = ModelBundle.load(sys.argv[2])
analysis = inference.analyze(audio.load(sys.argv[3]), bundle)
print(analysis.prediction.label)
print(sorted(m.split(".")[0] for m in sys.modules if m.split(".")[0] in BLOCKED))
"""


@pytest.mark.parametrize("family", ["xgboost", "linear_svm"])
def test_the_service_imports_and_classifies_without_training_libraries(
    tmp_path: Path, family: str
) -> None:
    manifest = dataset.read(synthetic.generate(tmp_path / "data", clips=40)).set_index("clip_id")
    table = features.extract_files(manifest["uri"].to_dict()).features
    params = (
        training.DEFAULT_PARAMS | {"num_boost_round": 10} if family == "xgboost" else {"C": 0.1}
    )
    bundle = training.train(table, manifest.loc[table.index, "label"], params, family=family)
    assert bundle.family == family
    bundle.temperature = 1.5  # the calibration step must work without scikit-learn too
    bundle.save(tmp_path / "bundle")
    clip = manifest["uri"].iloc[0]
    result = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(TRAINING_ONLY), tmp_path / "bundle", clip],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    label, loaded = result.stdout.splitlines()
    assert label in bundle.classes
    assert loaded == "[]"
