"""Per-recording and per-child figures: counts, minutes, volubility, CBR with bootstrap CIs."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.annotate.conftest import BROKEN, LONG_RECORDING
from tests.annotate.test_export import save, seg
from vocalbaby.annotation.store import AnnotationStore
from vocalbaby.summary import SEGMENT_COLUMNS, cbr_interval, summarize
from vocalbaby_cli.app import app


def segments(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=SEGMENT_COLUMNS)


def two_recordings(age_b: float = 9.0) -> pd.DataFrame:
    a = [
        ("a.wav", "c1", 9.0, 120.0, 0.0, 0.4, "canonical"),
        ("a.wav", "c1", 9.0, 120.0, 0.4, 0.8, "canonical"),  # touches the previous: one event
        ("a.wav", "c1", 9.0, 120.0, 1.0, 1.4, "non_canonical"),
        ("a.wav", "c1", 9.0, 120.0, 2.0, 2.4, "junk"),
        ("a.wav", "c1", 9.0, 120.0, 2.4, 2.8, None),  # silent window
        ("a.wav", "c1", 9.0, 120.0, 3.0, 3.4, "crying"),
    ]
    b = [
        ("b.wav", "c1", age_b, 60.0, 0.0, 0.4, "canonical"),
        ("b.wav", "c1", age_b, 60.0, 1.0, 1.4, "canonical"),
        ("b.wav", "c1", age_b, 60.0, 2.0, 2.4, "non_canonical"),
        ("b.wav", "c1", age_b, 60.0, 3.0, 3.4, "non_canonical"),
    ]
    return segments(a + b)


def test_counts_minutes_volubility_and_cbr_per_recording() -> None:
    table = summarize(two_recordings(), "recording", resamples=500).set_index("recording")

    a = table.loc["a.wav"]
    assert (a.count_canonical, a.count_non_canonical, a.count_crying, a.count_junk) == (1, 1, 1, 1)
    assert a.minutes_canonical == pytest.approx(round(0.8 / 60, 4))
    assert a.recorded_min == 2.0 and a.vocalizations == 3
    assert a.vocalizations_per_min == 1.5 and a.volubility_per_min == 1.0 and a.cbr == 0.5
    b = table.loc["b.wav"]
    assert (b.count_canonical, b.cbr, b.volubility_per_min) == (2, 0.5, 4.0)
    assert 0 <= a.cbr_low <= a.cbr <= a.cbr_high <= 1


def test_per_child_pools_recordings_and_splits_by_age() -> None:
    same_age = summarize(two_recordings(), "child", resamples=200)
    assert len(same_age) == 1
    child = same_age.iloc[0]
    assert (child.recordings, child.recorded_min, child.count_canonical) == (2, 3.0, 3)
    assert child.count_non_canonical == 3 and child.vocalizations == 7
    assert child.cbr == 0.5 and child.volubility_per_min == 2.0  # 6 speech-like in 3 minutes

    by_age = summarize(two_recordings(age_b=11.0), "child", resamples=200)
    assert by_age["age_months"].tolist() == [9.0, 11.0] and by_age["recordings"].tolist() == [1, 1]


def test_the_bootstrap_interval_has_the_expected_width_and_shrinks_with_more_recordings() -> None:
    rng = np.random.default_rng(0)
    one = cbr_interval(np.array([30]), np.array([70]), rng, 4000)
    # one recording of 100 events at p = 0.3: the binomial 95 % interval is about +-0.09
    assert one[0] < 0.3 < one[1] and 0.14 < one[1] - one[0] < 0.22
    many = cbr_interval(np.full(25, 30), np.full(25, 70), rng, 4000)
    assert many[1] - many[0] < (one[1] - one[0]) / 3
    # recordings that differ widen the child's interval (the recording-level resampling)
    mixed = cbr_interval(np.array([10, 50] * 5), np.array([90, 50] * 5), rng, 4000)
    assert mixed[1] - mixed[0] > many[1] - many[0]
    assert np.isnan(cbr_interval(np.array([0]), np.array([0]), rng, 100)).all()


def test_summarize_prelabels_per_recording(
    review_folder: Path, small_model: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    prelabels = tmp_path / "pre.json"
    predicted = runner.invoke(
        app, ["predict", str(review_folder), "--model", str(small_model), "--out", str(prelabels)]
    )
    assert predicted.exit_code == 0, predicted.output
    meta = tmp_path / "meta.csv"
    meta.write_text(f"file,child_id,age_months\n{LONG_RECORDING},c-42,9\n")
    out = tmp_path / "summary.csv"

    result = runner.invoke(
        app,
        [
            "summarize",
            str(prelabels),
            "--by",
            "recording",
            "--metadata",
            str(meta),
            "--out",
            str(out),
        ],
    )

    assert result.exit_code == 0, result.output
    table = pd.read_csv(out).set_index("recording")
    assert sorted(table.index) == ["crying_clip.wav", "junk_clip.wav", LONG_RECORDING]
    assert BROKEN not in table.index
    long = table.loc[LONG_RECORDING]
    assert (long.child_id, long.age_months) == ("c-42", 9)
    assert long.recorded_min == pytest.approx(1.6 / 60, abs=1e-4)
    counted = [
        long[f"minutes_{c}"] for c in ("canonical", "non_canonical", "crying", "laughing", "junk")
    ]
    assert sum(counted) == pytest.approx(1.6 / 60, abs=1e-3)  # no silence in it: 4 windows


def test_summarize_confirmed_annotations_per_child(recording_file: str, tmp_path: Path) -> None:
    store = AnnotationStore(str(tmp_path / "store"))
    labels = ["canonical", "non_canonical", "canonical", "crying"]
    parts = tuple(seg(i * 0.4, i * 0.4 + 0.4, lab) for i, lab in enumerate(labels))
    save(store, "r1.wav", "ann", recording_file, parts, child_id="kid", age_months="10")
    save(store, "r2.wav", "ann", recording_file, parts[:2], child_id="kid", age_months="10")

    result = CliRunner().invoke(app, ["summarize", str(tmp_path / "store"), "--by", "child"])

    assert result.exit_code == 0, result.output
    row = result.output.splitlines()[1].split()
    assert (
        row[0] == "kid" and float(row[1]) == 10 and row[2:5] == ["2", "0.0533", "6"]
    )  # 2 x 1.6 s; 3 + 2 + 1 vocalizations
    assert float(row[6]) == pytest.approx(3 / 5)
    empty = CliRunner().invoke(app, ["summarize", str(tmp_path / "nothing")])
    assert empty.exit_code == 2 and "no labelled segments" in re.sub(r"[\s│]+", " ", empty.output)
