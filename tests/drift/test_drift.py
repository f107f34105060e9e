"""vocalbaby.drift: the calibrated drift tests, in both directions, and the prediction log."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.drift.helpers import write_log, write_silent_rows
from vocalbaby import drift, features
from vocalbaby.features import feature_names


def test_samples_of_the_reference_are_not_drift(reference: pd.DataFrame) -> None:
    results = [
        drift.compare(reference, reference.sample(60, random_state=seed), report=False)
        for seed in range(20)
    ]
    assert not any(r.dataset_drift for r in results)
    assert not any(r.label_drift for r in results)
    assert max(r.drift_share for r in results) < 0.05


def test_a_recording_channel_change_is_drift(
    reference: pd.DataFrame, shifted_features: pd.DataFrame
) -> None:
    clips = reference.sample(100, random_state=0).index
    same = drift.compare(reference, reference.loc[clips], report=False)
    shifted = drift.compare(reference, shifted_features.loc[clips], report=False)
    assert shifted.dataset_drift and not same.dataset_drift
    assert shifted.drift_share > same.drift_share + 0.1
    assert "equivalentSoundLevel_dBp" in shifted.drifted  # 20 dB quieter
    assert shifted.scores.is_monotonic_decreasing
    assert not shifted.label_drift  # same clips, same labels


def test_real_recordings_against_the_synthetic_reference_are_drift(
    reference: pd.DataFrame, real_features: pd.DataFrame
) -> None:
    result = drift.compare(reference, real_features, report=False)
    assert result.dataset_drift and result.drift_share > 0.2
    assert result.label_drift  # only crying and junk
    shares = result.label_shares["current"]
    assert shares[["crying", "junk"]].sum() == pytest.approx(1.0)


def test_a_label_shift_alone_is_label_drift(reference: pd.DataFrame) -> None:
    current = reference.sample(100, random_state=0).assign(label="crying")
    result = drift.compare(reference, current, report=False)
    assert result.label_drift and not result.dataset_drift
    assert result.label_score > 2 * result.label_threshold


def test_small_batches_need_larger_distances() -> None:
    threshold = drift.DriftConfig().features
    assert threshold.at(10_000, 10_000) == threshold.floor
    assert threshold.at(20, 367) > threshold.at(50, 367) > threshold.floor


def test_features_are_required_and_labels_optional(reference: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="current lacks 1 feature column"):
        drift.compare(reference, reference.drop(columns=feature_names()[0]), report=False)
    unlabelled = drift.compare(reference, reference.drop(columns="label"), report=False)
    assert unlabelled.label_score is None and unlabelled.label_drift is None


def test_a_compare_2016_reference_is_refused_saying_why(reference: pd.DataFrame) -> None:
    names = features.feature_names("ComParE_2016")
    other = pd.DataFrame(np.zeros((len(reference), len(names))), columns=names)
    with pytest.raises(ValueError, match=r"lacks 88 feature column.*eGeMAPSv02 .*not monitored"):
        drift.compare(other.assign(label=reference["label"].to_numpy()), reference, report=False)


def test_an_empty_day_missing_values_and_few_labels_get_reasons(
    reference: pd.DataFrame, tmp_path
) -> None:
    empty = drift.compare(reference, reference.iloc[:0])
    assert empty.reason == "no rows" and not empty.dataset_drift and empty.drift_share == 0.0
    files = drift.save(empty, str(tmp_path / "empty.html"))
    assert "no rows" in (tmp_path / "empty.html").read_text()
    assert json.loads((tmp_path / "empty.json").read_text())["reason"] == "no rows"

    pitch = feature_names()[0]  # F0 mean: undefined for a day of noise
    silent = reference.sample(40, random_state=1).assign(**{pitch: np.nan})
    found = drift.compare(reference, silent, report=False)
    assert found.skipped == {pitch: "no value in this batch"}
    assert len(found.scores) == 87 and found.reason is None

    few = drift.compare(reference, reference.head(5), report=False)
    assert few.label_score is None and few.label_drift is None
    assert few.label_reason == "only 5 predicted label(s); at least 10 needed"
    assert files["json"].endswith("empty.json")


def test_labels_are_compared_with_the_reference_model_s_predictions(
    reference: pd.DataFrame,
) -> None:
    """A model that calls a third of the crying 'junk' predicts that on new data too: its
    predictions against the reference's true labels look drifted, against its own out-of-fold
    predictions on the reference they do not."""
    rng = np.random.default_rng(2)
    mistaken = reference["label"].mask(
        (reference["label"] == "crying") & (rng.random(len(reference)) < 0.34), "junk"
    )
    mistaken = mistaken.mask(
        (reference["label"] == "non_canonical") & (rng.random(len(reference)) < 0.3), "junk"
    )
    day = reference.sample(100, random_state=3).assign(label=mistaken)
    against_truth = drift.compare(reference, day, report=False)
    against_predictions = drift.compare(reference.assign(predicted=mistaken), day, report=False)
    assert against_predictions.label_score < against_truth.label_score
    assert not against_predictions.label_drift
    all_junk = day.assign(label="junk")
    assert drift.compare(reference.assign(predicted=mistaken), all_junk, report=False).label_drift


def test_read_log_reads_every_day_or_one(tmp_path, reference: pd.DataFrame) -> None:
    write_log(tmp_path, "2026-11-01", reference.head(30), batches=2)
    write_log(tmp_path, "2026-11-02", reference.tail(20), batches=3)
    (tmp_path / "README.txt").write_text("not part of the log")
    assert {d: len(f) for d, f in drift.log_files(str(tmp_path)).items()} == {
        "2026-11-01": 2,
        "2026-11-02": 3,
    }
    day = drift.read_log(str(tmp_path), day="2026-11-02")
    assert len(day) == 20 and list(day.columns[-3:]) == ["label", "timestamp", "model_version"]
    assert len(drift.read_log(str(tmp_path))) == 50
    with pytest.raises(FileNotFoundError, match="no prediction log files"):
        drift.read_log(str(tmp_path), day="2026-11-03")


def test_read_log_names_a_file_that_is_not_a_log(tmp_path, reference: pd.DataFrame) -> None:
    (path,) = write_log(tmp_path, "2026-11-01", reference.head(5), batches=1)
    pd.read_parquet(path).drop(columns="timestamp").to_parquet(path)
    with pytest.raises(ValueError, match=rf"{path.name}: not a prediction log file"):
        drift.read_log(str(tmp_path))


def test_channel_shift_scales_and_adds_noise() -> None:
    rng = np.random.default_rng(0)
    signal = np.full(1600, 0.1, dtype=np.float32)
    quieter = drift.channel_shift(signal, -20, None, rng)
    assert quieter.dtype == np.float32 and np.allclose(quieter, 0.01)
    noisy = drift.channel_shift(signal, 0, 20, rng)
    assert np.std(noisy) == pytest.approx(0.01, rel=0.1)


def test_silent_window_rows_are_counted_not_judged(tmp_path, reference: pd.DataFrame) -> None:
    """Rows of silent windows (no features, no label) are left out of the feature and label
    tests: the day judges like its audible rows alone."""
    day = "2026-11-04"
    audible = reference.sample(100, random_state=4)
    write_log(tmp_path, day, audible, batches=1)  # an older log file: no `silent` column
    write_silent_rows(tmp_path, day, reference.head(60))

    logged = drift.read_log(str(tmp_path), day=day)
    assert len(logged) == 160 and int(drift.silent_rows(logged).sum()) == 60

    result = drift.compare(reference, logged, report=False)
    alone = drift.compare(reference, audible, report=False)
    assert (result.current_rows, result.silent_rows, alone.silent_rows) == (100, 60, 0)
    assert result.skipped == {} and result.label_score == alone.label_score
    pd.testing.assert_series_equal(result.scores, alone.scores)
    assert result.summary()["silent_rows"] == 60
    only_silent = drift.compare(reference, logged[drift.silent_rows(logged)], report=False)
    assert (only_silent.reason, only_silent.silent_rows) == ("no rows", 60)
