"""Synthetic predictions and features with known properties, grouped by child."""

from __future__ import annotations

import numpy as np
import pandas as pd

from vocalbaby.labels import CLASSES


def predictions(
    children: int, clips: int = 30, seed: int = 0
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Labels, predictions and child ids: each child's clips are right with its own accuracy
    (0.4-0.95), wrong ones go to a random other class."""
    rng = np.random.default_rng(seed)
    child = np.repeat([f"kid{i}" for i in range(children)], clips)
    truth = rng.integers(0, len(CLASSES), len(child))
    accuracy = np.repeat(rng.uniform(0.4, 0.95, children), clips)
    wrong = (truth + rng.integers(1, len(CLASSES), len(child))) % len(CLASSES)
    predicted = np.where(rng.random(len(child)) < accuracy, truth, wrong)
    names = np.array(CLASSES)
    return pd.Series(names[truth]), pd.Series(names[predicted]), pd.Series(child)


def calibrated_proba(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Probabilities and labels drawn from them: a perfectly calibrated predictor."""
    rng = np.random.default_rng(seed)
    proba = rng.dirichlet(np.full(len(CLASSES), 0.7), n)
    labels = [rng.choice(CLASSES, p=p) for p in proba]
    return pd.DataFrame(proba, columns=CLASSES), pd.Series(labels)


def features(children: int = 24, clips: int = 20, seed: int = 0) -> tuple[pd.DataFrame, ...]:
    """Features = class centre + a strong per-child offset + noise: with few training children
    a model mistakes children's voices for classes, with more it learns the classes."""
    rng = np.random.default_rng(seed)
    child = np.repeat(np.arange(children), clips)
    label = rng.choice(len(CLASSES), len(child), p=[0.15, 0.35, 0.1, 0.1, 0.3])
    centres = rng.normal(0, 1.0, (len(CLASSES), 8))
    offsets = rng.normal(0, 1.2, (children, 8))
    x = centres[label] + offsets[child] + rng.normal(0, 0.8, (len(child), 8))
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(8)])
    return frame, pd.Series(np.array(CLASSES)[label]), pd.Series([f"kid{c}" for c in child])
