"""Model comparison with nested tuning on child-disjoint folds, and the learning curve
(synthetic feature tables)."""

from itertools import pairwise

import numpy as np
import pandas as pd
import pytest

from tests.evaluation import synthetic
from vocalbaby import baselines, comparison, plots, training
from vocalbaby.comparison import Candidate
from vocalbaby.training import Param

FAST_SPACE = {
    "num_boost_round": Param(10, 30, step=10, integer=True),
    "max_depth": Param(2, 4, integer=True),
}
QUICK = {
    comparison.REFERENCE: Candidate(comparison.CANDIDATES[comparison.REFERENCE].build, FAST_SPACE),
    baselines.COMPARE_RECIPE: comparison.CANDIDATES[baselines.COMPARE_RECIPE],
    "logistic regression": comparison.CANDIDATES["logistic regression"],
    baselines.MAJORITY: comparison.CANDIDATES[baselines.MAJORITY],
}


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    return synthetic.features()


@pytest.fixture(scope="module")
def compared(data) -> tuple[pd.DataFrame, dict]:
    return comparison.cross_validate(*data, QUICK, folds=4, trials=3, inner_folds=2)


def test_every_clip_is_predicted_once_per_model_by_a_model_that_never_saw_its_child(
    data, compared
) -> None:
    _, labels, groups = data
    predictions, params = compared
    assert set(predictions.groupby("model").size()) == {len(labels)}
    assert set(predictions["model"]) == set(QUICK)
    one_model = predictions[predictions["model"] == comparison.REFERENCE]
    assert (one_model.groupby("group")["fold"].nunique() == 1).all(), "each child held out once"
    assert set(one_model["group"]) == set(groups)
    assert set(params) == {(name, fold) for name in QUICK for fold in range(4)}
    assert params[baselines.MAJORITY, 0] == {}
    assert set(params[comparison.REFERENCE, 0]) == set(FAST_SPACE)


def test_tuning_inside_a_fold_sees_only_that_fold_s_training_children(data) -> None:
    seen: list[set[str]] = []

    def recording(seed: int) -> training.Fit:
        def fit(x, y, groups, params):
            seen.append(set(groups))
            return training.train(x, y, training.DEFAULT_PARAMS | {"num_boost_round": 5})

        return fit

    features, labels, groups = data
    candidates = {"recorder": Candidate(recording, {"c": Param(0.0, 1.0)})}
    predictions, _ = comparison.cross_validate(
        features, labels, groups, candidates, folds=3, trials=2, inner_folds=2
    )
    per_fold = 2 * 2 + 1  # 2 trials x 2 inner folds, then the refit on the fold's training part
    assert len(seen) == 3 * per_fold
    for fold, rows in predictions.groupby("fold"):
        held_out = set(rows["group"])
        fits = seen[fold * per_fold : (fold + 1) * per_fold]
        assert all(not children & held_out for children in fits), f"fold {fold}"
        assert fits[-1] == set(groups) - held_out  # the refit: all the fold's training children


def test_pooled_scores_have_child_intervals_and_paired_differences(compared) -> None:
    predictions, _ = compared
    table = comparison.pooled_scores(predictions, n_boot=300)
    assert list(table["uar"]) == sorted(table["uar"], reverse=True)
    assert set(table["model"]) == set(QUICK)
    assert ((table["uar_low"] <= table["uar"]) & (table["uar"] <= table["uar_high"])).all()
    rows = table.set_index("model")
    assert rows.loc[baselines.MAJORITY, "uar"] == pytest.approx(0.2)
    assert np.isnan(rows.loc[baselines.COMPARE_RECIPE, "vs_reference"])
    reference = rows.loc[comparison.REFERENCE]
    assert reference["vs_low"] <= reference["vs_reference"] <= reference["vs_high"]
    expected = reference["uar"] - rows.loc[baselines.COMPARE_RECIPE, "uar"]
    assert reference["vs_reference"] == pytest.approx(expected)
    assert plots.comparison_png(table).startswith(b"\x89PNG")


def test_learning_curve_reuses_the_folds_parameters_and_rises(data, compared) -> None:
    predictions, params = compared
    smaller, reused = comparison.cross_validate(
        *data, QUICK, folds=4, fractions=(0.1, 0.25), params=params
    )
    assert reused == params, "no tuning again"
    curve = comparison.pooled_scores(pd.concat([smaller, predictions]), n_boot=200)
    uar = curve.pivot(index="model", columns="fraction", values="uar")
    learners = uar.drop(index=baselines.MAJORITY)
    assert learners[0.1].mean() < learners[1.0].mean()
    sizes = curve.groupby("fraction")["train_children"].mean()
    assert sizes[0.1] == 2 and sizes[0.25] < sizes[1.0] == 18  # 24 children, 4 folds
    assert plots.learning_curve_png(curve).startswith(b"\x89PNG")


def test_smaller_training_sets_are_nested() -> None:
    order = np.array([f"kid{i}" for i in range(20)])
    sizes = [comparison.first_children(order, f) for f in (0.01, 0.1, 0.25, 0.5, 1.0)]
    assert [len(s) for s in sizes] == [2, 2, 5, 10, 20]
    assert all(set(a) <= set(b) for a, b in pairwise(sizes))


def test_the_compare_recipe_repeats_whole_classes_as_the_official_script() -> None:
    labels = pd.Series(["junk"] * 10 + ["crying"] * 3 + ["laughing"] * 4)
    features = pd.DataFrame({"f": np.arange(len(labels), dtype=float)})
    x, y = baselines.upsample(features, labels)
    assert y.value_counts().to_dict() == {"junk": 10, "crying": 9, "laughing": 8}  # 10 // n
    assert set(x["f"]) == set(features["f"]), "every original clip is kept"
    again, _ = baselines.upsample(features, labels)
    pd.testing.assert_frame_equal(x, again)  # no random draw


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
