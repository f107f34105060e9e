"""Model comparison and learning curves on child-disjoint folds, with nested tuning.

Every candidate is fitted and scored on the same outer folds (no child on both sides). Inside
each outer fold, every candidate with hyperparameters is tuned on that fold's training children
only (grouped inner CV, seeded TPE, the same number of trials for each), then refit there and
scored on the held-out children: no candidate is tuned on children it is scored on, and none
gets a bigger search. The ComParE recipe chooses its C on its own, as the recipe prescribes (on a
grouped hold-out of the training children). Scores are computed on the pooled out-of-fold
predictions, with intervals that resample children; differences to the ComParE recipe are paired
(the same clips, the same resampled children).

A learning curve reuses each fold's tuned parameters on nested subsets of that fold's training
children (never tuned on anything the subset cannot see).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from vocalbaby import baselines, evaluation, training
from vocalbaby.training import Param, Params, Predictor

REFERENCE = "xgboost (SMOTE)"
LINEAR = "linear SVM (SMOTE)"  # the pipeline's other family (vocalbaby.linear)
Build = Callable[[int], training.Fit]  # seed -> fit(features, labels, groups, params)


@dataclass(frozen=True)
class Candidate:
    """A model family: how to fit it, and what to tune (nothing when ``space`` is empty)."""

    build: Build
    space: Mapping[str, Param] = field(default_factory=dict)
    first: Params | None = None  # tried first when tuning


def _compare_recipe(seed: int) -> training.Fit:
    """The ComParE recipe; its validation part is a grouped hold-out of the training children."""

    def fit(x: pd.DataFrame, y: pd.Series, groups: pd.Series, params: Params) -> Predictor:
        folds = training.grouped_folds(y, groups, folds=min(4, groups.nunique()), seed=seed)
        inner, held = folds[0]
        return baselines.fit_compare_svm(
            (x.iloc[inner], y.iloc[inner]), (x.iloc[held], y.iloc[held])
        )

    return fit


def _random_forest(seed: int) -> training.Fit:
    def fit(x: pd.DataFrame, y: pd.Series, groups: pd.Series, params: Params) -> Predictor:
        forest = RandomForestClassifier(
            n_estimators=100,
            max_depth=int(params.get("max_depth", 0)) or None,
            min_samples_leaf=int(params.get("min_samples_leaf", 1)),
            max_features=float(params.get("max_features", 0.3)),
            class_weight="balanced",
            n_jobs=1,
            random_state=seed,
        )
        return make_pipeline(_imputer(), forest).fit(x, y)

    return fit


def _logistic_regression(seed: int) -> training.Fit:
    def fit(x: pd.DataFrame, y: pd.Series, groups: pd.Series, params: Params) -> Predictor:
        model = LogisticRegression(
            C=float(params.get("C", 1.0)),
            class_weight="balanced",
            max_iter=5000,
            random_state=seed,
        )
        return make_pipeline(_imputer(), StandardScaler(), model).fit(x, y)

    return fit


def _imputer() -> SimpleImputer:
    return SimpleImputer(strategy="median", keep_empty_features=True)


@dataclass(frozen=True)
class _Majority:
    labels: pd.Series

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        return baselines.majority(self.labels, len(features))


def _majority(seed: int) -> training.Fit:
    return lambda x, y, groups, params: _Majority(y)


def _xgboost(balance: training.Balance) -> Build:
    return lambda seed: training.xgboost_fit(seed, n_jobs=2, balance=balance)


XGBOOST = {"space": training.XGBOOST_SPACE, "first": training.DEFAULT_PARAMS}
CANDIDATES: dict[str, Candidate] = {
    REFERENCE: Candidate(_xgboost("smote"), **XGBOOST),
    "xgboost (no SMOTE)": Candidate(_xgboost("none"), **XGBOOST),
    "xgboost (class weights)": Candidate(_xgboost("weights"), **XGBOOST),
    LINEAR: Candidate(
        lambda seed: training.linear_fit(seed), {"C": Param(1e-5, 1.0, log=True)}, {"C": 0.01}
    ),
    baselines.COMPARE_RECIPE: Candidate(_compare_recipe),
    "random forest": Candidate(
        _random_forest,
        {
            "max_depth": Param(0, 24, step=4, integer=True),  # 0: unlimited
            "min_samples_leaf": Param(1, 16, log=True, integer=True),
            "max_features": Param(0.05, 0.6, log=True),
        },
    ),
    "logistic regression": Candidate(_logistic_regression, {"C": Param(1e-3, 1e2, log=True)}),
    baselines.MAJORITY: Candidate(_majority),
}


def tuned_params(
    candidate: Candidate,
    x: pd.DataFrame,
    y: pd.Series,
    groups: pd.Series,
    trials: int,
    inner_folds: int,
    seed: int,
) -> Params:
    """The candidate's best parameters by grouped CV on these (training) clips only."""
    if not candidate.space:
        return {}
    result = training.tune(
        x,
        y,
        groups,
        n_trials=trials,
        seed=seed,
        folds=inner_folds,
        fit=candidate.build(seed),
        space=candidate.space,
        first=candidate.first,
        log=lambda _: None,
    )
    return result.best_params


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
    candidates: Mapping[str, Candidate] = CANDIDATES,
    folds: int = 4,
    trials: int = 8,
    inner_folds: int = 3,
    fractions: Sequence[float] = (1.0,),
    params: Mapping[tuple[str, int], Params] | None = None,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> tuple[pd.DataFrame, dict[tuple[str, int], Params]]:
    """Out-of-fold predictions of every candidate, tuned inside each outer fold.

    Returns one row per (model, fraction, fold, held-out clip) with ``label``, ``group``,
    ``prediction`` and the training part's size, and the parameters used per (model, fold).
    ``params`` given (a learning curve reusing a comparison's) skips the tuning.
    """
    features, labels, groups = (x.reset_index(drop=True) for x in (features, labels, groups))
    chosen = dict(params or {})
    frames = []
    for fold, (train_idx, test_idx) in enumerate(
        training.grouped_folds(labels, groups, folds, seed)
    ):
        held_out = pd.DataFrame(
            {"label": labels.iloc[test_idx].to_numpy(), "group": groups.iloc[test_idx].to_numpy()}
        )
        x, y, g = features.iloc[train_idx], labels.iloc[train_idx], groups.iloc[train_idx]
        for name, candidate in candidates.items():
            if (name, fold) not in chosen:
                chosen[name, fold] = tuned_params(candidate, x, y, g, trials, inner_folds, seed)
                if progress:
                    progress(f"fold {fold + 1}/{folds}: {name} tuned {dict(chosen[name, fold])}")
            for fraction, part in _training_parts(groups, train_idx, fractions, [seed, fold]):
                fit = candidate.build(seed)
                model = fit(
                    features.iloc[part], labels.iloc[part], groups.iloc[part], chosen[name, fold]
                )
                predicted = model.predict(features.iloc[test_idx])
                frames.append(
                    held_out.assign(
                        model=name,
                        fraction=fraction,
                        fold=fold,
                        train_children=groups.iloc[part].nunique(),
                        train_clips=len(part),
                        prediction=np.asarray(predicted, dtype=object),
                    )
                )
    return pd.concat(frames, ignore_index=True), chosen


def pooled_scores(
    predictions: pd.DataFrame,
    reference: str = baselines.COMPARE_RECIPE,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Per model and training fraction: UAR and macro-F1 of all out-of-fold predictions pooled,
    with child-bootstrap intervals, and the paired difference of UAR to ``reference`` (same
    clips, same resampled children); best UAR first within each fraction."""
    rows = []
    for (fraction, name), part in predictions.groupby(["fraction", "model"], sort=False):
        found = evaluation.intervals(
            part["label"], part["prediction"], part["group"], n_boot=n_boot, level=level, seed=seed
        )
        row = {
            "fraction": fraction,
            "model": name,
            "uar": found["uar"]["estimate"],
            "uar_low": found["uar"]["low"],
            "uar_high": found["uar"]["high"],
            "macro_f1": found["macro_f1"]["estimate"],
            "clips": len(part),
            "children": part["group"].nunique(),
            "train_children": part["train_children"].mean(),
        }
        base = predictions[
            (predictions["fraction"] == fraction) & (predictions["model"] == reference)
        ]
        if len(base) and name != reference:
            diff = evaluation.paired_against(
                part, base, "group", n_boot=n_boot, level=level, seed=seed
            )
            row |= {
                "vs_reference": diff["estimate"],
                "vs_low": diff["low"],
                "vs_high": diff["high"],
            }
        rows.append(row)
    table = pd.DataFrame(rows)
    return table.sort_values(["fraction", "uar"], ascending=[True, False]).reset_index(drop=True)
