"""After a clean stop: the prediction log holds every classified clip and segment, with exactly
the features the training pipeline computes for the same file (train/serve parity)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from tests.service.conftest import Service
from vocalbaby import audio, features
from vocalbaby.labels import CLASSES


@pytest.fixture(scope="module")
def prediction_log(service: Service) -> pd.DataFrame:
    """Stop the server cleanly and read its prediction log."""
    assert service.stop() == 0, service.server.log_tail()
    files = sorted(service.log_dir.rglob("*.parquet"))
    assert files, f"no prediction log under {service.log_dir}\n{service.server.log_tail()}"
    for path in files:
        assert re.fullmatch(r"date=\d{4}-\d{2}-\d{2}", path.parent.name)
        assert re.fullmatch(r"\d{8}T\d{12}Z-[0-9a-f]{32}\.parquet", path.name)
    return pd.concat([pd.read_parquet(p) for p in files], ignore_index=True)


@pytest.mark.after_server_stop
def test_prediction_log_holds_every_classified_segment(
    service: Service, prediction_log: pd.DataFrame
) -> None:
    names = list(features.feature_names())
    assert len(prediction_log) == service.classified > 0
    assert set(names) | {"label", *CLASSES} <= set(prediction_log.columns)
    assert {"model_version", "timestamp", "file", "request_id", "endpoint", "silent"} <= set(
        prediction_log.columns
    )
    classified = prediction_log[~prediction_log["silent"]]
    assert classified["label"].isin(CLASSES).all()
    np.testing.assert_allclose(classified[list(CLASSES)].sum(axis=1), 1.0, atol=1e-5)
    silent = prediction_log[prediction_log["silent"]]
    assert silent["label"].isna().all() and silent[[*names, *CLASSES]].isna().all().all()
    audio_rows = prediction_log[prediction_log["endpoint"] != "predict_features"]
    assert audio_rows["request_id"].str.fullmatch(r"[0-9a-f]{16,32}").all()


@pytest.mark.after_server_stop
def test_logged_features_equal_the_pipeline_features(
    service: Service, prediction_log: pd.DataFrame
) -> None:
    names = list(features.feature_names())
    assert service.sent, "no parity clips were sent"
    for name, path in service.sent.items():
        rows = prediction_log[(prediction_log["file"] == name) & ~prediction_log["silent"]]
        assert len(rows) >= 1, name
        expected = features.extract_one(audio.load(path).samples)
        for logged in rows[names].to_numpy():
            np.testing.assert_allclose(logged, expected, rtol=1e-6, err_msg=name)
