"""Classification metrics as the field reports them: UAR first, never accuracy alone."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vocalbaby.labels import CLASSES


def group_confusions(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    groups: Sequence[object],
    labels: Sequence[str] = CLASSES,
) -> np.ndarray:
    """One confusion matrix per group (e.g. child): an array of shape (groups, K, K).

    Rows are true classes, columns predicted ones, in ``labels`` order; pairs with a label
    outside ``labels`` are left out (as scikit-learn's ``confusion_matrix`` does).
    """
    index = {label: i for i, label in enumerate(labels)}
    truth = np.array([index.get(y, -1) for y in y_true], dtype=int)
    predicted = np.array([index.get(y, -1) for y in y_pred], dtype=int)
    _, group = np.unique(np.asarray(groups, dtype=str), return_inverse=True)
    keep = (truth >= 0) & (predicted >= 0)
    counts = np.zeros((group.max(initial=-1) + 1, len(labels), len(labels)), dtype=np.int64)
    np.add.at(counts, (group[keep], truth[keep], predicted[keep]), 1)
    return counts


def confusion(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] = CLASSES
) -> np.ndarray:
    """Counts of (true, predicted) pairs: rows true, columns predicted, in ``labels`` order."""
    counts = group_confusions(y_true, y_pred, np.zeros(len(y_true)), labels)
    return counts.sum(axis=0) if len(counts) else np.zeros((len(labels), len(labels)), np.int64)


def scores(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class and macro scores of confusion matrices, vectorised over leading axes.

    ``counts`` has shape ``(..., K, K)``. Per-class scores with no support (or no prediction)
    are 0, as scikit-learn's ``zero_division=0``; classes without support are left out of the
    macro averages. UAR and macro-F1 are NaN where no class has support.

    >>> float(scores(np.array([[2, 0], [1, 1]]))["uar"])
    0.75
    """
    counts = np.asarray(counts, dtype=float)
    hits = np.diagonal(counts, axis1=-2, axis2=-1)
    support, predicted = counts.sum(axis=-1), counts.sum(axis=-2)
    recall = _ratio(hits, support)
    precision = _ratio(hits, predicted)
    f1 = _ratio(2 * hits, support + predicted)
    present = support > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "recall": recall,
            "precision": precision,
            "f1": f1,
            "support": support,
            "uar": (recall * present).sum(axis=-1) / present.sum(axis=-1),
            "macro_f1": (f1 * present).sum(axis=-1) / present.sum(axis=-1),
            "accuracy": hits.sum(axis=-1) / counts.sum(axis=(-2, -1)),
        }


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    return np.divide(
        numerator,
        denominator,
        out=np.zeros(np.broadcast(numerator, denominator).shape),
        where=denominator > 0,
    )


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
    counts = confusion(y_true, y_pred, labels)
    s = scores(counts)
    return {
        "uar": float(s["uar"]),
        "macro_f1": float(s["macro_f1"]),
        "accuracy": float(s["accuracy"]),
        "n": len(y_true),
        "labels": labels,
        "per_class": {
            label: {
                "precision": float(s["precision"][i]),
                "recall": float(s["recall"][i]),
                "f1": float(s["f1"][i]),
                "support": int(s["support"][i]),
            }
            for i, label in enumerate(labels)
        },
        "confusion_matrix": counts.tolist(),
    }


def uar(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    """Unweighted average recall over the classes present in ``y_true``."""
    return float(report(y_true, y_pred)["uar"])


def format_text(result: dict[str, object]) -> str:
    """A plain-text table of a :func:`report` for terminals, with its bootstrap intervals when
    it has ``intervals`` (see :func:`vocalbaby.evaluation.with_intervals`)."""
    labels = result["labels"]
    found = result.get("intervals")
    lines = [
        f"UAR {result['uar']:.3f}   macro-F1 {result['macro_f1']:.3f}   "
        f"accuracy {result['accuracy']:.3f}   n={result['n']}"
    ]
    if found:
        lines.append(
            f"{round(100 * found['level'])}% CI over {found['n_groups']} children: "
            f"UAR {_span(found['uar'])}   macro-F1 {_span(found['macro_f1'])}"
        )
    ci_header = f"{'recall CI':>14}" if found else ""
    lines += ["", f"{'class':<14}{'recall':>8}{ci_header}{'precision':>11}{'f1':>8}{'support':>9}"]
    for label in labels:
        m = result["per_class"][label]
        ci = f"{_span(found['recall'][label]):>14}" if found else ""
        lines.append(
            f"{label:<14}{m['recall']:>8.3f}{ci}{m['precision']:>11.3f}{m['f1']:>8.3f}"
            f"{m['support']:>9d}"
        )
    lines += ["", "confusion matrix (rows: true, columns: predicted)"]
    width = max(len(x) for x in labels) + 2
    lines.append(" " * width + "".join(f"{x[:12]:>14}" for x in labels))
    for label, row in zip(labels, result["confusion_matrix"], strict=True):
        lines.append(f"{label:<{width}}" + "".join(f"{v:>14d}" for v in row))
    return "\n".join(lines)


def _span(interval: dict[str, float] | None) -> str:
    return "-" if interval is None else f"{interval['low']:.3f}-{interval['high']:.3f}"
