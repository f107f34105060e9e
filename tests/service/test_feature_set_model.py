"""A ComParE_2016 model served by ``bentoml serve``: audio answers are the bundle's own, and
``/predict_features`` (eGeMAPS rows) is refused with a 409 that says why, not a 500."""

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

SET = "ComParE_2016"


@pytest.fixture(scope="module")
def compare_tag(demo_dataset: Path) -> str:
    return register_model(demo_dataset, rounds=20, feature_set=SET)


def test_a_served_compare_model_classifies_audio_and_refuses_egemaps_rows(
    compare_tag: str, tmp_path: Path
) -> None:
    bundle, _ = model_store.load(compare_tag)
    assert bundle.feature_set == SET
    clip = write_wav(tmp_path / "c.wav", 0.5 * tone(0.4, freq=310))
    samples = audio.load(clip).samples
    expected = bundle.predict_proba(features.extract([samples], feature_set=SET)).iloc[0]
    row = features.extract([samples]).iloc[0].to_dict()  # eGeMAPS: what the endpoint's rows hold
    env = {"BENTOML_HOME": os.environ["BENTOML_HOME"], "VOCALBABY_MODEL_TAG": compare_tag}
    server = LocalServer(env=env, log_path=tmp_path / "server.log")
    with server, httpx.Client(base_url=server.url, timeout=60) as client:
        answer = client.post("/predict", files={"files": ("c.wav", clip.read_bytes())})
        refused = client.post("/predict_features", json={"rows": [row]})
        ready = client.get("/readyz")
    assert answer.status_code == 200, answer.text
    (result,) = answer.json()["results"]
    found = [result["probabilities"][c] for c in bundle.classes]
    np.testing.assert_allclose(found, expected.to_numpy(), atol=1e-6)  # answers: 6 decimals
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["error"] == "conflict"
    assert SET in body["message"] and "/predict" in body["message"]
    assert ready.status_code == 200
