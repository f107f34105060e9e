"""The drift assets materialized for one day of a prediction log, with the real IO manager."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tests.drift.helpers import DriftSetup, materialize_day, write_log, write_silent_rows
from tests.pipeline.conftest import check_results, metadata
from vocalbaby.labels import CLASSES
from vocalbaby_assets.assets.drift import DriftReportConfig

SHIFTED_DAY = "2026-11-02"


def test_reference_features_are_the_train_split(drift_setup: DriftSetup) -> None:
    clips = drift_setup.clips
    reference = pd.read_pickle(Path(drift_setup.settings.path("dagster", "reference_features")))
    assert sorted(reference.index) == sorted(clips.index[clips["split"] == "train"])
    assert reference["label"].equals(clips.loc[reference.index, "label"])
    assert reference["predicted"].isin(CLASSES).all(), "out-of-fold predictions of the recipe"
    assert reference["child_id"].nunique() >= 3


def test_drift_report_of_a_shifted_day(
    drift_setup: DriftSetup, shifted_features: pd.DataFrame
) -> None:
    held_out = drift_setup.clips.index[drift_setup.clips["split"] != "train"]
    log = drift_setup.settings.locations.prediction_log
    write_log(log, SHIFTED_DAY, shifted_features.loc[held_out])
    write_silent_rows(log, SHIFTED_DAY, shifted_features.head(3))
    result = materialize_day(drift_setup, SHIFTED_DAY, DriftReportConfig(check_severity="ERROR"))
    assert result.success

    batches = metadata(result, "production_batches")
    assert (batches["rows"], batches["silent_rows"]) == (len(held_out) + 3, 3)
    assert batches["model_versions"] == ["20261101T000000Z-test"]
    report = metadata(result, "drift_report")
    assert (report["rows"], report["silent_rows"]) == (len(held_out), 3)
    assert report["dataset_drift"] and report["drift_share"] >= 0.1
    assert report["drifted_features"] == round(report["drift_share"] * 88)
    assert "equivalentSoundLevel_dBp" in report["top_drifted_features"]

    html, stored = Path(report["report_html"]), Path(report["report_json"])
    assert html.parent == Path(drift_setup.settings.path("drift", SHIFTED_DAY))
    assert "<html" in html.read_text()[:1000].lower()
    document = json.loads(stored.read_text())
    assert document["drift_share"] == report["drift_share"]
    (counts,) = [
        m for m in document["evidently"]["metrics"] if "DriftedColumns" in m["metric_name"]
    ]
    assert counts["value"] == {"count": report["drifted_features"], "share": report["drift_share"]}

    checks = check_results(result)
    assert not checks["feature_drift"].passed
    assert checks["feature_drift"].severity.value == "ERROR"
    assert checks["label_drift"].passed  # the same clips, so the same labels


def test_an_empty_day_is_reported_not_judged(drift_setup: DriftSetup) -> None:
    day = "2026-11-05"
    write_log(drift_setup.settings.locations.prediction_log, day, drift_setup.clips.head(0), 1)
    result = materialize_day(drift_setup, day)
    assert result.success
    report = metadata(result, "drift_report")
    assert report["not_judged"] == "no rows" and report["dataset_drift"] is False
    checks = check_results(result)
    assert checks["feature_drift"].passed and checks["label_drift"].passed
    assert checks["feature_drift"].description == "not judged: no rows"
