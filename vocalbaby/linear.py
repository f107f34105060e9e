"""A linear SVM as a bundle's classifier: MinMax scaling, one linear score per class.

The ComParE baseline's model family (``MinMaxScaler`` + ``LinearSVC``), kept as plain arrays so
a bundle stores it as JSON (no pickles) and predicts without scikit-learn's estimator objects.
Probabilities are the softmax of the class scores (then the bundle's temperature); their
argmax is ``LinearSVC.predict``'s class. Only fitting imports scikit-learn: serving (the Bento)
does not ship it.

>>> model = LinearClassifier.fit(features, labels, c=0.01)  # doctest: +SKIP
>>> model.predict_proba(features.to_numpy()).shape  # doctest: +SKIP
(n_clips, n_classes_seen_in_training)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

FAMILY = "linear_svm"


@dataclass(frozen=True)
class LinearClassifier:
    """Scaled features ``x * scale + offset`` (MinMaxScaler), then ``scaled @ coef.T +
    intercept``: one score per class of :attr:`classes` (the classes seen in training)."""

    classes: list[str]
    scale: np.ndarray
    offset: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    c: float

    @classmethod
    def fit(
        cls, features: pd.DataFrame, labels: pd.Series, c: float, seed: int = 0
    ) -> LinearClassifier:
        """MinMaxScaler + ``LinearSVC(C=c)`` on imputed, balanced rows (no missing values).

        Rows of a single class (a cross-validation fold can hold one) give the model that
        always predicts it. LinearSVC's convergence warnings at large C are the baseline
        recipe's and are silenced.
        """
        from sklearn.exceptions import ConvergenceWarning  # training only: not in the Bento
        from sklearn.preprocessing import MinMaxScaler
        from sklearn.svm import LinearSVC

        scaler = MinMaxScaler().fit(features)
        seen = pd.unique(np.asarray(labels))
        if len(seen) == 1:
            no_weights = np.zeros((1, features.shape[1]))
            return cls([str(seen[0])], scaler.scale_, scaler.min_, no_weights, np.zeros(1), c)
        svm = LinearSVC(C=c, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            svm.fit(scaler.transform(features), np.asarray(labels))
        coef, intercept = svm.coef_, svm.intercept_
        if len(svm.classes_) == 2:  # one score for the second class: the first gets its negative
            coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
        return cls(
            [str(x) for x in svm.classes_], scaler.scale_, scaler.min_, coef, intercept, float(c)
        )

    def decision(self, values: np.ndarray) -> np.ndarray:
        """Class scores, one row per row of ``values`` (features in training order)."""
        scaled = values * self.scale + self.offset
        return scaled @ self.coef.T + self.intercept

    def predict_proba(self, values: np.ndarray) -> np.ndarray:
        """Softmax of the class scores (columns in :attr:`classes` order)."""
        scores = self.decision(values)
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def importance(self) -> np.ndarray:
        """Each feature's mean absolute weight over the classes (features on a 0..1 scale)."""
        return np.abs(self.coef).mean(axis=0)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready arrays."""
        return {
            "classes": self.classes,
            "scale": self.scale.tolist(),
            "offset": self.offset.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept.tolist(),
            "C": self.c,
        }

    @classmethod
    def from_dict(cls, found: dict[str, object]) -> LinearClassifier:
        """The inverse of :meth:`to_dict`."""
        return cls(
            list(found["classes"]),
            np.asarray(found["scale"], dtype=np.float64),
            np.asarray(found["offset"], dtype=np.float64),
            np.asarray(found["coef"], dtype=np.float64),
            np.asarray(found["intercept"], dtype=np.float64),
            float(found["C"]),
        )
