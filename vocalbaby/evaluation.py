"""Evaluation beyond one number: child-bootstrap intervals, calibration, breakdowns, PR curves and
a multi-metric promotion gate.

Children, not clips, are the unit of resampling: clips of one child share a voice and a recording
channel, so resampling clips would pretend to have far more independent evidence than there is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from sklearn.metrics import average_precision_score, precision_recall_curve

from vocalbaby import metrics
from vocalbaby.labels import CLASSES
from vocalbaby.model import apply_temperature

AGE_BANDS = (0, 6, 12, 18, 24)  # months; the last band is open-ended
Interval = dict[str, float]


# --- bootstrap confidence intervals over children ----------------------------------------------


def resamples(n_groups: int, n_boot: int = 1000, seed: int = 0) -> np.ndarray:
    """``n_boot`` bootstrap resamples of ``n_groups`` groups as multiplicities, shape (n_boot,
    n_groups): row ``b`` says how often each group (child) is drawn in resample ``b``."""
    return np.random.default_rng(seed).multinomial(
        n_groups, np.full(n_groups, 1 / n_groups), size=n_boot
    )


def bootstrap_scores(per_group: np.ndarray, draws: np.ndarray) -> dict:
    """:func:`metrics.scores` of each resample in ``draws`` (see :func:`resamples`).

    Vectorised: a resample's confusion matrix is the weighted sum of the groups' matrices.
    """
    return metrics.scores(np.tensordot(draws, per_group, axes=1))


def _interval(estimate: float, samples: np.ndarray, level: float) -> Interval:
    finite = samples[np.isfinite(samples)]
    tail = 50 * (1 - level)
    low, high = np.percentile(finite, [tail, 100 - tail]) if finite.size else (np.nan, np.nan)
    return {"estimate": float(estimate), "low": float(low), "high": float(high)}


def intervals(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    groups: Sequence[object],
    labels: Sequence[str] = CLASSES,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, object]:
    """Percentile bootstrap intervals (children resampled) of UAR, macro-F1, per-class recall.

    A class's recall is undefined in resamples without that class and is left out of its
    interval; a class absent from ``y_true`` gets ``None``.
    """
    per_group = metrics.group_confusions(y_true, y_pred, groups, labels)
    point = metrics.scores(per_group.sum(axis=0))
    boot = bootstrap_scores(per_group, resamples(len(per_group), n_boot, seed))
    recall = np.where(boot["support"] > 0, boot["recall"], np.nan)
    return {
        "level": level,
        "n_boot": n_boot,
        "unit": "child",
        "n_groups": len(per_group),
        "uar": _interval(point["uar"], boot["uar"], level),
        "macro_f1": _interval(point["macro_f1"], boot["macro_f1"], level),
        "recall": {
            label: _interval(point["recall"][i], recall[:, i], level)
            if point["support"][i] > 0
            else None
            for i, label in enumerate(labels)
        },
    }


def with_intervals(
    report: dict[str, object],
    y_true: Sequence[str],
    y_pred: Sequence[str],
    groups: Sequence[object],
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, object]:
    """A :func:`metrics.report` with its child-bootstrap ``intervals`` added."""
    found = intervals(y_true, y_pred, groups, report["labels"], n_boot=n_boot, seed=seed)
    return report | {"intervals": found}


def paired_difference(
    y_true: Sequence[str],
    first: Sequence[str],
    second: Sequence[str],
    groups: Sequence[object],
    labels: Sequence[str] = CLASSES,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> Interval:
    """UAR of ``first`` minus UAR of ``second`` on the same clips, with a paired percentile
    bootstrap interval: each resample draws children once and scores both on the same draw, so
    what the two models share (the children's difficulty) cancels out."""
    a = metrics.group_confusions(y_true, first, groups, labels)
    b = metrics.group_confusions(y_true, second, groups, labels)
    draws = resamples(len(a), n_boot, seed)
    boot = bootstrap_scores(a, draws)["uar"] - bootstrap_scores(b, draws)["uar"]
    point = metrics.scores(a.sum(axis=0))["uar"] - metrics.scores(b.sum(axis=0))["uar"]
    return _interval(point, boot, level) | {"n_groups": len(a), "level": level}


def paired_against(
    predictions: pd.DataFrame,
    reference: pd.DataFrame,
    same_clips: str,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> Interval:
    """:func:`paired_difference` of two models' prediction tables (``label``, ``prediction``,
    ``group`` columns, rows in the same order); raises ``ValueError`` unless their
    ``same_clips`` columns agree row by row."""
    if not (reference[same_clips].to_numpy() == predictions[same_clips].to_numpy()).all():
        raise ValueError("the two models did not predict the same clips")
    return paired_difference(
        predictions["label"],
        predictions["prediction"],
        reference["prediction"].to_numpy(),
        predictions["group"],
        n_boot=n_boot,
        level=level,
        seed=seed,
    )


# --- calibration -------------------------------------------------------------------------------


def reliability(proba: pd.DataFrame, y_true: Sequence[str], bins: int = 10) -> dict[str, object]:
    """Expected calibration error (top label, equal-width bins) and the reliability table.

    ``proba`` has one column per class; a row's confidence is its largest probability.
    """
    values = proba.to_numpy(dtype=float)
    confidence = values.max(axis=1)
    correct = proba.columns.to_numpy()[values.argmax(axis=1)] == np.asarray(y_true)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    count = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore"):
        accuracy = np.bincount(which, weights=correct, minlength=bins) / count
        mean_confidence = np.bincount(which, weights=confidence, minlength=bins) / count
    gap = np.nan_to_num(np.abs(accuracy - mean_confidence))
    return {
        "ece": float((count * gap).sum() / max(count.sum(), 1)),
        "bins": pd.DataFrame(
            {
                "low": np.arange(bins) / bins,
                "high": np.arange(1, bins + 1) / bins,
                "count": count,
                "confidence": mean_confidence,
                "accuracy": accuracy,
            }
        ),
    }


def fit_temperature(proba: pd.DataFrame, y_true: Sequence[str]) -> float:
    """The temperature minimising the negative log-likelihood of ``y_true``."""
    target = proba.columns.get_indexer(np.asarray(y_true))
    values = proba.to_numpy(dtype=float)

    def nll(log_t: float) -> float:
        scaled = apply_temperature(values, float(np.exp(log_t)))
        return float(-np.log(np.clip(scaled[np.arange(len(target)), target], 1e-12, 1)).mean())

    return float(np.exp(minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded").x))


@dataclass(frozen=True)
class Calibration:
    """A temperature fitted on held-out predictions, kept only if it lowers their ECE."""

    temperature: float
    fitted_temperature: float
    ece_before: float
    ece_after: float

    @property
    def applied(self) -> bool:
        """Whether the temperature is used (it lowered the ECE)."""
        return self.temperature != 1.0

    def as_dict(self) -> dict[str, object]:
        """JSON-ready fields, with ``applied``."""
        return asdict(self) | {"applied": self.applied}


def calibrate(proba: pd.DataFrame, y_true: Sequence[str]) -> Calibration:
    """Temperature scaling fitted on held-out (validation) predictions.

    Kept when it lowers the ECE of those predictions; it cannot change UAR, since scaling
    logits by one positive factor never changes the most probable class.
    """
    fitted = fit_temperature(proba, y_true)
    before = reliability(proba, y_true)["ece"]
    scaled = pd.DataFrame(apply_temperature(proba.to_numpy(float), fitted), columns=proba.columns)
    after = reliability(scaled, y_true)["ece"]
    return Calibration(fitted if after < before else 1.0, fitted, before, min(before, after))


# --- breakdowns by corpus, age band and gender -------------------------------------------------


def age_band(months: pd.Series) -> pd.Series:
    """Age in months as bands (``0-5 mo``, ``6-11 mo``, ..., ``24+ mo``)."""
    edges = [*AGE_BANDS, np.inf]
    names = [f"{lo}-{hi - 1} mo" for lo, hi in pairwise(AGE_BANDS)]
    return pd.cut(months, edges, right=False, labels=[*names, f"{AGE_BANDS[-1]}+ mo"])


def attributes(manifest: pd.DataFrame) -> pd.DataFrame:
    """The grouping attributes the manifest has values for: corpus, age band, gender."""
    found = {
        "corpus": manifest.get("corpus"),
        "age band": age_band(manifest["age_months"]) if "age_months" in manifest else None,
        "gender": manifest.get("gender"),
    }
    return pd.DataFrame(
        {k: v for k, v in found.items() if v is not None and v.notna().any()}, index=manifest.index
    )


def breakdown(y_true: pd.Series, y_pred: pd.Series, by: pd.Series) -> pd.DataFrame:
    """Clips, UAR and per-class recall of each group (NaN recall: class absent from the group)."""
    rows = {}
    for value, members in by.groupby(by, observed=True).groups.items():
        result = metrics.report(y_true.loc[members], y_pred.loc[members])
        recall = {
            f"recall {c}": m["recall"] if m["support"] else np.nan
            for c, m in result["per_class"].items()
        }
        rows[value] = {"clips": result["n"], "UAR": result["uar"], **recall}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(by.name)


def breakdowns(
    y_true: pd.Series, y_pred: pd.Series, groupings: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """A :func:`breakdown` per column of ``groupings`` (rows aligned with ``y_true``)."""
    return {name: breakdown(y_true, y_pred, groupings[name]) for name in groupings.columns}


def worst_groups(tables: dict[str, pd.DataFrame], n: int = 5, min_clips: int = 1) -> pd.DataFrame:
    """The ``n`` groups (of ``min_clips`` clips or more) with the lowest UAR in any breakdown."""
    rows = [
        table.rename_axis("group").reset_index().assign(attribute=name)
        for name, table in tables.items()
    ]
    if not rows:
        return pd.DataFrame(columns=["attribute", "group", "clips", "UAR"])
    every = pd.concat(rows, ignore_index=True)
    every = every[every["clips"] >= min_clips].sort_values(
        ["UAR", "clips"], ascending=[True, False]
    )
    columns = ["attribute", "group", "clips", "UAR"]
    return every[columns + [c for c in every.columns if c not in columns]].head(n)


# --- precision-recall curves -------------------------------------------------------------------


def pr_curves(proba: pd.DataFrame, y_true: Sequence[str]) -> dict[str, dict[str, object]]:
    """One-vs-rest precision-recall curve and average precision of each class present."""
    truth = np.asarray(y_true)
    curves = {}
    for label in proba.columns:
        positive = truth == label
        if not positive.any():
            continue
        precision, recall, _ = precision_recall_curve(positive, proba[label])
        curves[label] = {
            "precision": precision,
            "recall": recall,
            "average_precision": float(average_precision_score(positive, proba[label])),
            "support": int(positive.sum()),
            "prevalence": float(positive.mean()),
        }
    return curves


# --- the promotion gate ------------------------------------------------------------------------


@dataclass(frozen=True)
class GateCriteria:
    """What a model must reach to be promoted; ``None`` switches a criterion off.

    - ``min_uar``: test UAR;
    - ``min_uar_ci_low``: the lower bound of UAR's child-bootstrap interval;
    - ``min_class_recall``: every class present in the test split: its recall, or, with fewer than
      ``min_class_support`` test clips (too few for a point estimate to mean much), the upper
      bound of its recall's interval: a class the model has clearly given up on fails even with
      four clips;
    - ``baseline_margin``: the lower bound of the paired child-bootstrap interval of
      UAR(model) - UAR(ComParE recipe) on the same test clips must reach this. The default,
      -0.05, asks for non-inferiority: confidence that the model is not more than 5 UAR points
      worse than the recipe (a test split of a dozen children cannot show a lead of a few points
      beyond noise); 0 asks for a lead beyond noise.
    """

    min_uar: float = 0.5
    min_uar_ci_low: float | None = 0.4
    min_class_recall: float | None = 0.2
    min_class_support: int = 30
    baseline_margin: float | None = -0.05


def _class_checks(result: dict[str, object], criteria: GateCriteria) -> list[tuple[str, float]]:
    """(criterion name, value) of each class present in the test split."""
    found = result["intervals"]
    level = round(100 * found["level"])
    checks = []
    for label, m in result["per_class"].items():
        if m["support"] >= criteria.min_class_support:
            checks.append((f"recall of {label}", m["recall"]))
        elif m["support"] > 0:
            name = (
                f"recall of {label}, upper {level}% bound ({m['support']} test clips, fewer "
                f"than {criteria.min_class_support})"
            )
            checks.append((name, found["recall"][label]["high"]))
    return checks


def gate(
    result: dict[str, object], criteria: GateCriteria, baseline: Interval | None = None
) -> dict[str, object]:
    """The promotion decision on a report with ``intervals`` (see :class:`GateCriteria`).

    ``baseline`` is :func:`paired_difference` of the model against the ComParE recipe. Returns
    ``passed``, ``uar``, ``min_uar``, ``criteria`` (each with its value, threshold and outcome),
    ``reasons`` (one line per failed criterion) and ``not_judged`` (classes absent from the test
    split: their recall is undefined).
    """
    checks = [("UAR", float(result["uar"]), criteria.min_uar)]
    level = round(100 * result["intervals"]["level"])
    if criteria.min_uar_ci_low is not None:
        bound = result["intervals"]["uar"]["low"]
        checks.append((f"UAR, lower {level}% bound", bound, criteria.min_uar_ci_low))
    if criteria.min_class_recall is not None:
        checks += [(n, v, criteria.min_class_recall) for n, v in _class_checks(result, criteria)]
    if criteria.baseline_margin is not None and baseline is not None:
        name = f"UAR - ComParE recipe, lower {level}% bound (paired, by child)"
        checks.append((name, baseline["low"], criteria.baseline_margin))
    rows = [
        {
            "criterion": name,
            "value": float(value),
            "threshold": limit,
            "passed": bool(value >= limit),
        }
        for name, value, limit in checks
    ]
    reasons = [
        f"{r['criterion']} {r['value']:.3f} < {r['threshold']:.3f}" for r in rows if not r["passed"]
    ]
    return {
        "passed": not reasons,
        "uar": float(result["uar"]),
        "min_uar": criteria.min_uar,
        "criteria": rows,
        "reasons": reasons,
        "not_judged": [c for c, m in result["per_class"].items() if m["support"] == 0],
        "baseline_difference": baseline,
    }


# --- everything measured on one split ----------------------------------------------------------


def assess(
    y_true: pd.Series,
    proba: pd.DataFrame,
    groups: pd.Series,
    groupings: pd.DataFrame | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, object]:
    """Report with child-bootstrap intervals, calibration, PR curves and breakdowns of a model's
    probabilities on one split (all inputs aligned on the same index)."""
    y_pred = proba.idxmax(axis=1)
    report = with_intervals(metrics.report(y_true, y_pred), y_true, y_pred, groups, n_boot, seed)
    tables = breakdowns(y_true, y_pred, groupings if groupings is not None else pd.DataFrame())
    return {
        "metrics": report,
        "predictions": y_pred,
        "reliability": reliability(proba, y_true),
        "pr_curves": pr_curves(proba, y_true),
        "breakdowns": tables,
        "worst_groups": worst_groups(tables),
    }
