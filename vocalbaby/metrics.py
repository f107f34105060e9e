"""Classification metrics as the field reports them: UAR first, never accuracy alone."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from vocalbaby.labels import CLASSES


def report(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] = CLASSES
) -> dict[str, object]:
    """UAR (macro recall), macro-F1, accuracy, per-class metrics and the confusion matrix.

    Classes absent from ``y_true`` are left out of the macro averages (their recall is undefined)
    but still appear in the per-class table and the confusion matrix.

    >>> report(["crying", "junk"], ["crying", "crying"])["uar"]
    0.5
    """
    labels = list(labels)
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    present = support > 0
    return {
        "uar": float(recall[present].mean()),
        "macro_f1": float(f1[present].mean()),
        "accuracy": float((y_true == y_pred).mean()),
        "n": len(y_true),
        "labels": labels,
        "per_class": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def uar(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    """Unweighted average recall over the classes present in ``y_true``."""
    return float(report(y_true, y_pred)["uar"])


def format_text(result: dict[str, object]) -> str:
    """A plain-text table of a :func:`report` for terminals."""
    labels = result["labels"]
    lines = [
        f"UAR {result['uar']:.3f}   macro-F1 {result['macro_f1']:.3f}   "
        f"accuracy {result['accuracy']:.3f}   n={result['n']}",
        "",
        f"{'class':<14}{'recall':>8}{'precision':>11}{'f1':>8}{'support':>9}",
    ]
    for label in labels:
        m = result["per_class"][label]
        lines.append(
            f"{label:<14}{m['recall']:>8.3f}{m['precision']:>11.3f}{m['f1']:>8.3f}{m['support']:>9d}"
        )
    lines += ["", "confusion matrix (rows: true, columns: predicted)"]
    width = max(len(x) for x in labels) + 2
    lines.append(" " * width + "".join(f"{x[:12]:>14}" for x in labels))
    for label, row in zip(labels, result["confusion_matrix"], strict=True):
        lines.append(f"{label:<{width}}" + "".join(f"{v:>14d}" for v in row))
    return "\n".join(lines)


def confusion_matrix_png(result: dict[str, object], title: str = "Confusion matrix") -> bytes:
    """The confusion matrix as a PNG, counts with row-normalised shading."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = result["labels"]
    counts = np.asarray(result["confusion_matrix"])
    rows = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, rows, out=np.zeros(counts.shape, dtype=float), where=rows > 0)
    fig, ax = plt.subplots(figsize=(5.6, 4.8), dpi=100)
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for (i, j), value in np.ndenumerate(counts):
        ax.text(
            j,
            i,
            str(value),
            ha="center",
            va="center",
            color="white" if share[i, j] > 0.5 else "black",
        )
    ax.set_xticks(range(len(labels)), labels, rotation=35, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{title} (UAR {result['uar']:.3f})")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def gate(result: dict[str, object], min_uar: float) -> dict[str, object]:
    """The promotion decision: does the model's UAR reach ``min_uar``?"""
    value = float(result["uar"])
    return {"passed": value >= min_uar, "uar": value, "min_uar": min_uar}
