"""How the model does on sources it never heard: leave-one-corpus-out (LOCO) evaluation.

Every corpus is held out in turn: each recipe (the pipeline's XGBoost and the ComParE recipe,
side by side) is trained on the other corpora and predicts the held-out one. Clips without a
corpus (or a dataset of a single corpus) are held out by grouped folds of their recordings
(``child_id``) instead. Per held-out unit and class: recall, and UAR over the classes present,
with intervals that bootstrap children (recordings); per recipe, the pooled UAR of every
held-out prediction, and its paired difference to the ComParE recipe (same clips, same
resampled children). Synthetic corpora are marked as such in every table.

Training-only steps (augmentation, normalisation) see the training part of each split only:
``extra`` adds rows to a training part (augmented copies of its clips) and never touches the
held-out corpus.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from vocalbaby import baselines, comparison, evaluation, training
from vocalbaby.labels import CLASSES
from vocalbaby.model import LINEAR_SVM, XGBOOST
from vocalbaby.synthetic import is_synthetic_corpus
from vocalbaby.training import Params

REFERENCE = comparison.REFERENCE  # the pipeline's recipe: XGBoost (SMOTE)
LINEAR = comparison.LINEAR
NO_CORPUS = "(no corpus)"
MIN_CORPORA = 2

Extra = Callable[[pd.Index], tuple[pd.DataFrame, pd.Series, pd.Series]]
"""``extra(train_clip_ids)``: rows added to one training part (features, labels, groups), made
from those clips only (e.g. their augmented copies)."""


@dataclass(frozen=True)
class Recipe:
    """A named way to train: its fit, its parameters, whether ``extra`` rows feed it, and
    whether its model normalises per recording (then it predicts with the held-out clips'
    recordings, as :meth:`vocalbaby.model.ModelBundle.predict` takes them)."""

    fit: training.Fit
    params: Params
    uses_extra: bool = True
    by_recording: bool = False


@dataclass(frozen=True)
class Options:
    """A variant of the pipeline's recipe: augmented training copies, per-recording
    normalisation (``prior_clips``, see :mod:`vocalbaby.normalisation`), and the model family
    (XGBoost, or a linear SVM with its ``C`` chosen on each training part)."""

    augment: bool = False
    prior_clips: float | None = None
    family: str = XGBOOST

    @property
    def name(self) -> str:
        """The variant's name in tables (the plain recipe is :data:`REFERENCE`)."""
        parts = [REFERENCE if self.family == XGBOOST else LINEAR]
        parts += ["augmented"] if self.augment else []
        if self.prior_clips is not None:
            parts.append(f"normalised per recording (prior {self.prior_clips:g})")
        return " + ".join(parts)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready fields and the name."""
        return {
            "name": self.name,
            "augment": self.augment,
            "prior_clips": self.prior_clips,
            "family": self.family,
        }

    def fit(self, seed: int, n_jobs: int) -> training.Fit:
        """This variant's fit (its parameters come with the recipe)."""
        if self.family == LINEAR_SVM:
            return training.linear_fit(seed, self.prior_clips)
        return training.xgboost_fit(seed, n_jobs, prior_clips=self.prior_clips)


def recipes(
    params: Params, seed: int = 0, n_jobs: int = 1, options: Sequence[Options] = (Options(),)
) -> dict[str, Recipe]:
    """The pipeline's recipe in each of ``options`` (XGBoost with ``params``; a linear SVM
    chooses its ``C`` on each training part), and the ComParE recipe as published (no extra
    rows, no normalisation: the baseline stays what it is on main)."""
    found = {
        option.name: Recipe(
            option.fit(seed, n_jobs),
            dict(params) if option.family == XGBOOST else {},
            uses_extra=option.augment,
            by_recording=option.prior_clips is not None,
        )
        for option in options
    }
    compare = comparison.CANDIDATES[baselines.COMPARE_RECIPE].build(seed)
    return found | {baselines.COMPARE_RECIPE: Recipe(compare, {}, uses_extra=False)}


def option_grid(
    augment: bool, prior_clips: float | None, families: Sequence[str] = (XGBOOST,)
) -> list[Options]:
    """The plain recipe, and with augmentation, normalisation (``prior_clips`` given) and both,
    as far as each is asked for, for each of ``families``; in order of preference (the first
    family first, then simplest first)."""
    return [
        Options(a, p, family)
        for family in families
        for p in dict.fromkeys([None, prior_clips])
        for a in dict.fromkeys([False, augment])
    ]


def choose(
    summary: Mapping[str, object], options: Sequence[Options], min_gain: float = 0.02
) -> Options:
    """The simplest option (first in ``options``) whose pooled LOCO UAR is within ``min_gain``
    of the best: a variant that adds work must earn it by more than noise-sized differences."""
    models = summary["models"]
    score = {o: models[o.name]["pooled"]["uar"]["estimate"] for o in options}
    best = max(score.values())
    return next(o for o in options if score[o] >= best - min_gain)


def tuning_groups(corpus: pd.Series, groups: pd.Series) -> pd.Series:
    """The groups tuning cross-validates over: with two or more corpora named, each corpus
    (clips without one keep their recording group), so every fold holds whole corpora out as
    leave-one-corpus-out does; otherwise the recordings (``groups``)."""
    named = corpus.astype("string")
    if named.dropna().nunique() < MIN_CORPORA:
        return groups
    return ("corpus:" + named).fillna("recording:" + groups.astype(str)).rename(groups.name)


def held_out_units(
    corpus: pd.Series, labels: pd.Series, groups: pd.Series, folds: int = 4, seed: int = 0
) -> pd.Series:
    """The unit each clip is held out with: its corpus, or, for clips without one (every clip
    when fewer than two corpora are named), a grouped fold of recordings (``NO_CORPUS fold k``).
    """
    named = corpus.astype("string")
    if named.dropna().nunique() < MIN_CORPORA:
        named = pd.Series(pd.NA, index=corpus.index, dtype="string")
    units = named.copy()
    missing = named.isna().to_numpy()
    if missing.any():
        positions = np.flatnonzero(missing)
        for fold, (_, test) in enumerate(
            training.grouped_folds(labels.iloc[positions], groups.iloc[positions], folds, seed)
        ):
            units.iloc[positions[test]] = f"{NO_CORPUS} fold {fold + 1}"
    return units.rename("unit")


def predict_held_out(
    features: pd.DataFrame,
    labels: pd.Series,
    groups: pd.Series,
    units: pd.Series,
    recipes: Mapping[str, Recipe],
    extra: Extra | None = None,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Each recipe trained without each unit, predicting that unit: one row per (recipe, clip)
    with ``clip_id``, ``unit``, ``label``, ``group``, ``model``, ``prediction``,
    ``train_clips`` and ``train_classes`` (classes the training part had).

    All inputs are indexed by clip id. A unit whose training part holds a single class is
    still predicted (it then scores what a one-class model scores).
    """
    frames = []
    for unit in units.drop_duplicates():
        test = units.index[units == unit]
        train = units.index[units != unit]
        x, y, g = features.loc[train], labels.loc[train], groups.loc[train]
        wanted = extra and any(recipe.uses_extra for recipe in recipes.values())
        added = extra(train) if wanted else None
        held = pd.DataFrame(
            {"unit": unit, "label": labels.loc[test], "group": groups.loc[test]}, index=test
        ).rename_axis("clip_id")
        for name, recipe in recipes.items():
            if recipe.uses_extra and added is not None:
                fx, fy, fg = (pd.concat([a, b]) for a, b in zip((x, y, g), added, strict=True))
            else:
                fx, fy, fg = x, y, g
            model = recipe.fit(fx, fy, fg.astype(str), recipe.params)
            predicted = (
                model.predict(features.loc[test], groups.loc[test].astype(str))
                if recipe.by_recording
                else model.predict(features.loc[test])
            )
            frames.append(
                held.assign(
                    model=name,
                    prediction=np.asarray(predicted, dtype=object),
                    train_clips=len(fx),
                    train_classes=",".join(c for c in CLASSES if c in set(fy)),
                ).reset_index()
            )
            if progress:
                progress(f"held out {unit}: {name} trained on {len(fx)} clips")
    return pd.concat(frames, ignore_index=True)


def _scores(
    part: pd.DataFrame, base: pd.DataFrame | None, n_boot: int, level: float, seed: int
) -> dict[str, object]:
    found = evaluation.intervals(
        part["label"], part["prediction"], part["group"], n_boot=n_boot, level=level, seed=seed
    )
    row: dict[str, object] = {
        "clips": len(part),
        "children": int(part["group"].nunique()),
        "uar": found["uar"],
        "recall": {c: v for c, v in found["recall"].items() if v is not None},
        "vs_compare_recipe": None,
    }
    if base is not None:
        row["vs_compare_recipe"] = evaluation.paired_against(
            part, base, "clip_id", n_boot=n_boot, level=level, seed=seed
        )
    return row


def summarise(
    predictions: pd.DataFrame,
    reference: str = baselines.COMPARE_RECIPE,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, object]:
    """Per recipe: each held-out unit's and the pooled scores (UAR over the classes present,
    per-class recall, each with a child-bootstrap interval) and the paired UAR difference to
    ``reference``; JSON-ready."""
    result: dict[str, object] = {"level": level, "n_boot": n_boot, "unit": "child", "models": {}}
    for name, rows in predictions.groupby("model", sort=False):
        base_rows = predictions[predictions["model"] == reference]
        paired = name != reference and len(base_rows)
        per_unit = {}
        for unit, part in rows.groupby("unit", sort=False):
            base = base_rows[base_rows["unit"] == unit] if paired else None
            per_unit[unit] = _scores(part, base, n_boot, level, seed) | {
                "synthetic": is_synthetic_corpus(str(unit)),
                "train_classes": str(part["train_classes"].iloc[0]),
            }
        pooled = _scores(rows, base_rows if paired else None, n_boot, level, seed)
        result["models"][name] = {"pooled": pooled, "held_out": per_unit}
    return result


def _cell(interval: Mapping[str, float] | None) -> str:
    if not interval:
        return ""
    return f"{interval['estimate']:.3f} [{interval['low']:.3f}, {interval['high']:.3f}]"


def table(summary: Mapping[str, object]) -> pd.DataFrame:
    """One row per (recipe, held-out unit) and a ``pooled`` row per recipe: clips, children,
    UAR, each class's recall (estimate [low, high]) and the paired difference to the ComParE
    recipe."""
    rows = []
    for name, scores in summary["models"].items():
        units = {**scores["held_out"], "pooled": scores["pooled"]}
        for unit, found in units.items():
            label = f"{unit} (synthetic)" if found.get("synthetic") else unit
            rows.append(
                {
                    "model": name,
                    "held out": label,
                    "clips": found["clips"],
                    "children": found["children"],
                    "UAR": _cell(found["uar"]),
                    **{f"recall {c}": _cell(found["recall"].get(c)) for c in CLASSES},
                    "UAR - ComParE recipe": _cell(found["vs_compare_recipe"]),
                }
            )
    frame = pd.DataFrame(rows)
    empty = [c for c in frame.columns if c.startswith("recall") and not frame[c].any()]
    return frame.drop(columns=empty)


def headline(summary: Mapping[str, object], model: str = REFERENCE) -> dict[str, object]:
    """The short form users see (model card, ``/model_info``, CLI): pooled LOCO UAR with its
    interval, the lowest per-class recall over real held-out corpora, the difference to the
    ComParE recipe, and the held-out corpora."""
    scores = summary["models"][model]
    real = {u: s for u, s in scores["held_out"].items() if not s["synthetic"]}
    recalls = [(u, c, r["estimate"]) for u, s in real.items() for c, r in s["recall"].items() if r]
    worst = min(recalls, key=lambda x: x[2]) if recalls else None
    return {
        "model": model,
        "pooled_uar": scores["pooled"]["uar"],
        "pooled_recall": {c: r["estimate"] for c, r in scores["pooled"]["recall"].items()},
        "vs_compare_recipe": scores["pooled"]["vs_compare_recipe"],
        "held_out": sorted(scores["held_out"]),
        "synthetic_held_out": sorted(u for u, s in scores["held_out"].items() if s["synthetic"]),
        "lowest_real_recall": {"corpus": worst[0], "class": worst[1], "recall": worst[2]}
        if worst
        else None,
        "level": summary["level"],
    }
