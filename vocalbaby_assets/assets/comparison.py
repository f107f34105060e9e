"""Model comparison and learning curve on child-disjoint folds of the development data."""

import json
import time

import pandas as pd
from dagster import AssetExecutionContext, Config, MetadataValue, Output, asset
from pydantic import Field

from vocalbaby import baselines, comparison, plots, report, splits
from vocalbaby_assets.metadata import png_markdown, table_markdown
from vocalbaby_assets.report_files import note, write_reports
from vocalbaby_assets.resources import VocalBabySettings

GROUP = "evaluation"


class ComparisonConfig(Config):
    """Which clips are cross-validated, and how."""

    splits: list[str] = Field(
        default=["train", "valid"],
        description="Splits whose children are cross-validated; test stays for model_evaluation.",
    )
    folds: int = Field(default=4, ge=2, description="Outer grouped folds (no child in two).")
    trials: int = Field(
        default=4, ge=1, description="Optuna trials per tunable model in each outer fold."
    )
    inner_folds: int = Field(default=2, ge=2, description="Grouped folds of the inner tuning.")
    bootstrap: int = Field(default=1000, ge=100, description="Child resamples of the intervals.")
    seed: int = 0


class LearningCurveConfig(Config):
    """Training-set sizes below 100 % (the full size comes from ``model_comparison``)."""

    fractions: list[float] = Field(
        default=[0.1, 0.25, 0.5],
        description="Shares of each fold's training children (at least two children).",
    )


@asset(group_name=GROUP)
def model_comparison(
    context: AssetExecutionContext,
    config: ComparisonConfig,
    settings: VocalBabySettings,
    clip_features: pd.DataFrame,
    data_splits: pd.DataFrame,
) -> Output[dict]:
    """The pipeline's XGBoost against XGBoost without SMOTE or with class weights, the ComParE
    recipe, a random forest, logistic regression and the majority class.

    All on the same child-disjoint outer folds of the development splits, each tunable model
    tuned inside every outer fold on that fold's training children with the same budget
    (nested: never tuned on a child it is scored on). Pooled out-of-fold UAR with a
    child-bootstrap interval per model, and each model's paired UAR difference to the ComParE
    recipe. The value keeps the predictions and per-fold parameters for ``learning_curve``.
    """
    started = time.perf_counter()
    features, labels, groups = splits.select(clip_features, data_splits, tuple(config.splits))
    predictions, params = comparison.cross_validate(
        features,
        labels,
        groups,
        folds=config.folds,
        trials=config.trials,
        inner_folds=config.inner_folds,
        seed=config.seed,
        progress=context.log.info,
    )
    table = comparison.pooled_scores(predictions, n_boot=config.bootstrap, seed=config.seed)
    png = plots.comparison_png(table)
    about = (
        f"{len(labels)} clips of {groups.nunique()} children ({' + '.join(config.splits)}), "
        f"{config.folds} child-disjoint outer folds; every tunable model tuned inside each "
        f"outer fold ({config.trials} Optuna trials, {config.inner_folds} inner grouped folds). "
        "UAR of the pooled out-of-fold predictions with 95% intervals resampling children; "
        f"vs_reference: UAR minus the {baselines.COMPARE_RECIPE}'s on the same clips (paired)."
    )
    shown = table.drop(columns=["fraction", "train_children"]).set_index("model")
    sections = [("Pooled out-of-fold UAR (95% CI)", [about, shown, png])]
    uris = write_reports(
        settings,
        "model_comparison",
        {
            "csv": shown.to_csv().encode(),
            "png": png,
            "html": report.render("VocalBaby model comparison", sections, note(settings)).encode(),
        },
    )
    context.log.info(f"model comparison in {time.perf_counter() - started:.0f} s: {uris['html']}")
    value = {
        "table": shown,
        "predictions": predictions,
        "params": params,
        "splits": list(config.splits),
        "folds": config.folds,
        "seed": config.seed,
        "bootstrap": config.bootstrap,
    }
    return Output(
        value,
        metadata={
            "table": table_markdown(shown),
            "plot": png_markdown(png, "model comparison"),
            "best_model": str(shown.index[0]),
            "reference_uar": float(shown.loc[comparison.REFERENCE, "uar"]),
            "reference_minus_compare_recipe": float(
                shown.loc[comparison.REFERENCE, "vs_reference"]
            ),
            "clips": len(labels),
            "children": int(groups.nunique()),
            "report": MetadataValue.path(uris["html"]),
            "csv": MetadataValue.path(uris["csv"]),
            "seconds": round(time.perf_counter() - started, 1),
        },
    )


@asset(group_name=GROUP)
def learning_curve(
    context: AssetExecutionContext,
    config: LearningCurveConfig,
    settings: VocalBabySettings,
    clip_features: pd.DataFrame,
    data_splits: pd.DataFrame,
    model_comparison: dict,
) -> Output[pd.DataFrame]:
    """UAR on held-out children against the share of training children, one line per model.

    Same folds, models and per-fold tuned parameters as ``model_comparison``; smaller training
    sets are nested random subsets of each fold's training children. Pooled out-of-fold UAR with
    a child-bootstrap interval per model and size.
    """
    started = time.perf_counter()
    features, labels, groups = splits.select(
        clip_features, data_splits, tuple(model_comparison["splits"])
    )
    smaller, _ = comparison.cross_validate(
        features,
        labels,
        groups,
        folds=model_comparison["folds"],
        fractions=sorted(f for f in config.fractions if 0 < f < 1),
        params=model_comparison["params"],
        seed=model_comparison["seed"],
    )
    curve = comparison.pooled_scores(
        pd.concat([smaller, model_comparison["predictions"]]),
        n_boot=model_comparison["bootstrap"],
        seed=model_comparison["seed"],
    )
    png = plots.learning_curve_png(curve)
    wide = curve.pivot(index="model", columns="fraction", values="uar")
    sections = [("UAR against training children (pooled out-of-fold, 95% CI)", [png, curve])]
    uris = write_reports(
        settings,
        "learning_curve",
        {
            "csv": curve.to_csv(index=False).encode(),
            "json": json.dumps(json.loads(curve.to_json(orient="records")), indent=2).encode(),
            "png": png,
            "html": report.render("VocalBaby learning curve", sections, note(settings)).encode(),
        },
    )
    context.log.info(f"learning curve in {time.perf_counter() - started:.0f} s: {uris['html']}")
    return Output(
        curve,
        metadata={
            "uar_by_fraction": table_markdown(wide.loc[model_comparison["table"].index]),
            "plot": png_markdown(png, "learning curve"),
            "report": MetadataValue.path(uris["html"]),
            "csv": MetadataValue.path(uris["csv"]),
            "json": MetadataValue.path(uris["json"]),
            "seconds": round(time.perf_counter() - started, 1),
        },
    )
