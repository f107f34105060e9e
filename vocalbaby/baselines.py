"""Reference models scored on the same clips as the tuned model.

- majority class: what a classifier that learned nothing scores (UAR = 1 / number of classes);
- the ComParE recipe: the procedure of the official INTERSPEECH 2019 ComParE Baby Sounds
  baseline script, on the run's feature set (the 88 eGeMAPS functionals by default; the
  challenge used the 6,373 ComParE_2016 functionals, our other option): each class repeated
  ``max_count // count`` times (whole copies of the original clips, no random draw),
  MinMaxScaler fitted on the upsampled training data,
  ``LinearSVC(C, random_state=0)``, C chosen from 1e-5..1 by UAR on the validation data, then
  refit on train + validation (upsampled again) with that C. Missing feature values (the script
  has none) are filled with the training medians first.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import LinearSVC

from vocalbaby.metrics import uar

COMPARE_RECIPE = "ComParE recipe"  # on the run's feature set
MAJORITY = "majority class"
COMPARE_C_GRID = tuple(10.0**k for k in range(-5, 1))


def majority(train_labels: pd.Series, n: int) -> np.ndarray:
    """Predict the most frequent training class ``n`` times."""
    return np.full(n, train_labels.value_counts().idxmax(), dtype=object)


def upsample(features: pd.DataFrame, labels: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    """The official script's balancing: append ``max_count // count - 1`` whole copies of each
    class's clips, in their original order (deterministic; every original clip is kept)."""
    values = labels.to_numpy()
    counts = labels.value_counts()
    largest = counts.max()
    index = [np.arange(len(labels))]
    for label in labels.unique():
        copies = largest // counts[label] - 1
        index += [np.flatnonzero(values == label)] * copies
    order = np.concatenate(index)
    return features.iloc[order], labels.iloc[order]


@dataclass(frozen=True)
class CompareSVM:
    """A fitted ComParE-recipe SVM: training medians, MinMaxScaler + LinearSVC, its C."""

    pipeline: Pipeline
    medians: pd.Series
    c: float

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """The predicted class of each row (missing values filled with the training medians)."""
        return self.pipeline.predict(features.fillna(self.medians))


def linear_svc(c: float, features: pd.DataFrame, labels: pd.Series) -> CompareSVM:
    """Median-impute, upsample by whole copies, then fit MinMaxScaler + LinearSVC(C).

    ``LinearSVC`` keeps the script's settings (``random_state=0``, default iterations); its
    convergence warnings at large C are the recipe's, not ours, and are silenced.
    """
    medians = features.median().fillna(0.0)
    x, y = upsample(features.fillna(medians), labels)
    model = make_pipeline(MinMaxScaler(), LinearSVC(C=c, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, y)
    return CompareSVM(model, medians, c)


def fit_compare_svm(
    train: tuple[pd.DataFrame, pd.Series], valid: tuple[pd.DataFrame, pd.Series]
) -> CompareSVM:
    """The ComParE recipe: C with the best validation UAR, refit on train + valid."""
    scores = {c: uar(valid[1], linear_svc(c, *train).predict(valid[0])) for c in COMPARE_C_GRID}
    best_c = max(scores, key=scores.get)
    return linear_svc(best_c, pd.concat([train[0], valid[0]]), pd.concat([train[1], valid[1]]))
