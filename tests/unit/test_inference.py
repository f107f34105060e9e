"""vocalbaby.inference: single clips, timelines with silent windows, file labels, summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from typer.testing import CliRunner

from tests.audio_files import tone
from vocalbaby import audio, features, inference, training
from vocalbaby.labels import CLASSES
from vocalbaby_cli.app import app

RATE = audio.SAMPLE_RATE


def recording(*parts: np.ndarray, name: str = "rec.wav") -> audio.Audio:
    return audio.from_array(np.concatenate(parts), RATE, name)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(round(seconds * RATE), np.float32)


@pytest.fixture(scope="module")
def bundle():
    """A tiny real model (random features, 5 rounds): fast, and goes through predict_proba."""
    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.normal(size=(50, 88)), columns=list(features.feature_names()))
    labels = pd.Series([CLASSES[i % 5] for i in range(50)])
    return training.train(table, labels, {**training.DEFAULT_PARAMS, "num_boost_round": 5})


class FixedModel:
    """A stand-in model that returns given probability rows, in order."""

    feature_set = features.DEFAULT_FEATURE_SET

    def __init__(self, rows: list[list[float]]) -> None:
        self.classes = list(CLASSES)
        self.rows = rows

    def predict_proba(self, table: pd.DataFrame, recordings: object = None) -> pd.DataFrame:
        return pd.DataFrame(self.rows[: len(table)], index=table.index, columns=self.classes)


def onehot(label: str, p: float = 0.8) -> list[float]:
    rest = (1 - p) / (len(CLASSES) - 1)
    return [p if c == label else rest for c in CLASSES]


def test_a_clip_is_classified_whole_with_the_pipeline_features(bundle) -> None:
    clip = recording(tone(0.4), name="clip.wav")

    analysis = inference.analyze(clip, bundle)

    prediction = analysis.prediction
    assert not prediction.timeline and len(prediction.segments) == 1
    assert prediction.label in CLASSES
    assert sum(prediction.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert set(prediction.to_dict()) == {"file", "label", "probabilities", "duration_s"}
    np.testing.assert_array_equal(analysis.features.iloc[0], features.extract_one(clip.samples))


def test_a_slightly_longer_clip_is_still_one_clip(bundle) -> None:
    clip = recording(tone(0.4 + inference.SINGLE_CLIP_TOLERANCE_S))

    assert not inference.analyze(clip, bundle).prediction.timeline


def test_a_quiet_clip_is_classified_anyway(bundle) -> None:
    prediction = inference.analyze(recording(silence(0.4)), bundle).prediction

    assert prediction.label in CLASSES
    assert not prediction.segments[0].silent


def test_long_recording_timeline_skips_silent_windows(bundle) -> None:
    rec = recording(tone(0.8), silence(0.8), tone(0.8, freq=300))

    analysis = inference.analyze(rec, bundle)

    prediction = analysis.prediction
    segments = prediction.segments
    assert prediction.timeline
    assert [s.start_s for s in segments] == pytest.approx([0.4 * i for i in range(6)])
    assert [s.end_s for s in segments] == pytest.approx([0.4 * (i + 1) for i in range(6)])
    assert [s.silent for s in segments] == [False, False, True, True, False, False]
    assert [s.label is None for s in segments] == [False, False, True, True, False, False]
    assert list(analysis.features.index) == [0, 1, 4, 5]
    summary = prediction.summary
    assert (summary.segments, summary.silent, summary.classified) == (6, 2, 4)
    labels = [s.label for s in segments]
    assert summary.shares == {c: labels.count(c) / 4 for c in CLASSES}
    out = prediction.to_dict()
    assert len(out["segments"]) == 6 and out["summary"]["classified"] == 4


def test_file_label_is_the_majority_and_probabilities_the_mean() -> None:
    rec = recording(tone(1.2))  # three windows
    model = FixedModel([onehot("crying"), onehot("junk", 0.99), onehot("crying")])

    prediction = inference.analyze(rec, model).prediction

    assert prediction.label == "crying"  # 2 of 3 windows, although junk has the top probability
    expected = np.mean([onehot("crying"), onehot("junk", 0.99), onehot("crying")], axis=0)
    assert list(prediction.probabilities.values()) == pytest.approx(expected, abs=1e-6)
    assert prediction.summary.shares["crying"] == pytest.approx(2 / 3)


def test_a_tie_goes_to_the_higher_mean_probability() -> None:
    rec = recording(tone(0.8))  # two windows
    model = FixedModel([onehot("laughing", 0.6), onehot("canonical", 0.9)])

    assert inference.analyze(rec, model).prediction.label == "canonical"


def test_an_all_silent_recording_has_no_label(bundle) -> None:
    prediction = inference.analyze(recording(silence(2.0)), bundle).prediction

    assert prediction.timeline and prediction.label is None and prediction.probabilities is None
    assert prediction.summary.classified == 0
    assert set(prediction.summary.shares.values()) == {0.0}


def test_window_and_hop_are_honoured(bundle) -> None:
    rec = recording(tone(2.0))

    segments = inference.analyze(rec, bundle, window_s=0.4, hop_s=0.2).prediction.segments

    assert [s.start_s for s in segments] == pytest.approx([0.2 * i for i in range(9)])


def test_many_recordings_share_one_batch_and_keep_their_rows(bundle) -> None:
    recs = [recording(tone(0.4), name="a"), recording(tone(1.2), name="b")]
    done: list[int] = []

    analyses = inference.analyze_many(recs, bundle, progress=lambda d, t: done.append(t))

    assert [a.prediction.file for a in analyses] == ["a", "b"]
    assert [len(a.features) for a in analyses] == [1, 3]
    assert done and set(done) == {4}
    second = analyses[1]
    assert list(second.features.columns) == list(features.feature_names())
    assert list(second.probabilities.columns) == list(CLASSES)
    assert list(second.probabilities.idxmax(axis=1)) == [
        s.label for s in second.prediction.segments
    ]


def test_a_clip_whose_features_fail_reports_the_error(bundle, monkeypatch) -> None:
    def fail(samples: np.ndarray, *_: object) -> np.ndarray:
        raise ValueError("openSMILE produced no functionals")

    monkeypatch.setattr(features, "extract_one", fail)

    prediction = inference.analyze(recording(tone(0.4)), bundle).prediction

    assert prediction.label is None
    assert prediction.error == "openSMILE produced no functionals"


# --- the `vocalbaby predict` command (the same core, offline) --------------------------------


def test_predict_command_writes_one_csv_row_per_segment(bundle, tmp_path) -> None:
    bundle.save(tmp_path / "model")
    clips = tmp_path / "clips"
    (clips / "sub").mkdir(parents=True)
    sf.write(clips / "a.wav", tone(0.4), RATE)
    sf.write(clips / "sub" / "long.flac", np.concatenate([tone(0.8), silence(0.8)]), RATE)
    (clips / "bad.ogg").write_text("not audio")
    out = tmp_path / "labels.csv"

    result = CliRunner().invoke(
        app, ["predict", str(clips), "--model", str(tmp_path / "model"), "--out", str(out)]
    )

    assert result.exit_code == 0, result.output
    assert "unreadable: " in result.output and "bad.ogg" in result.output
    table = pd.read_csv(out)
    assert list(table.columns) == [
        "file", "start_s", "end_s", "label", "silent", *CLASSES, "error"
    ]  # fmt: skip
    assert list(table["file"].map(lambda f: f.rsplit("/", 1)[-1])) == ["a.wav"] + ["long.flac"] * 4
    assert list(table["silent"]) == [False, False, False, True, True]
    assert table["label"].isna().tolist() == [False, False, False, True, True]


def test_predict_command_fails_only_when_every_file_fails(bundle, tmp_path) -> None:
    bundle.save(tmp_path / "model")
    (tmp_path / "bad.wav").write_bytes(b"RIFF")

    result = CliRunner().invoke(
        app, ["predict", str(tmp_path / "bad.wav"), "--model", str(tmp_path / "model")]
    )

    assert result.exit_code == 1
    assert '"errors"' in result.output and "bad.wav" in result.output
