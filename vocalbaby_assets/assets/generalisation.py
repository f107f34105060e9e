"""Leave-one-corpus-out evaluation: the training recipe on corpora it never heard."""

import json
import time

import pandas as pd
from dagster import AssetExecutionContext, Config, MetadataValue, Output, asset
from pydantic import Field, field_validator

from vocalbaby import augmentation, baselines, generalisation, report, splits, synthetic
from vocalbaby.model import FAMILIES
from vocalbaby_assets.metadata import table_markdown
from vocalbaby_assets.progress import progress_logger
from vocalbaby_assets.report_files import note, write_reports
from vocalbaby_assets.resources import VocalBabySettings

GROUP = "evaluation"


class GeneralisationConfig(Config):
    """How corpora are held out, which variants of the recipe compete, and the intervals."""

    augment_copies: int = Field(
        default=2, ge=0, description="Augmented copies per training clip to try (0: not tried)."
    )
    normalise_prior_clips: float | None = Field(
        default=1.0, ge=0, description="Per-recording normalisation to try (None: not tried)."
    )
    families: list[str] = Field(
        default=list(FAMILIES),
        min_length=1,
        description="Model families to compete, in order of preference: 'xgboost' (the tuned "
        "parameters) and 'linear_svm' (C chosen on each training part).",
    )
    folds: int = Field(
        default=4, ge=2, description="Grouped folds of recordings for clips without a corpus."
    )
    bootstrap: int = Field(default=1000, ge=100, description="Child resamples of the intervals.")
    seed: int = 0
    n_jobs: int = Field(default=2, ge=1, description="XGBoost threads per fit.")

    @field_validator("families")
    @classmethod
    def _known(cls, families: list[str]) -> list[str]:
        unknown = sorted(set(families) - set(FAMILIES))
        if unknown:
            raise ValueError(f"unknown model families {unknown}; known: {FAMILIES}")
        return families

    def augmentation_config(self) -> augmentation.AugmentationConfig:
        """The augmentation tried (and used by the final model when chosen)."""
        return augmentation.AugmentationConfig(copies=max(self.augment_copies, 1), seed=self.seed)


@asset(group_name=GROUP)
def leave_one_corpus_out(
    context: AssetExecutionContext,
    config: GeneralisationConfig,
    settings: VocalBabySettings,
    raw_clips: pd.DataFrame,
    clip_features: pd.DataFrame,
    tuned_hyperparameters: dict,
    source_dataset: dict,
) -> Output[dict]:
    """Each corpus held out in turn: the pipeline's recipe and the ComParE recipe trained on the
    other corpora, scored on the held-out one (clips without a corpus: grouped folds of
    recordings). The recipe competes as XGBoost (tuned parameters) and as a linear SVM, each
    plain, with augmented training copies, normalised per recording, and both; with two or more
    corpora the first variant (XGBoost first, simplest first) within two points of the best
    pooled LOCO UAR is ``chosen``, and ``training_set`` and ``vocalbaby_model`` train the final
    model with it.

    Per corpus and class: recall and UAR with child-bootstrap intervals, paired UAR difference
    to the ComParE recipe; the pooled LOCO UAR over every held-out prediction. Synthetic corpora
    are labelled synthetic. The chosen variant's headline goes into the model bundle and card."""
    started = time.perf_counter()
    manifest = raw_clips[raw_clips["clip_id"].isin(clip_features.index)]
    groups = splits.groups(manifest).set_axis(manifest["clip_id"])
    manifest = manifest.set_index("clip_id")
    labels = manifest["label"]
    units = generalisation.held_out_units(
        manifest["corpus"], labels, groups, config.folds, config.seed
    )
    options = generalisation.option_grid(
        config.augment_copies > 0, config.normalise_prior_clips, config.families
    )
    extra = augmentation.training_copies(
        manifest,
        groups,
        augmentation.cache_uri(settings.path("augmented_cache"), settings.feature_set),
        config.augmentation_config(),
        progress=progress_logger(context.log, "augmented copies"),
        feature_set=settings.feature_set,
    )
    predictions = generalisation.predict_held_out(
        clip_features.loc[manifest.index],
        labels,
        groups,
        units,
        generalisation.recipes(
            tuned_hyperparameters["params"], config.seed, config.n_jobs, options
        ),
        extra=extra,
        progress=context.log.info,
    )
    summary = generalisation.summarise(predictions, n_boot=config.bootstrap, seed=config.seed)
    corpora = sorted(manifest["corpus"].dropna().astype(str).unique())
    selected = len(corpora) >= generalisation.MIN_CORPORA
    chosen = generalisation.choose(summary, options) if selected else generalisation.Options()
    headline = generalisation.headline(summary, chosen.name) | {
        "corpora": corpora,
        "synthetic_demo_data": synthetic.synthetic_only(corpora, bool(source_dataset["synthetic"])),
        "chosen": chosen.as_dict(),
        "chosen_by": "pooled LOCO UAR (simplest within 0.02 of the best)"
        if selected
        else "default (fewer than two corpora)",
    }
    recipe = {
        "family": chosen.family,
        "augmentation": config.augmentation_config().as_dict() if chosen.augment else None,
        "normalise_prior_clips": chosen.prior_clips,
    }
    shown = generalisation.table(summary)
    about = (
        f"{len(labels)} clips; held out in turn: {', '.join(map(str, units.unique()))}; "
        f"parameters: {tuned_hyperparameters['params']}. "
        f"UAR over the classes present, with 95% intervals resampling children; the last column: "
        f"UAR minus the {baselines.COMPARE_RECIPE}'s on the same clips (paired)."
    )
    values = {"summary": summary, "headline": headline, "recipe": recipe}
    uris = write_reports(
        settings,
        "leave_one_corpus_out",
        {
            "json": json.dumps(values, indent=2).encode(),
            "md": shown.to_markdown(index=False).encode(),
            "html": report.render(
                "VocalBaby leave-one-corpus-out",
                [("Held-out corpora", [about, shown])],
                note(settings),
            ).encode(),
        },
    )
    pooled = headline["pooled_uar"]
    context.log.info(f"LOCO UAR {pooled['estimate']:.3f}: {uris['html']}")
    difference = headline["vs_compare_recipe"] or {}
    return Output(
        values,
        metadata={
            "table": table_markdown(shown.set_index(["model", "held out"])),
            "chosen": chosen.name,
            "chosen_by": headline["chosen_by"],
            "loco_uar": pooled["estimate"],
            "loco_uar_ci_low": pooled["low"],
            "loco_uar_ci_high": pooled["high"],
            "loco_uar_minus_compare_recipe": difference.get("estimate", float("nan")),
            "held_out": MetadataValue.json(headline["held_out"]),
            "synthetic_held_out": MetadataValue.json(headline["synthetic_held_out"]),
            "synthetic_demo_data": headline["synthetic_demo_data"],
            "report": MetadataValue.path(uris["html"]),
            "json": MetadataValue.path(uris["json"]),
            "seconds": round(time.perf_counter() - started, 1),
        },
    )
