"""Feature statistics for exploring clips: per-class distributions and a 2-D PCA projection.

Both work on a table of named feature columns (the 88 eGeMAPS functionals) with one label per
row; missing values are filled with the column median, and PCA standardises every column first,
so features of different units weigh alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

DEFAULT_BINS = 20


def distribution(
    values: pd.Series, labels: Sequence[str], bins: int = DEFAULT_BINS
) -> dict[str, object]:
    """Histogram counts per class over shared bin edges, and each class's five-number summary."""
    finite = values.astype(float).replace([np.inf, -np.inf], np.nan)
    keep = finite.notna().to_numpy()
    data, names = finite.to_numpy()[keep], np.asarray(labels, dtype=object)[keep]
    if not len(data):
        return {"edges": [], "classes": {}}
    edges = np.histogram_bin_edges(data, bins=bins)
    classes = {}
    for name in sorted(set(names)):
        own = data[names == name]
        quartiles = np.percentile(own, [0, 25, 50, 75, 100])
        classes[str(name)] = {
            "n": len(own),
            "counts": np.histogram(own, bins=edges)[0].tolist(),
            "min_q1_median_q3_max": quartiles.round(6).tolist(),
        }
    return {"edges": edges.round(6).tolist(), "classes": classes}


def pca_2d(features: pd.DataFrame) -> tuple[np.ndarray, list[float]]:
    """Rows projected on the first two principal components of the standardised features, and
    the share of variance each explains."""
    if len(features) < 2:
        return np.zeros((len(features), 2)), [0.0, 0.0]
    matrix = features.astype(float).replace([np.inf, -np.inf], np.nan)
    matrix = matrix.fillna(matrix.median()).fillna(0.0).to_numpy()
    spread = matrix.std(axis=0)
    scaled = (matrix - matrix.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    _, singular, components = np.linalg.svd(scaled, full_matrices=False)
    coords = scaled @ components[:2].T
    if coords.shape[1] < 2:
        coords = np.column_stack([coords, np.zeros(len(coords))])
    variance = singular**2
    explained = (variance[:2] / variance.sum()).tolist() if variance.sum() else [0.0, 0.0]
    return coords, [float(x) for x in explained] + [0.0] * (2 - len(explained))
