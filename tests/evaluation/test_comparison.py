"""The model zoo on child-disjoint folds: comparison table and learning curve (synthetic data)."""

from itertools import pairwise

import numpy as np
import pandas as pd
import pytest

from tests.evaluation import synthetic
from vocalbaby import comparison, plots, training

FAST = training.DEFAULT_PARAMS | {"num_boost_round": 30}


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    return synthetic.features()


@pytest.fixture(scope="module")
def predictions(data) -> pd.DataFrame:
    return comparison.cross_validate(*data, FAST, folds=4, fractions=(0.1, 0.25, 1.0))


def test_every_clip_is_predicted_once_per_model_and_size_by_a_model_that_never_saw_its_child(
    data, predictions
) -> None:
    _, labels, _ = data
    counts = predictions.groupby(["model", "fraction"]).size()
    assert set(counts) == {len(labels)}
    assert set(predictions["model"]) == set(comparison.MODELS)
    sizes = predictions.groupby("fraction")["train_children"].mean()
    assert sizes[0.1] == 2 and sizes[0.25] < sizes[1.0] == 18  # 24 children, 4 folds


def test_comparison_table_has_every_model_with_mean_uar_and_intervals(predictions) -> None:
    table = comparison.comparison_table(predictions, n_boot=300)
    assert list(table.index) == list(table.sort_values("uar_mean", ascending=False).index)
    assert set(table.index) == set(comparison.MODELS)
    for _, row in table.iterrows():
        assert row["ci_low"] <= row["uar_mean"] <= row["ci_high"]
        assert row["pooled_ci_low"] <= row["pooled_uar"] <= row["pooled_ci_high"]
        assert row["folds"] == 4
    assert table.loc["majority class", "uar_mean"] == pytest.approx(0.2)
    assert table.loc[comparison.REFERENCE, "uar_mean"] > 0.45
    assert plots.comparison_png(table).startswith(b"\x89PNG")


def test_learning_curve_rises_with_more_children(predictions) -> None:
    curve = comparison.learning_curve(predictions)
    assert list(curve["model"].unique()) == list(comparison.MODELS)
    uar = curve.pivot(index="model", columns="fraction", values="uar_mean")
    learners = uar.drop(index="majority class")
    assert (learners[1.0] > learners[[0.1, 0.25]].max(axis=1)).all()
    assert learners[0.1].mean() < learners[0.25].mean() < learners[1.0].mean()
    assert (curve["ci_low"] <= curve["uar_mean"]).all()
    assert plots.learning_curve_png(curve).startswith(b"\x89PNG")


def test_smaller_training_sets_are_nested() -> None:
    order = np.array([f"kid{i}" for i in range(20)])
    sizes = [comparison.first_children(order, f) for f in (0.01, 0.1, 0.25, 0.5, 1.0)]
    assert [len(s) for s in sizes] == [2, 2, 5, 10, 20]
    assert all(set(a) <= set(b) for a, b in pairwise(sizes))


def test_balance_options_of_the_xgboost_variants(data) -> None:
    features, labels, _ = data
    smote = training.prepare(features, labels, balance="smote")
    weights = training.prepare(features, labels, balance="weights")
    none = training.prepare(features, labels, balance="none")
    assert len(set(smote.class_counts().values())) == 1 and smote.weights is None
    assert len(weights.labels) == len(none.labels) == len(labels)
    assert not weights.synthetic.any() and none.weights is None
    per_class = pd.Series(weights.weights).groupby(weights.labels).sum()
    np.testing.assert_allclose(per_class, len(labels) / labels.nunique())  # classes weigh equally
