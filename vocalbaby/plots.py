"""Evaluation plots as PNG bytes (matplotlib, Agg backend): for asset metadata and reports."""

from __future__ import annotations

import io
from collections.abc import Mapping

import numpy as np
import pandas as pd

from vocalbaby.labels import CLASSES


def pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def png(fig) -> bytes:
    """Render a figure to PNG bytes and close it."""
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    pyplot().close(fig)
    return buffer.getvalue()


def optimisation_history_png(trials: pd.DataFrame) -> bytes:
    """Each Optuna trial's CV UAR and the best so far."""
    done = trials.dropna(subset=["value"])
    fig, ax = pyplot().subplots(figsize=(6, 3.2), dpi=100)
    ax.scatter(done["number"], done["value"], s=14, label="trial")
    ax.plot(done["number"], done["value"].cummax(), color="C1", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel("grouped CV UAR")
    ax.legend(loc="lower right")
    return png(fig)


def comparison_png(table: pd.DataFrame, chance: float = 1 / len(CLASSES)) -> bytes:
    """Pooled out-of-fold UAR of each model with its child-bootstrap interval (``model``,
    ``uar``, ``uar_low``, ``uar_high``)."""
    order = table.sort_values("uar")
    fig, ax = pyplot().subplots(figsize=(6.4, 0.45 * len(order) + 1.2), dpi=100)
    low = (order["uar"] - order["uar_low"]).clip(lower=0)
    high = (order["uar_high"] - order["uar"]).clip(lower=0)
    ax.errorbar(order["uar"], range(len(order)), xerr=[low, high], fmt="o", capsize=4)
    ax.axvline(chance, color="grey", linestyle=":", label=f"chance ({chance:.2f})")
    ax.set_yticks(range(len(order)), order["model"])
    ax.set_xlim(0, 1)
    ax.set_xlabel("UAR of pooled out-of-fold predictions (95% CI, children resampled)")
    ax.legend(loc="lower right")
    return png(fig)


def learning_curve_png(curve: pd.DataFrame, chance: float = 1 / len(CLASSES)) -> bytes:
    """UAR against the share of training children, one line (and CI band) per model."""
    fig, ax = pyplot().subplots(figsize=(8, 4), dpi=100)
    for name, rows in curve.sort_values("fraction").groupby("model", sort=False):
        share = 100 * rows["fraction"]
        (line,) = ax.plot(share, rows["uar"], marker="o", label=name)
        ax.fill_between(
            share, rows["uar_low"], rows["uar_high"], color=line.get_color(), alpha=0.06
        )
    ax.axhline(chance, color="grey", linestyle=":", label="chance")
    ax.set_xlabel("training children (% of each fold's training part)")
    ax.set_ylabel("UAR on held-out children (95% CI)")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return png(fig)


def reliability_png(tables: Mapping[str, dict]) -> bytes:
    """Reliability diagram: accuracy against confidence per bin, for each named model."""
    fig, ax = pyplot().subplots(figsize=(4.8, 4.4), dpi=100)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
    for name, found in tables.items():
        bins = found["bins"].dropna(subset=["accuracy"])
        ax.plot(
            bins["confidence"],
            bins["accuracy"],
            marker="o",
            label=f"{name} (ECE {found['ece']:.3f})",
        )
    ax.set_xlabel("confidence (top-class probability)")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8, loc="upper left")
    return png(fig)


def pr_curves_png(curves: Mapping[str, dict]) -> bytes:
    """One-vs-rest precision-recall curve of each class, with its average precision."""
    fig, ax = pyplot().subplots(figsize=(5.2, 4.4), dpi=100)
    for label, curve in curves.items():
        ax.step(
            curve["recall"],
            curve["precision"],
            where="post",
            label=f"{label} (AP {curve['average_precision']:.2f}, n={curve['support']})",
        )
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8, loc="lower left")
    return png(fig)


def intervals_png(found: dict[str, object]) -> bytes:
    """UAR, macro-F1 and per-class recall with their bootstrap intervals."""
    rows = {"UAR": found["uar"], "macro-F1": found["macro_f1"]}
    rows |= {f"recall {c}": v for c, v in found["recall"].items() if v is not None}
    names = list(rows)[::-1]
    point = np.array([rows[n]["estimate"] for n in names])
    low = np.clip(point - [rows[n]["low"] for n in names], 0, None)
    high = np.clip([rows[n]["high"] for n in names] - point, 0, None)
    fig, ax = pyplot().subplots(figsize=(6, 0.4 * len(names) + 1.2), dpi=100)
    ax.errorbar(point, range(len(names)), xerr=[low, high], fmt="o", capsize=4)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlim(0, 1.02)
    ax.set_xlabel(
        f"{round(100 * found['level'])}% bootstrap interval "
        f"({found['n_groups']} children resampled {found['n_boot']} times)"
    )
    return png(fig)


def normalized_confusion(result: dict[str, object]) -> np.ndarray:
    """A report's confusion matrix as shares of each true class (rows sum to 1; 0 for absent
    classes)."""
    counts = np.asarray(result["confusion_matrix"], dtype=float)
    rows = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, rows, out=np.zeros(counts.shape), where=rows > 0)


def confusion_matrix_png(
    result: dict[str, object], title: str = "Confusion matrix", normalize: bool = False
) -> bytes:
    """A report's confusion matrix as a PNG with row-normalised shading: counts, or with
    ``normalize`` the share of each true class."""
    labels = result["labels"]
    counts = np.asarray(result["confusion_matrix"])
    share = normalized_confusion(result)
    fig, ax = pyplot().subplots(figsize=(5.6, 4.8), dpi=100)
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for (i, j), value in np.ndenumerate(counts):
        ax.text(
            j,
            i,
            f"{share[i, j]:.2f}" if normalize else str(value),
            ha="center",
            va="center",
            color="white" if share[i, j] > 0.5 else "black",
        )
    ax.set_xticks(range(len(labels)), labels, rotation=35, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true" + (" (rows sum to 1)" if normalize else ""))
    ax.set_title(f"{title} (UAR {result['uar']:.3f})")
    return png(fig)
