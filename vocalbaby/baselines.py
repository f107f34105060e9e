"""Reference models scored on the same split as the tuned model.

- majority class: what a classifier that learned nothing scores (UAR = 1 / number of classes);
- the ComParE 2019 baseline procedure: MinMaxScaler + LinearSVC, minority classes upsampled by
  replication, complexity C chosen on the validation split, then refit on train + valid.
"""

from __future__ import annotations

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


def _linear_svc(
    c: float, features: pd.DataFrame, labels: pd.Series, seed: int
) -> tuple[Pipeline, pd.Series]:
    x, y = upsample(features.fillna(features.median()).fillna(0.0), labels, seed)
    model = make_pipeline(MinMaxScaler(), LinearSVC(C=c, max_iter=20_000, random_state=seed))
    return model.fit(x, y), features.median().fillna(0.0)


def compare_svm(
    train: tuple[pd.DataFrame, pd.Series],
    valid: tuple[pd.DataFrame, pd.Series],
    test_features: pd.DataFrame,
    seed: int = 0,
) -> tuple[np.ndarray, float]:
    """The ComParE 2019 procedure; returns test predictions and the chosen C."""
    scores = {}
    for c in COMPARE_C_GRID:
        model, medians = _linear_svc(c, *train, seed)
        scores[c] = uar(valid[1], model.predict(valid[0].fillna(medians)))
    best_c = max(scores, key=scores.get)
    both = pd.concat([train[0], valid[0]]), pd.concat([train[1], valid[1]])
    model, medians = _linear_svc(best_c, *both, seed)
    return model.predict(test_features.fillna(medians)), best_c
