"""Model comparison and learning curve on child-disjoint folds of the development data."""

import json
import time

import pandas as pd
from dagster import AssetExecutionContext, Config, MetadataValue, Output, asset
from pydantic import Field

from vocalbaby import comparison, plots, report, splits, storage
from vocalbaby_assets.metadata import png_markdown, table_markdown
from vocalbaby_assets.resources import VocalBabySettings

GROUP = "evaluation"
NOTE = "SYNTHETIC demo data, not real infant audio."


class ComparisonConfig(Config):
    """Which clips are cross-validated, and how."""

    splits: list[str] = Field(
        default=["train", "valid"],
        description="Splits whose children are cross-validated; test stays for model_evaluation.",
    )
    folds: int = Field(default=4, ge=2, description="Grouped folds (no child in two folds).")
    bootstrap: int = Field(default=1000, ge=100, description="Child resamples of pooled CIs.")
    seed: int = 0


class LearningCurveConfig(Config):
    """Training-set sizes below 100 % (the full size comes from ``model_comparison``)."""

    fractions: list[float] = Field(
        default=[0.1, 0.25, 0.5],
        description="Shares of each fold's training children (at least two children).",
    )


def _write(settings: VocalBabySettings, name: str, files: dict[str, bytes]) -> dict[str, str]:
    """Store ``name.<ext>`` files under ``<artifacts>/reports`` and return their URIs."""
    uris = {ext: settings.path("reports", f"{name}.{ext}") for ext in files}
    for ext, data in files.items():
        storage.write_bytes(uris[ext], data)
    return uris


@asset(group_name=GROUP)
def model_comparison(
    context: AssetExecutionContext,
    config: ComparisonConfig,
    settings: VocalBabySettings,
    clip_features: pd.DataFrame,
    data_splits: pd.DataFrame,
    tuned_hyperparameters: dict,
) -> Output[dict]:
    """The tuned XGBoost pipeline against the ComParE 2019 SVM, a random forest, logistic
    regression, XGBoost without SMOTE or with class weights, and the majority class.

    All are fitted and scored on the same child-disjoint folds of the development splits: mean
    UAR over folds with its t-interval, and pooled out-of-fold UAR with a child-bootstrap one.
    The value keeps the out-of-fold predictions, which ``learning_curve`` reuses as its 100 %.
    """
    started = time.perf_counter()
    features, labels, groups = splits.select(clip_features, data_splits, tuple(config.splits))
    params = tuned_hyperparameters["params"]
    predictions = comparison.cross_validate(
        features, labels, groups, params, folds=config.folds, seed=config.seed
    )
    table = comparison.comparison_table(predictions, config.bootstrap, seed=config.seed)
    png = plots.comparison_png(table)
    about = (
        f"{len(labels)} clips of {groups.nunique()} children ({' + '.join(config.splits)}), "
        f"{config.folds} child-disjoint folds; XGBoost with the tuned parameters."
    )
    sections = [("Mean UAR over folds (95% CI)", [about, table, png])]
    uris = _write(
        settings,
        "model_comparison",
        {
            "csv": table.to_csv().encode(),
            "png": png,
            "html": report.render(
                "VocalBaby model comparison", sections, NOTE if settings.is_demo else ""
            ).encode(),
        },
    )
    context.log.info(f"model comparison in {time.perf_counter() - started:.0f} s: {uris['html']}")
    value = {
        "table": table,
        "predictions": predictions,
        "params": params,
        "splits": list(config.splits),
        "folds": config.folds,
        "seed": config.seed,
    }
    return Output(
        value,
        metadata={
            "table": table_markdown(table),
            "plot": png_markdown(png, "model comparison"),
            "best_model": str(table.index[0]),
            "reference_uar": float(table.loc[comparison.REFERENCE, "uar_mean"]),
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

    Same folds, parameters and models as ``model_comparison``; smaller training sets are nested
    random subsets of each fold's training children. Mean and t-interval over folds.
    """
    started = time.perf_counter()
    features, labels, groups = splits.select(
        clip_features, data_splits, tuple(model_comparison["splits"])
    )
    smaller = comparison.cross_validate(
        features,
        labels,
        groups,
        model_comparison["params"],
        folds=model_comparison["folds"],
        fractions=sorted(f for f in config.fractions if 0 < f < 1),
        seed=model_comparison["seed"],
    )
    curve = comparison.learning_curve(pd.concat([smaller, model_comparison["predictions"]]))
    png = plots.learning_curve_png(curve)
    wide = curve.pivot(index="model", columns="fraction", values="uar_mean")
    sections = [("UAR against training children (mean over folds, 95% CI)", [png, curve])]
    uris = _write(
        settings,
        "learning_curve",
        {
            "csv": curve.to_csv(index=False).encode(),
            "json": json.dumps(json.loads(curve.to_json(orient="records")), indent=2).encode(),
            "png": png,
            "html": report.render(
                "VocalBaby learning curve", sections, NOTE if settings.is_demo else ""
            ).encode(),
        },
    )
    context.log.info(f"learning curve in {time.perf_counter() - started:.0f} s: {uris['html']}")
    return Output(
        curve,
        metadata={
            "uar_by_fraction": table_markdown(wide.loc[curve["model"].unique()]),
            "plot": png_markdown(png, "learning curve"),
            "report": MetadataValue.path(uris["html"]),
            "csv": MetadataValue.path(uris["csv"]),
            "json": MetadataValue.path(uris["json"]),
            "seconds": round(time.perf_counter() - started, 1),
        },
    )
