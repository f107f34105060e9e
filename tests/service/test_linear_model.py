"""A linear-SVM model served by ``bentoml serve``: the answers are the bundle's own."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.audio_files import tone, write_wav
from tests.servers.bento import LocalServer, register_model
from vocalbaby import audio, features
from vocalbaby_service import model_store


@pytest.fixture(scope="module")
def linear_tag(demo_dataset: Path) -> str:
    return register_model(demo_dataset, family="linear_svm")


def test_a_served_linear_svm_answers_what_its_bundle_says(linear_tag: str, tmp_path: Path) -> None:
    bundle, _ = model_store.load(linear_tag)
    assert bundle.family == "linear_svm"
    clip = write_wav(tmp_path / "c.wav", 0.5 * tone(0.4, freq=310))
    expected = bundle.predict_proba(features.extract([audio.load(clip).samples])).iloc[0]
    env = {"BENTOML_HOME": os.environ["BENTOML_HOME"], "VOCALBABY_MODEL_TAG": linear_tag}
    server = LocalServer(env=env, log_path=tmp_path / "server.log")
    with server, httpx.Client(base_url=server.url, timeout=60) as client:
        answer = client.post("/predict", files={"files": ("c.wav", clip.read_bytes())})
        info = client.get("/model_info").json()
    assert answer.status_code == 200, answer.text
    (result,) = answer.json()["results"]
    assert result["label"] == expected.idxmax()
    found = [result["probabilities"][c] for c in bundle.classes]
    np.testing.assert_allclose(found, expected.to_numpy(), atol=1e-6)  # answers: 6 decimals
    assert info["metadata"]["model_family"] == "linear_svm"
    assert info["training_data"]["model_family"] == "linear_svm"
