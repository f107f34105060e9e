"""A model trained on ComParE_2016 features: the bundle records the set and serving computes it."""

import numpy as np
import pandas as pd
import pytest

from tests.audio_files import tone
from vocalbaby import audio, features, inference, training
from vocalbaby.labels import CLASSES
from vocalbaby.model import ModelBundle

SET = "ComParE_2016"


@pytest.fixture(scope="module")
def compare_bundle() -> ModelBundle:
    signals = [(0.2 + 0.1 * (i % 7)) * tone(0.4, freq=200 + 37 * i) for i in range(20)]
    x = features.extract(signals, feature_set=SET)
    labels = pd.Series([CLASSES[i % 5] for i in range(20)])
    return training.train(x, labels, {**training.DEFAULT_PARAMS, "num_boost_round": 10})


def test_the_bundle_records_the_feature_set_of_its_columns(compare_bundle, tmp_path) -> None:
    assert compare_bundle.feature_set == SET
    assert compare_bundle.feature_config == features.extractor_config(SET)
    assert len(compare_bundle.feature_names) == len(features.feature_names(SET)) > 6000
    loaded = ModelBundle.load(compare_bundle.save(tmp_path / "bundle"))
    assert loaded.feature_set == SET


def test_serving_extracts_the_bundles_feature_set(compare_bundle) -> None:
    samples = np.concatenate([tone(0.4, freq=f) for f in (220, 330)])
    analysis = inference.analyze(
        audio.from_array(samples, audio.SAMPLE_RATE, "r.wav"), compare_bundle
    )
    windows = features.extract([samples[:6400], samples[6400:]], feature_set=SET)
    assert list(analysis.features.columns) == list(features.feature_names(SET))
    np.testing.assert_array_equal(analysis.features.to_numpy(), windows.to_numpy())
    expected = compare_bundle.predict_proba(windows, ["r.wav"] * 2)
    np.testing.assert_allclose(analysis.probabilities.to_numpy(), expected.to_numpy(), rtol=1e-6)


def test_an_egemaps_bundle_still_serves_egemaps(tmp_path) -> None:
    x = features.extract([tone(0.4, freq=200 + 50 * i) for i in range(10)])
    bundle = training.train(
        x, pd.Series([CLASSES[i % 5] for i in range(10)]), training.DEFAULT_PARAMS
    )
    assert bundle.feature_set == features.DEFAULT_FEATURE_SET
    clip = audio.from_array(tone(0.4), audio.SAMPLE_RATE, "c.wav")
    assert len(inference.analyze(clip, bundle).features.columns) == 88
