"""Per-recording normalisation: what it removes, its shrinkage, the bundle, and serving parity."""

import numpy as np
import pandas as pd
import pytest

from tests.audio_files import tone
from vocalbaby import audio, features, inference, training
from vocalbaby.labels import CLASSES
from vocalbaby.model import ModelBundle
from vocalbaby.normalisation import RecordingNormalisation

RNG = np.random.default_rng(0)


def table(rows: int, columns: int = 4) -> pd.DataFrame:
    return pd.DataFrame(RNG.normal(size=(rows, columns)), columns=[f"f{i}" for i in range(columns)])


def test_a_recordings_channel_shift_is_removed() -> None:
    clips = table(6)
    shifted = clips + np.array([5.0, -3.0, 0.5, 10.0])
    both = pd.concat([clips, shifted], ignore_index=True)
    norm = RecordingNormalisation.fit(both, prior_clips=0.0)
    out = norm.apply(both, ["a"] * 6 + ["b"] * 6)
    np.testing.assert_allclose(out.iloc[:6].to_numpy(), out.iloc[6:].to_numpy(), atol=1e-12)
    np.testing.assert_allclose(out.groupby(np.repeat([0, 1], 6)).mean().to_numpy(), 0, atol=1e-12)


def test_the_centre_is_shrunk_towards_the_training_mean() -> None:
    train = table(50)
    norm = RecordingNormalisation.fit(train, prior_clips=3.0)
    clip = table(1)
    alone = norm.apply(clip)  # a single clip is its own recording
    expected = (clip - train.mean()) / train.std() * 3 / (1 + 3)
    np.testing.assert_allclose(alone.to_numpy(), expected.to_numpy())
    four = table(4)
    found = norm.apply(four, ["r"] * 4)
    centre = 4 / 7 * four.mean() + 3 / 7 * train.mean()
    np.testing.assert_allclose(found.to_numpy(), ((four - centre) / train.std()).to_numpy())


def test_missing_values_stay_missing_and_a_constant_feature_is_not_divided_by_zero() -> None:
    train = table(20).assign(f3=1.0)
    norm = RecordingNormalisation.fit(train, prior_clips=1.0)
    assert norm.scale["f3"] == 1.0
    clips = table(3).assign(f3=1.0)
    clips.iloc[0, 0] = np.nan
    clips["f1"] = np.nan
    out = norm.apply(clips, ["r"] * 3)
    assert out.iloc[0, 0] != out.iloc[0, 0] and out["f1"].isna().all()
    assert np.isfinite(out.drop(columns="f1").iloc[1:]).all().all()
    with pytest.raises(ValueError, match="prior_clips"):
        RecordingNormalisation.fit(train, prior_clips=-1)


@pytest.fixture(scope="module")
def normalised_bundle() -> ModelBundle:
    """A small real model on real features of tones, normalised per recording."""
    names = list(features.feature_names())
    signals = [(0.2 + 0.1 * (i % 7)) * tone(0.4, freq=200 + 37 * i) for i in range(30)]
    x = features.extract(signals).set_axis(names, axis=1)
    labels = pd.Series([CLASSES[i % 5] for i in range(30)])
    recordings = pd.Series([f"rec{i // 5}" for i in range(30)])
    params = {**training.DEFAULT_PARAMS, "num_boost_round": 20}
    return training.train(x, labels, params, recordings=recordings, prior_clips=1.0)


def test_the_bundle_stores_its_normalisation_and_predicts_the_same_after_loading(
    normalised_bundle: ModelBundle, tmp_path
) -> None:
    loaded = ModelBundle.load(normalised_bundle.save(tmp_path / "bundle"))
    assert loaded.normalisation.to_dict() == normalised_bundle.normalisation.to_dict()
    x = table(6, 88).set_axis(normalised_bundle.feature_names, axis=1)
    groups = ["a", "a", "a", "b", "b", "c"]
    pd.testing.assert_frame_equal(
        loaded.predict_proba(x, groups), normalised_bundle.predict_proba(x, groups)
    )
    assert not np.allclose(loaded.predict_proba(x, groups), loaded.predict_proba(x))


def test_serving_normalises_an_uploaded_recording_over_its_own_windows(
    normalised_bundle: ModelBundle,
) -> None:
    samples = np.concatenate([tone(0.4, freq=f) for f in (220, 330, 495)])
    recording = audio.from_array(samples, audio.SAMPLE_RATE, "rec.wav")
    analysis = inference.analyze(recording, normalised_bundle)
    windows = features.extract([samples[i * 6400 : (i + 1) * 6400] for i in range(3)])
    expected = normalised_bundle.predict_proba(windows, ["rec.wav"] * 3)
    np.testing.assert_allclose(analysis.probabilities.to_numpy(), expected.to_numpy(), rtol=1e-6)
    alone = normalised_bundle.predict_proba(windows)
    assert not np.allclose(analysis.probabilities.to_numpy(), alone.to_numpy())
    single = inference.analyze(
        audio.from_array(samples[:6400], audio.SAMPLE_RATE, "clip.wav"), normalised_bundle
    )
    np.testing.assert_allclose(
        single.probabilities.to_numpy(), alone.iloc[:1].to_numpy(), rtol=1e-6
    )
