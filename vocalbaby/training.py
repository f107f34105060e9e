"""Training: median imputation, SMOTE on training data only, XGBoost (or a linear SVM), grouped
CV and Optuna.

SMOTE only ever sees training rows: inside cross-validation it runs within each fold's
training part, so no synthetic neighbour of a validation clip leaks into its fold.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Literal, Protocol

import numpy as np
import optuna
import pandas as pd
import xgboost as xgb
from imblearn.over_sampling import SMOTE, RandomOverSampler
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.utils.class_weight import compute_sample_weight

from vocalbaby import provenance
from vocalbaby.baselines import COMPARE_C_GRID
from vocalbaby.labels import CLASSES
from vocalbaby.linear import LinearClassifier
from vocalbaby.metrics import uar
from vocalbaby.model import FAMILIES, LINEAR_SVM, XGBOOST, ModelBundle, extractor_config_for
from vocalbaby.normalisation import RecordingNormalisation

DEFAULT_PARAMS: dict[str, float | int] = {
    "max_depth": 4,
    "learning_rate": 0.1,
    "num_boost_round": 200,
    "min_child_weight": 1.0,
    "subsample": 0.9,
    "colsample_bytree": 0.8,
    "reg_lambda": 1.0,
    "gamma": 0.0,
}

Log = Callable[[str], None]
Params = Mapping[str, float | int]
Balance = Literal["smote", "weights", "none"]


@dataclass(frozen=True)
class TrainingSet:
    """Imputed, class-balanced (SMOTE by default) training rows, ready for XGBoost."""

    features: pd.DataFrame
    labels: pd.Series
    medians: pd.Series
    synthetic: np.ndarray
    weights: np.ndarray | None = None
    normalisation: RecordingNormalisation | None = None

    def class_counts(self, synthetic: bool | None = None) -> dict[str, int]:
        """Rows per class: all, only original (``False``) or only synthetic (``True``) rows."""
        mask = np.ones(len(self.labels), bool) if synthetic is None else self.synthetic == synthetic
        counts = self.labels[mask].value_counts()
        return {c: int(counts.get(c, 0)) for c in CLASSES}


def oversample(
    features: pd.DataFrame, labels: pd.Series, seed: int = 0
) -> tuple[pd.DataFrame, pd.Series, np.ndarray]:
    """Balance classes with SMOTE (random replication for a class of one clip).

    Returns the resampled features and labels, and a mask of the synthetic rows, which are
    appended after the original ones.
    """
    smallest = int(labels.value_counts().min())
    if labels.nunique() < 2:
        return features, labels, np.zeros(len(labels), bool)
    sampler = (
        SMOTE(k_neighbors=min(5, smallest - 1), random_state=seed)
        if smallest >= 2
        else RandomOverSampler(random_state=seed)
    )
    x_res, y_res = sampler.fit_resample(features, labels)
    synthetic = np.arange(len(y_res)) >= len(labels)
    return pd.DataFrame(x_res, columns=features.columns), pd.Series(y_res, name="label"), synthetic


def prepare(
    features: pd.DataFrame,
    labels: pd.Series,
    seed: int = 0,
    balance: Balance = "smote",
    recordings: pd.Series | None = None,
    prior_clips: float | None = None,
) -> TrainingSet:
    """Impute with training medians, then balance the classes: the training set of one fit.

    ``balance``: ``"smote"`` oversamples (the pipeline's choice), ``"weights"`` keeps the rows and
    weights each class inversely to its size, ``"none"`` keeps the rows as they are. With
    ``prior_clips``, features are first normalised per recording (``recordings``: each row's
    recording, e.g. its child; see :mod:`vocalbaby.normalisation`).
    """
    normalisation = None
    if prior_clips is not None:
        normalisation = RecordingNormalisation.fit(features, prior_clips)
        features = normalisation.apply(features, recordings)
    medians = features.median().fillna(0.0)
    imputed = features.fillna(medians).reset_index(drop=True)
    labels = labels.reset_index(drop=True)
    if balance == "smote":
        imputed, labels, synthetic = oversample(imputed, labels, seed)
    else:
        synthetic = np.zeros(len(labels), bool)
    weights = compute_sample_weight("balanced", labels) if balance == "weights" else None
    return TrainingSet(
        imputed.reset_index(drop=True),
        labels.reset_index(drop=True),
        medians,
        synthetic,
        weights,
        normalisation,
    )


def _booster_params(params: dict[str, float | int], seed: int, n_jobs: int) -> dict[str, object]:
    return {
        "objective": "multi:softprob",
        "num_class": len(CLASSES),
        "tree_method": "hist",
        "eval_metric": "mlogloss",
        "max_depth": int(params["max_depth"]),
        "eta": float(params["learning_rate"]),
        "min_child_weight": float(params["min_child_weight"]),
        "subsample": float(params["subsample"]),
        "colsample_bytree": float(params["colsample_bytree"]),
        "lambda": float(params["reg_lambda"]),
        "gamma": float(params["gamma"]),
        "seed": seed,
        "nthread": n_jobs,
    }


def fit(
    training_set: TrainingSet,
    params: Params,
    seed: int = 0,
    n_jobs: int = 1,
    family: str = XGBOOST,
) -> ModelBundle:
    """Fit XGBoost (``params``: booster parameters) or, with ``family="linear_svm"``, a linear
    SVM (``params``: its ``C``) on a prepared training set; wrap it with its imputer in a
    bundle."""
    if family not in FAMILIES:
        raise ValueError(f"unknown model family {family!r}; known: {FAMILIES}")
    names = list(training_set.features.columns)
    bundle = ModelBundle(
        None,
        training_set.medians.reindex(names),
        list(CLASSES),
        names,
        feature_config=extractor_config_for(names),
        normalisation=training_set.normalisation,
    )
    if family == LINEAR_SVM:
        bundle.linear = LinearClassifier.fit(
            training_set.features, training_set.labels, float(params["C"]), seed
        )
        return bundle
    target = training_set.labels.map({c: i for i, c in enumerate(CLASSES)}).to_numpy()
    matrix = xgb.DMatrix(
        training_set.features.to_numpy(np.float32), label=target, weight=training_set.weights
    )
    bundle.booster = xgb.train(
        _booster_params(params, seed, n_jobs),
        matrix,
        num_boost_round=int(params["num_boost_round"]),
    )
    return bundle


def train(
    features: pd.DataFrame,
    labels: pd.Series,
    params: Params,
    seed: int = 0,
    n_jobs: int = 1,
    balance: Balance = "smote",
    recordings: pd.Series | None = None,
    prior_clips: float | None = None,
    family: str = XGBOOST,
) -> ModelBundle:
    """Prepare (normalise per recording when asked, impute, balance: SMOTE by default) and fit
    ``family`` in one call."""
    prepared = prepare(features, labels, seed, balance, recordings, prior_clips)
    return fit(prepared, params, seed, n_jobs, family)


def grouped_folds(
    labels: pd.Series, groups: pd.Series, folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds that never put one group (child) on both sides."""
    n_splits = min(folds, groups.nunique())
    if n_splits < 2:
        raise ValueError("cross-validation needs at least two groups (children)")
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(labels)), labels, groups))


class Predictor(Protocol):
    """A fitted model."""

    def predict(self, features: pd.DataFrame) -> Sequence[str]:
        """The predicted class of each row."""


Fit = Callable[[pd.DataFrame, pd.Series, pd.Series, Params], Predictor]
"""``fit(features, labels, groups, params)``: a fitted model (``groups`` for fits that hold
children out themselves)."""


def xgboost_fit(
    seed: int = 0, n_jobs: int = 1, balance: Balance = "smote", prior_clips: float | None = None
) -> Fit:
    """The pipeline's recipe as a :data:`Fit`: imputation, ``balance`` (SMOTE by default) and
    XGBoost; parameters not given keep :data:`DEFAULT_PARAMS`. With ``prior_clips``, features
    are normalised per recording (the fit's ``groups``) first."""

    def fit(
        features: pd.DataFrame, labels: pd.Series, groups: pd.Series, params: Params
    ) -> Predictor:
        return train(
            features,
            labels,
            DEFAULT_PARAMS | dict(params),
            seed,
            n_jobs,
            balance,
            groups if prior_clips is not None else None,
            prior_clips,
        )

    return fit


def linear_fit(seed: int = 0, prior_clips: float | None = None, folds: int = 4) -> Fit:
    """A linear SVM as a :data:`Fit`, prepared as the XGBoost recipe is (normalisation when
    asked, imputation, SMOTE); ``C`` from ``params``, or else chosen on the rows it is given
    (:func:`choose_c`, grouped by the fit's ``groups``)."""

    def fit(
        features: pd.DataFrame, labels: pd.Series, groups: pd.Series, params: Params
    ) -> Predictor:
        c = params.get("C") or choose_c(features, labels, groups, folds, seed, prior_clips)[0]
        recordings = groups if prior_clips is not None else None
        found = {"C": c}
        return train(features, labels, found, seed, 1, "smote", recordings, prior_clips, LINEAR_SVM)

    return fit


def choose_c(
    features: pd.DataFrame,
    labels: pd.Series,
    groups: pd.Series,
    folds: int = 4,
    seed: int = 0,
    prior_clips: float | None = None,
) -> tuple[float, float]:
    """The linear SVM's ``C`` (from the ComParE baseline's grid, 1e-5..1) with the best mean
    child-grouped CV UAR, and that UAR."""
    scores = {
        c: float(
            np.mean(
                cross_validate(
                    features, labels, groups, {"C": c}, folds, seed, linear_fit(seed, prior_clips)
                )
            )
        )
        for c in COMPARE_C_GRID
    }
    best = max(scores, key=scores.get)
    return best, scores[best]


def cross_validate(
    features: pd.DataFrame,
    labels: pd.Series,
    groups: pd.Series,
    params: Params,
    folds: int = 5,
    seed: int = 0,
    fit: Fit | None = None,
    on_fold: Callable[[int, float], None] | None = None,
) -> list[float]:
    """UAR of each grouped fold of ``fit`` (default: the pipeline's XGBoost recipe); whatever
    ``fit`` resamples (SMOTE) sees each fold's training part only.

    ``on_fold(index, running_mean)`` is called after each fold (Optuna pruning hooks in there).
    """
    fit = fit or xgboost_fit(seed)
    features, labels, groups = (x.reset_index(drop=True) for x in (features, labels, groups))
    scores: list[float] = []
    for index, (train_idx, test_idx) in enumerate(grouped_folds(labels, groups, folds, seed)):
        model = fit(
            features.iloc[train_idx], labels.iloc[train_idx], groups.iloc[train_idx], params
        )
        scores.append(uar(labels.iloc[test_idx], model.predict(features.iloc[test_idx])))
        if on_fold:
            on_fold(index, float(np.mean(scores)))
    return scores


def out_of_fold(
    features: pd.DataFrame,
    labels: pd.Series,
    groups: pd.Series,
    params: Params,
    folds: int = 4,
    seed: int = 0,
    fit: Fit | None = None,
) -> pd.Series:
    """Each clip's prediction by the recipe trained without its child (grouped folds), indexed
    like ``features``: how the model predicts children it never saw."""
    fit = fit or xgboost_fit(seed)
    predicted = pd.Series(index=features.index, dtype=object, name="predicted")
    for train_idx, test_idx in grouped_folds(labels, groups, folds, seed):
        model = fit(
            features.iloc[train_idx], labels.iloc[train_idx], groups.iloc[train_idx], params
        )
        predicted.iloc[test_idx] = np.asarray(model.predict(features.iloc[test_idx]), dtype=object)
    return predicted


@dataclass(frozen=True)
class Param:
    """The range of one hyperparameter (Optuna's ``suggest_int`` / ``suggest_float``)."""

    low: float
    high: float
    log: bool = False
    step: float | None = None
    integer: bool = False

    def suggest(self, trial: optuna.Trial, name: str) -> float | int:
        """A value for ``name`` from ``trial``."""
        if self.integer:
            step = int(self.step or 1)
            return trial.suggest_int(name, int(self.low), int(self.high), step=step, log=self.log)
        return trial.suggest_float(name, self.low, self.high, log=self.log, step=self.step)


SearchSpace = Mapping[str, Param]
XGBOOST_SPACE: dict[str, Param] = {
    "max_depth": Param(2, 8, integer=True),
    "learning_rate": Param(0.02, 0.3, log=True),
    "num_boost_round": Param(50, 400, step=25, integer=True),
    "min_child_weight": Param(0.5, 10.0, log=True),
    "subsample": Param(0.6, 1.0),
    "colsample_bytree": Param(0.4, 1.0),
    "reg_lambda": Param(1e-3, 10.0, log=True),
    "gamma": Param(0.0, 2.0),
}


def suggest(trial: optuna.Trial, space: SearchSpace) -> dict[str, float | int]:
    """One point of ``space``."""
    return {name: param.suggest(trial, name) for name, param in space.items()}


def code_version() -> str:
    """A digest of what decides a tuning result besides the data: this module's source and the
    versions of the libraries it fits with."""
    source = inspect.getsource(sys.modules[__name__]).encode()
    versions = provenance.package_versions(
        ("vocalbaby", "xgboost", "xgboost-cpu", "imbalanced-learn", "scikit-learn", "optuna")
    )
    return hashlib.sha256(source + json.dumps(versions, sort_keys=True).encode()).hexdigest()


def study_name(
    features: pd.DataFrame,
    labels: pd.Series,
    groups: pd.Series,
    space: SearchSpace,
    folds: int,
    seed: int,
    prefix: str = "vocalbaby",
) -> str:
    """A study name that changes whenever a stored study's trials no longer apply: other
    features, labels (e.g. after annotators' corrections) or children, another search space,
    folds or seed, or another version of the training code. A changed name starts a new study
    and leaves the old one in the storage."""
    digest = hashlib.sha256()
    digest.update(provenance.frame_hash(features).encode())
    digest.update("|".join(map(str, labels)).encode())
    digest.update("|".join(map(str, groups)).encode())
    digest.update(json.dumps({k: asdict(v) for k, v in space.items()}, sort_keys=True).encode())
    digest.update(f"{folds}|{seed}|{code_version()}".encode())
    return f"{prefix}-{digest.hexdigest()[:16]}"


@dataclass(frozen=True)
class TuningResult:
    """The best parameters found, their CV UAR, and every trial of the study."""

    best_params: dict[str, float | int]
    best_uar: float
    trials: pd.DataFrame
    study_name: str
    storage: str | None
    resumed_trials: int = 0


def tune(
    features: pd.DataFrame,
    labels: pd.Series,
    groups: pd.Series,
    n_trials: int,
    seed: int = 0,
    folds: int = 5,
    storage: str | None = None,
    study_name: str = "vocalbaby",
    fit: Fit | None = None,
    space: SearchSpace = XGBOOST_SPACE,
    first: Params | None = None,
    log: Log = print,
) -> TuningResult:
    """Maximise grouped-CV UAR of ``fit`` (default: the pipeline's XGBoost recipe) over
    ``space`` with seeded TPE and median pruning; ``first`` is tried first (e.g.
    :data:`DEFAULT_PARAMS`).

    With ``storage`` (an Optuna RDB URL) the study persists and is shared: a re-run with the same
    name resumes, and several workers can tune one study. Trials are added until the study holds
    ``n_trials`` finished ones.
    """
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    fit = fit or xgboost_fit(seed)
    study = optuna.create_study(
        study_name=study_name,
        storage=storage,
        load_if_exists=True,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1),
    )
    finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    resumed = len(study.get_trials(states=finished))
    if not study.trials and first:
        study.enqueue_trial(dict(first))
    started = time.perf_counter()

    def objective(trial: optuna.Trial) -> float:
        def report(fold: int, running: float) -> None:
            trial.report(running, fold)
            if trial.should_prune():
                raise optuna.TrialPruned()

        params = suggest(trial, space)
        return float(
            np.mean(cross_validate(features, labels, groups, params, folds, seed, fit, report))
        )

    def progress(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        done = len(study.get_trials(states=finished))
        elapsed = time.perf_counter() - started
        value = "pruned" if trial.value is None else f"UAR {trial.value:.3f}"
        best = study.best_value if any(t.value is not None for t in study.trials) else float("nan")
        log(
            f"trial {trial.number}: {value}; best {best:.3f}; {done}/{n_trials} trials; "
            f"{elapsed:.0f} s elapsed"
        )

    if n_trials - resumed > 0:
        stop = optuna.study.MaxTrialsCallback(n_trials, states=finished)
        study.optimize(objective, n_trials=n_trials - resumed, callbacks=[stop, progress])
    trials = study.trials_dataframe(attrs=("number", "value", "state", "params", "duration"))
    return TuningResult(
        study.best_params, float(study.best_value), trials, study_name, storage, resumed
    )
