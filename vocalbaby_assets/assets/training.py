"""SMOTE-resampled training set, tuned hyperparameters (XGBoost by Optuna, the linear SVM's C by
grid) and the final model bundle, in the family ``leave_one_corpus_out`` chose."""

from datetime import UTC, datetime

import pandas as pd
from dagster import AssetExecutionContext, Config, MetadataValue, Output, asset
from pydantic import Field

from vocalbaby import (
    augmentation,
    evaluation,
    generalisation,
    provenance,
    splits,
    synthetic,
    training,
)
from vocalbaby.model import LINEAR_SVM, XGBOOST, ModelBundle
from vocalbaby.plots import optimisation_history_png
from vocalbaby_assets.metadata import counts_markdown, png_markdown, table_markdown
from vocalbaby_assets.resources import VocalBabySettings

GROUP = "training"


class SeedConfig(Config):
    """Seed of SMOTE and XGBoost."""

    seed: int = 0


@asset(group_name=GROUP)
def training_set(
    config: SeedConfig,
    settings: VocalBabySettings,
    raw_clips: pd.DataFrame,
    clip_features: pd.DataFrame,
    data_splits: pd.DataFrame,
    leave_one_corpus_out: dict,
) -> Output[training.TrainingSet]:
    """train + valid clips in the variant of the recipe ``leave_one_corpus_out`` chose: with
    augmented copies of these clips (noise from their own junk clips) and/or normalised per
    recording (child) when chosen; median-imputed and balanced with SMOTE. What the final
    model sees.

    Augmentation and SMOTE run after splitting and never touch the test split.
    """
    recipe = leave_one_corpus_out["recipe"]
    features, labels, groups = splits.select(clip_features, data_splits, ("train", "valid"))
    original = len(labels)
    if recipe["augmentation"]:
        extra = augmentation.training_copies(
            raw_clips.set_index("clip_id"),
            groups,
            augmentation.cache_uri(settings.path("augmented_cache"), settings.feature_set),
            augmentation.AugmentationConfig.from_dict(recipe["augmentation"]),
            feature_set=settings.feature_set,
        )
        features, labels, groups = (
            pd.concat([a, b])
            for a, b in zip((features, labels, groups), extra(features.index), strict=True)
        )
    prepared = training.prepare(
        features,
        labels,
        config.seed,
        recordings=groups,
        prior_clips=recipe["normalise_prior_clips"],
    )
    return Output(
        prepared,
        metadata={
            "rows": len(prepared.labels),
            "augmented_rows": len(labels) - original,
            "recipe": MetadataValue.json(recipe),
            "synthetic_rows": int(prepared.synthetic.sum()),
            "class_counts": counts_markdown(
                {"original": prepared.class_counts(False), "after_smote": prepared.class_counts()}
            ),
        },
    )


class TuningConfig(Config):
    """Optuna search settings."""

    n_trials: int = Field(
        default=12, ge=1, description="Trials (40 as the original for full data)."
    )
    folds: int = Field(default=4, ge=2, description="Grouped CV folds on the train split.")
    seed: int = 0
    n_jobs: int = Field(default=2, ge=1, description="XGBoost threads per fit.")


@asset(group_name=GROUP)
def tuned_hyperparameters(
    context: AssetExecutionContext,
    config: TuningConfig,
    settings: VocalBabySettings,
    raw_clips: pd.DataFrame,
    clip_features: pd.DataFrame,
    data_splits: pd.DataFrame,
) -> Output[dict]:
    """XGBoost parameters maximising grouped CV UAR on the train split (seeded TPE), and the
    linear SVM's ``C`` (``linear_params``) from the ComParE baseline's grid by the same CV.

    The folds hold whole corpora out where the train split names two or more (the score that
    matters is on sources never heard, as ``leave_one_corpus_out`` measures it), else children
    (:func:`vocalbaby.generalisation.tuning_groups`). SMOTE runs inside each fold; unpromising
    trials are pruned after a fold by the median rule.
    The study persists (SQLite under local artifacts, or ``optuna_storage``). Its name is a
    digest of the features, labels, groups, search space, folds, seed and training code
    (:func:`vocalbaby.training.study_name`): a re-run on the same inputs resumes the study, and
    any change (e.g. annotators' label corrections) starts a new one, keeping the old.
    """
    features, labels, children = splits.select(clip_features, data_splits, ("train",))
    corpus = raw_clips.set_index("clip_id")["corpus"].reindex(features.index)
    group_ids = generalisation.tuning_groups(corpus, children)
    folds_by = "corpus" if group_ids is not children else "child"
    space = training.XGBOOST_SPACE
    study = training.study_name(features, labels, group_ids, space, config.folds, config.seed)
    context.log.info(
        f"tuning on {len(features)} clips, {group_ids.nunique()} groups by {folds_by}: {study}"
    )
    result = training.tune(
        features,
        labels,
        group_ids,
        n_trials=config.n_trials,
        seed=config.seed,
        folds=config.folds,
        storage=settings.study_storage(),
        study_name=study,
        fit=training.xgboost_fit(config.seed, config.n_jobs),
        space=space,
        first=training.DEFAULT_PARAMS,
        log=context.log.info,
    )
    if result.resumed_trials:
        context.log.info(f"resumed {study}: {result.resumed_trials} trials were already done")
    c, linear_uar = training.choose_c(features, labels, group_ids, config.folds, config.seed)
    context.log.info(f"linear SVM: C={c:g}, CV UAR {linear_uar:.3f}")
    trials = result.trials
    return Output(
        {
            "params": result.best_params,
            "cv_uar": result.best_uar,
            "study": study,
            "linear_params": {"C": c},
            "linear_cv_uar": linear_uar,
            "folds_grouped_by": folds_by,
        },
        metadata={
            "cv_uar": result.best_uar,
            "best_params": MetadataValue.json(result.best_params),
            "folds_grouped_by": folds_by,
            "linear_svm_c": c,
            "linear_svm_cv_uar": linear_uar,
            "trials": len(trials),
            "pruned_trials": int((trials["state"] == "PRUNED").sum()),
            "study": study,
            "resumed_trials": result.resumed_trials,
            "study_storage": result.storage or "in memory",
            "optimisation_history": png_markdown(
                optimisation_history_png(trials), "Optuna history"
            ),
        },
    )


class ModelConfig(SeedConfig):
    """Seed, and whether to calibrate the probabilities."""

    calibrate: bool = Field(
        default=True,
        description="Temperature-scale the probabilities when that lowers ECE on valid.",
    )


def _calibration(
    clip_features: pd.DataFrame,
    data_splits: pd.DataFrame,
    params: dict,
    seed: int,
    prior_clips: float | None,
    family: str,
) -> evaluation.Calibration:
    """A temperature fitted on valid predictions of the same recipe trained on train only.

    The final model also learns from valid, so its own valid predictions are not held out.
    """
    train_x, train_y, train_g = splits.select(clip_features, data_splits, ("train",))
    valid_x, valid_y, valid_g = splits.select(clip_features, data_splits, ("valid",))
    held_out = training.train(
        train_x,
        train_y,
        params,
        seed,
        n_jobs=2,
        recordings=train_g,
        prior_clips=prior_clips,
        family=family,
    )
    return evaluation.calibrate(held_out.predict_proba(valid_x, valid_g), valid_y)


@asset(group_name=GROUP)
def vocalbaby_model(
    context: AssetExecutionContext,
    config: ModelConfig,
    settings: VocalBabySettings,
    training_set: training.TrainingSet,
    tuned_hyperparameters: dict,
    source_dataset: dict,
    raw_clips: pd.DataFrame,
    clip_features: pd.DataFrame,
    data_splits: pd.DataFrame,
    leave_one_corpus_out: dict,
) -> Output[ModelBundle]:
    """The chosen family (XGBoost, or a linear SVM) refit on train + valid with its tuned
    parameters, saved as a model bundle.

    With ``calibrate``, a temperature fitted on the valid split is stored in the bundle when it
    lowers the expected calibration error there (it never changes a prediction's class). The
    bundle records the corpora it was trained on and the recipe's leave-one-corpus-out figure
    (``generalisation``), which the model card, ``/model_info`` and ``vocalbaby evaluate`` show.
    """
    family = leave_one_corpus_out["recipe"].get("family", XGBOOST)
    params = tuned_hyperparameters["linear_params" if family == LINEAR_SVM else "params"]
    bundle = training.fit(training_set, params, config.seed, n_jobs=2, family=family)
    prior = training_set.normalisation.prior_clips if training_set.normalisation else None
    calibration = (
        _calibration(clip_features, data_splits, params, config.seed, prior, family)
        if config.calibrate
        else None
    )
    if calibration:
        bundle.temperature = calibration.temperature
        context.log.info(f"calibration on valid: {calibration.as_dict()}")
    corpora = _corpora(raw_clips, data_splits)
    created = datetime.now(UTC)
    dataset_hash = provenance.frame_hash(raw_clips[["clip_id", "label", "sha256"]])
    version = f"{created:%Y%m%dT%H%M%SZ}-{dataset_hash[:8]}"
    bundle.metadata = {
        "version": version,
        "created": created.isoformat(),
        "model_family": family,
        "params": params,
        "cv_uar": tuned_hyperparameters["linear_cv_uar" if family == LINEAR_SVM else "cv_uar"],
        "calibration": calibration.as_dict() if calibration else None,
        "dataset_hash": dataset_hash,
        "dataset_uri": source_dataset["uri"],
        "synthetic_demo_data": synthetic.synthetic_only(corpora, bool(source_dataset["synthetic"])),
        "trained_corpora": corpora,
        "generalisation": leave_one_corpus_out["headline"],
        "recipe": leave_one_corpus_out["recipe"],
        "training_rows": len(training_set.labels),
        "class_counts": training_set.class_counts(False),
        "git_commit": provenance.git_commit(),
        "packages": provenance.package_versions(),
    }
    uri = bundle.save(settings.path("models", version))
    context.log.info(f"saved model bundle {version} to {uri}")
    return Output(
        bundle,
        metadata={
            "version": version,
            "bundle_uri": uri,
            "model_family": family,
            "params": MetadataValue.json(params),
            "temperature": bundle.temperature,
            "calibration": MetadataValue.json(calibration.as_dict() if calibration else {}),
            "top_features": table_markdown(_top_features(bundle)),
            "synthetic_demo_data": bundle.metadata["synthetic_demo_data"],
            "trained_corpora": MetadataValue.json(bundle.metadata["trained_corpora"]),
            "recipe": MetadataValue.json(leave_one_corpus_out["recipe"]),
            "loco_uar": leave_one_corpus_out["headline"]["pooled_uar"]["estimate"],
        },
    )


def _corpora(raw_clips: pd.DataFrame, data_splits: pd.DataFrame) -> list[str]:
    """The corpora of the clips the model is fit on (train + valid)."""
    fitted = data_splits.loc[data_splits["split"].isin(["train", "valid"]), "clip_id"]
    corpora = raw_clips.loc[raw_clips["clip_id"].isin(fitted), "corpus"].dropna()
    return sorted(corpora.astype(str).unique())


def _top_features(bundle: ModelBundle, n: int = 15) -> pd.DataFrame:
    return bundle.importance().head(n).to_frame("share of importance")
