"""Model comparison and learning curves on child-disjoint folds.

Every model of :data:`MODELS` is fitted on the same grouped folds (no child on both sides) and
scored on the same held-out children. A model is a function ``(features, labels, groups, params,
seed) -> predictor`` whose predictor has ``predict(features)``; the XGBoost variants get the
tuned parameters, the others fixed, conventional settings.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from vocalbaby import baselines, evaluation, metrics, training

REFERENCE = "xgboost (tuned, SMOTE)"


class Predictor(Protocol):
    """A fitted model."""

    def predict(self, features: pd.DataFrame) -> Sequence[str]:
        """The predicted class of each row."""


Params = Mapping[str, float | int]
Fit = Callable[[pd.DataFrame, pd.Series, pd.Series, Params, int], Predictor]


def xgboost(balance: training.Balance) -> Fit:
    """The pipeline's XGBoost (imputation + ``balance`` + tuned parameters), one thread."""

    def fit(
        x: pd.DataFrame, y: pd.Series, groups: pd.Series, params: Params, seed: int
    ) -> Predictor:
        return training.train(x, y, params, seed, n_jobs=1, balance=balance)

    return fit


def compare_svm(
    x: pd.DataFrame, y: pd.Series, groups: pd.Series, params: Params, seed: int
) -> Predictor:
    """The ComParE 2019 procedure; C is chosen on a grouped hold-out of the training children."""
    inner, held = training.grouped_folds(y, groups, folds=min(4, groups.nunique()), seed=seed)[0]
    return baselines.fit_compare_svm(
        (x.iloc[inner], y.iloc[inner]), (x.iloc[held], y.iloc[held]), seed
    )


def random_forest(
    x: pd.DataFrame, y: pd.Series, groups: pd.Series, params: Params, seed: int
) -> Predictor:
    """200 trees with balanced class weights (median imputation)."""
    forest = RandomForestClassifier(
        n_estimators=200, class_weight="balanced", n_jobs=1, random_state=seed
    )
    return make_pipeline(_imputer(), forest).fit(x, y)


def logistic_regression(
    x: pd.DataFrame, y: pd.Series, groups: pd.Series, params: Params, seed: int
) -> Predictor:
    """Multinomial logistic regression on standardised features, balanced class weights."""
    model = LogisticRegression(class_weight="balanced", max_iter=5000, random_state=seed)
    return make_pipeline(_imputer(), StandardScaler(), model).fit(x, y)


def _imputer() -> SimpleImputer:
    return SimpleImputer(strategy="median", keep_empty_features=True)


@dataclass(frozen=True)
class _Majority:
    labels: pd.Series

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        return baselines.majority(self.labels, len(features))


def majority(
    x: pd.DataFrame, y: pd.Series, groups: pd.Series, params: Params, seed: int
) -> Predictor:
    """The most frequent training class: the chance line."""
    return _Majority(y)


MODELS: dict[str, Fit] = {
    REFERENCE: xgboost("smote"),
    "xgboost (no SMOTE)": xgboost("none"),
    "xgboost (class weights)": xgboost("weights"),
    "ComParE SVM": compare_svm,
    "random forest": random_forest,
    "logistic regression": logistic_regression,
    "majority class": majority,
}


def first_children(order: np.ndarray, fraction: float) -> np.ndarray:
    """The first ``fraction`` of the children in ``order`` (at least two).

    Taking prefixes of one random order nests smaller fractions inside larger ones, which makes
    a learning curve less noisy.
    """
    return order[: max(2, math.ceil(fraction * len(order)))]


def _training_parts(
    groups: pd.Series, train_idx: np.ndarray, fractions: Sequence[float], seed: list[int]
) -> Iterator[tuple[float, np.ndarray]]:
    """Each fraction with the positions of its training clips: nested prefixes of one random
    order of the fold's training children."""
    train_groups = groups.iloc[train_idx].astype(str)
    order = np.random.default_rng(seed).permutation(train_groups.unique())
    for fraction in fractions:
        yield fraction, train_idx[train_groups.isin(first_children(order, fraction)).to_numpy()]


def cross_validate(
    features: pd.DataFrame,
    labels: pd.Series,
    groups: pd.Series,
    params: Params,
    models: Mapping[str, Fit] = MODELS,
    folds: int = 4,
    fractions: Sequence[float] = (1.0,),
    seed: int = 0,
) -> pd.DataFrame:
    """Out-of-fold predictions of every model trained on each fraction of each fold's children.

    One row per (model, fraction, fold, held-out clip): ``label``, ``group``, ``prediction`` and
    the size of the training part (``train_children``, ``train_clips``).
    """
    features, labels, groups = (x.reset_index(drop=True) for x in (features, labels, groups))
    frames = []
    for fold, (train_idx, test_idx) in enumerate(
        training.grouped_folds(labels, groups, folds, seed)
    ):
        held_out = pd.DataFrame(
            {"label": labels.iloc[test_idx].to_numpy(), "group": groups.iloc[test_idx].to_numpy()}
        )
        for fraction, part in _training_parts(groups, train_idx, fractions, [seed, fold]):
            x, y, g = features.iloc[part], labels.iloc[part], groups.iloc[part]
            for name, fit in models.items():
                predicted = fit(x, y, g, params, seed).predict(features.iloc[test_idx])
                frames.append(
                    held_out.assign(
                        model=name,
                        fraction=fraction,
                        fold=fold,
                        train_children=g.nunique(),
                        train_clips=len(part),
                        prediction=np.asarray(predicted, dtype=object),
                    )
                )
    return pd.concat(frames, ignore_index=True)


def fold_scores(predictions: pd.DataFrame) -> pd.DataFrame:
    """UAR and macro-F1 of each (model, fraction, fold), with the training part's size."""

    def score(rows: pd.DataFrame) -> pd.Series:
        result = metrics.report(rows["label"], rows["prediction"])
        return pd.Series(
            {
                "uar": result["uar"],
                "macro_f1": result["macro_f1"],
                "train_children": rows["train_children"].iloc[0],
                "train_clips": rows["train_clips"].iloc[0],
            }
        )

    keys = ["model", "fraction", "fold"]
    return predictions.groupby(keys, sort=False)[predictions.columns].apply(score).reset_index()


def summary(scores: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Mean UAR over folds with a t-interval, per model and fraction (models in given order)."""

    def summarise(rows: pd.DataFrame) -> pd.Series:
        uar = evaluation.t_interval(rows["uar"], level)
        return pd.Series(
            {
                "uar_mean": uar["estimate"],
                "ci_low": uar["low"],
                "ci_high": uar["high"],
                "uar_sd": rows["uar"].std(ddof=1),
                "macro_f1_mean": rows["macro_f1"].mean(),
                "train_children": rows["train_children"].mean(),
                "train_clips": rows["train_clips"].mean(),
                "folds": len(rows),
            }
        )

    return scores.groupby(["model", "fraction"], sort=False)[scores.columns].apply(summarise)


def comparison_table(
    predictions: pd.DataFrame, n_boot: int = 1000, level: float = 0.95, seed: int = 0
) -> pd.DataFrame:
    """Per model: mean fold UAR with its t-interval over folds, and the UAR of all out-of-fold
    predictions pooled with its child-bootstrap interval; best mean UAR first."""
    full = predictions[predictions["fraction"] == predictions["fraction"].max()]
    table = summary(fold_scores(full), level).droplevel("fraction")
    pooled = {
        name: evaluation.intervals(
            rows["label"], rows["prediction"], rows["group"], n_boot=n_boot, level=level, seed=seed
        )["uar"]
        for name, rows in full.groupby("model", sort=False)
    }
    table["pooled_uar"] = [pooled[m]["estimate"] for m in table.index]
    table["pooled_ci_low"] = [pooled[m]["low"] for m in table.index]
    table["pooled_ci_high"] = [pooled[m]["high"] for m in table.index]
    return table.drop(columns=["train_children", "train_clips"]).sort_values(
        "uar_mean", ascending=False
    )


def learning_curve(predictions: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Mean UAR and its t-interval over folds per model and training fraction (long format,
    models in order of appearance, fractions ascending)."""
    curve = summary(fold_scores(predictions), level).reset_index()
    order = {name: i for i, name in enumerate(predictions["model"].unique())}
    by_model = curve["model"].map(order)
    return curve.iloc[np.lexsort((curve["fraction"], by_model))].reset_index(drop=True)
