"""The linear SVM family: scikit-learn's answers from JSON arrays, in a bundle like XGBoost's."""

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import LinearSVC

from tests.audio_files import tone
from vocalbaby import audio, baselines, features, inference, training
from vocalbaby.labels import CLASSES
from vocalbaby.linear import LinearClassifier
from vocalbaby.model import LINEAR_FILE, ModelBundle


def _blobs(classes: list[str], n: int = 40, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, size=(len(classes), 6))
    rows = np.vstack([centres[i] + rng.normal(0, 1.5, size=(n, 6)) for i in range(len(classes))])
    x = pd.DataFrame(rows * [1, 10, 100, 0.1, 5, 50], columns=[f"f{i}" for i in range(6)])
    return x, pd.Series(np.repeat(classes, n), name="label")


@pytest.mark.parametrize("classes", [list(CLASSES), ["crying", "junk"]])
def test_scores_and_classes_match_scikit_learns_pipeline(classes: list[str]) -> None:
    x, y = _blobs(classes)
    ours = LinearClassifier.fit(x, y, c=0.1)
    theirs = make_pipeline(MinMaxScaler(), LinearSVC(C=0.1, random_state=0)).fit(x, y)
    values = x.to_numpy(float)
    predicted = np.asarray(ours.classes)[ours.predict_proba(values).argmax(axis=1)]
    np.testing.assert_array_equal(predicted, theirs.predict(x))
    decision = theirs.decision_function(x)
    expected = decision if len(classes) > 2 else np.column_stack([-decision, decision])
    np.testing.assert_allclose(ours.decision(values), expected, rtol=1e-9, atol=1e-9)
    assert np.mean(predicted == y) > 0.8  # it learned the blobs


def test_a_linear_bundle_round_trips_through_json_and_gives_untrained_classes_zero(
    tmp_path,
) -> None:
    x, y = _blobs(["crying", "junk"])
    x.iloc[0, 2] = np.nan  # imputed with the training median, as XGBoost bundles are
    bundle = training.train(x, y, {"C": 0.1}, family="linear_svm")
    assert bundle.family == "linear_svm" and bundle.booster is None
    loaded = ModelBundle.load(bundle.save(tmp_path / "b"))
    assert (tmp_path / "b" / LINEAR_FILE).is_file()
    assert not (tmp_path / "b" / "booster.json").exists()
    assert loaded.family == "linear_svm"
    proba = loaded.predict_proba(x)
    pd.testing.assert_frame_equal(proba, bundle.predict_proba(x))
    assert list(proba.columns) == list(CLASSES)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (proba[["canonical", "non_canonical", "laughing"]] == 0).all().all()
    assert (loaded.predict(x) == y).mean() > 0.8
    share = loaded.importance()
    assert share.sum() == pytest.approx(1.0) and set(share.index) == set(x.columns)


def test_a_fold_of_one_class_gives_the_model_that_predicts_it() -> None:
    x, _ = _blobs(["junk"])
    bundle = training.train(x, pd.Series("junk", index=x.index), {"C": 0.1}, family="linear_svm")
    assert bundle.linear.classes == ["junk"]
    assert (bundle.predict(x) == "junk").all()
    x2, y2 = _blobs(["crying", "junk"], n=12)
    corpora = pd.Series(np.where(y2 == "junk", "only-junk", "mixed"))  # holding out a corpus
    corpora[: len(y2) // 4] = "only-crying"  # leaves one class in some training folds
    c, score = training.choose_c(x2, y2, corpora, folds=3)
    assert c in baselines.COMPARE_C_GRID and 0 <= score <= 1


def test_temperature_never_changes_the_linear_bundles_class() -> None:
    x, y = _blobs(list(CLASSES))
    bundle = training.train(x, y, {"C": 0.1}, family="linear_svm")
    before = bundle.predict(x)
    bundle.temperature = 3.0
    pd.testing.assert_series_equal(bundle.predict(x), before)


def test_choose_c_picks_a_grid_value_by_grouped_cv() -> None:
    x, y = _blobs(list(CLASSES), n=24)
    groups = pd.Series(np.tile(np.arange(8), len(y) // 8)).astype(str)
    c, score = training.choose_c(x, y, groups, folds=3)
    assert c in baselines.COMPARE_C_GRID
    assert score > 0.5


def test_a_linear_fit_without_c_chooses_one() -> None:
    x, y = _blobs(list(CLASSES), n=24)
    groups = pd.Series(np.tile(np.arange(8), len(y) // 8)).astype(str)
    model = training.linear_fit()(x, y, groups, {})
    assert model.linear.c in baselines.COMPARE_C_GRID
    assert model.linear.c == training.choose_c(x, y, groups)[0]


def test_serving_a_linear_bundle_gives_what_the_bundle_says() -> None:
    signals = [(0.2 + 0.1 * (i % 7)) * tone(0.4, freq=200 + 37 * i) for i in range(20)]
    x = features.extract(signals)
    labels = pd.Series([CLASSES[i % 5] for i in range(20)])
    bundle = training.train(x, labels, {"C": 1.0}, family="linear_svm")
    samples = np.concatenate([tone(0.4, freq=f) for f in (220, 330)])
    analysis = inference.analyze(audio.from_array(samples, audio.SAMPLE_RATE, "r.wav"), bundle)
    windows = features.extract([samples[:6400], samples[6400:]])
    expected = bundle.predict_proba(windows)
    np.testing.assert_allclose(analysis.probabilities.to_numpy(), expected.to_numpy(), rtol=1e-9)


def test_an_unknown_family_is_refused() -> None:
    x, y = _blobs(["crying", "junk"])
    with pytest.raises(ValueError, match="unknown model family 'svm'"):
        training.train(x, y, {"C": 0.1}, family="svm")
