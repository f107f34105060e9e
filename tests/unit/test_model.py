import numpy as np
import pandas as pd
import pytest

from vocalbaby import model, training
from vocalbaby.labels import CLASSES
from vocalbaby.model import ModelBundle, ModelError


@pytest.fixture(scope="module")
def toy_data() -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    labels = pd.Series(np.repeat(CLASSES, [40, 60, 15, 8, 50]))
    centres = {c: i * 2.0 for i, c in enumerate(CLASSES)}
    x = rng.standard_normal((len(labels), 6)) + labels.map(centres).to_numpy()[:, None]
    features = pd.DataFrame(x, columns=[f"f{i}" for i in range(6)])
    features.iloc[::7, 2] = np.nan
    return features, labels


def test_bundle_round_trip_gives_identical_probabilities(tmp_path, toy_data) -> None:
    features, labels = toy_data
    bundle = training.train(features, labels, training.DEFAULT_PARAMS)
    bundle.metadata = {"version": "v1", "uar": 0.9}
    bundle.save(tmp_path / "v1")
    loaded = ModelBundle.load(tmp_path / "v1")
    pd.testing.assert_frame_equal(bundle.predict_proba(features), loaded.predict_proba(features))
    assert loaded.classes == list(CLASSES)
    assert loaded.version == "v1"
    assert loaded.feature_config["feature_set"] == "eGeMAPSv02"
    assert sorted(p.name for p in (tmp_path / "v1").iterdir()) == [
        "booster.json",
        "bundle.json",
        "imputer.json",
    ]


def test_probabilities_sum_to_one_and_nan_features_are_imputed(toy_data) -> None:
    features, labels = toy_data
    bundle = training.train(features, labels, training.DEFAULT_PARAMS)
    proba = bundle.predict_proba(features.assign(f2=np.nan))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert list(proba.columns) == list(CLASSES)


def test_missing_feature_columns_are_named(toy_data) -> None:
    features, labels = toy_data
    bundle = training.train(features, labels, training.DEFAULT_PARAMS)
    with pytest.raises(ModelError, match=r"missing feature column\(s\): \['f3'\]"):
        bundle.predict_proba(features.drop(columns="f3"))


def test_latest_pointer_and_missing_bundle(tmp_path, toy_data) -> None:
    features, labels = toy_data
    bundle = training.train(features, labels, training.DEFAULT_PARAMS)
    bundle.metadata = {"version": "v7"}
    uri = bundle.save(tmp_path / "models" / "v7")
    model.publish_latest(str(tmp_path / "models"), uri, "v7")
    assert ModelBundle.load(tmp_path / "models").version == "v7"
    with pytest.raises(ModelError, match="not a model bundle"):
        ModelBundle.load(tmp_path / "nothing")
