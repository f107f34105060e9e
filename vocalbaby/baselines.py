"""Reference models scored on the same split as the tuned model.

- majority class: what a classifier that learned nothing scores (UAR = 1 / number of classes);
- the ComParE 2019 baseline procedure: MinMaxScaler + LinearSVC, minority classes upsampled by
  replication, complexity C chosen on the validation split, then refit on train + valid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import LinearSVC

from vocalbaby.metrics import uar

COMPARE_C_GRID = tuple(10.0**k for k in range(-5, 1))


def majority(train_labels: pd.Series, n: int) -> np.ndarray:
    """Predict the most frequent training class ``n`` times."""
    return np.full(n, train_labels.value_counts().idxmax(), dtype=object)


def upsample(
    features: pd.DataFrame, labels: pd.Series, seed: int = 0
) -> tuple[pd.DataFrame, pd.Series]:
    """Replicate each class's rows (randomly) up to the size of the largest class."""
    rng = np.random.default_rng(seed)
    target = labels.value_counts().max()
    picks = [
        rng.choice(np.flatnonzero(labels.to_numpy() == c), target, replace=True)
        if (labels == c).sum() < target
        else np.flatnonzero(labels.to_numpy() == c)
        for c in labels.unique()
    ]
    index = np.concatenate(picks)
    return features.iloc[index], labels.iloc[index]


@dataclass(frozen=True)
class CompareSVM:
    """A fitted ComParE-style SVM: training medians, MinMaxScaler + LinearSVC, its C."""

    pipeline: Pipeline
    medians: pd.Series
    c: float

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """The predicted class of each row (missing values filled with the training medians)."""
        return self.pipeline.predict(features.fillna(self.medians))


def linear_svc(c: float, features: pd.DataFrame, labels: pd.Series, seed: int = 0) -> CompareSVM:
    """Median-impute, upsample by replication, then fit MinMaxScaler + LinearSVC."""
    medians = features.median().fillna(0.0)
    x, y = upsample(features.fillna(medians), labels, seed)
    model = make_pipeline(MinMaxScaler(), LinearSVC(C=c, max_iter=20_000, random_state=seed))
    return CompareSVM(model.fit(x, y), medians, c)


def fit_compare_svm(
    train: tuple[pd.DataFrame, pd.Series], valid: tuple[pd.DataFrame, pd.Series], seed: int = 0
) -> CompareSVM:
    """The ComParE 2019 procedure: C with the best validation UAR, refit on train + valid."""
    scores = {
        c: uar(valid[1], linear_svc(c, *train, seed).predict(valid[0])) for c in COMPARE_C_GRID
    }
    best_c = max(scores, key=scores.get)
    return linear_svc(
        best_c, pd.concat([train[0], valid[0]]), pd.concat([train[1], valid[1]]), seed
    )


def compare_svm(
    train: tuple[pd.DataFrame, pd.Series],
    valid: tuple[pd.DataFrame, pd.Series],
    test_features: pd.DataFrame,
    seed: int = 0,
) -> tuple[np.ndarray, float]:
    """The ComParE 2019 procedure; returns test predictions and the chosen C."""
    model = fit_compare_svm(train, valid, seed)
    return model.predict(test_features), model.c
