"""Drift of the service's prediction log against the training features (Evidently).

``production_batches`` and ``drift_report`` are partitioned by the log's days
(``date=YYYY-MM-DD`` folders): dynamic partitions that the ``prediction_log_sensor`` adds as
days appear, so only days with predictions exist as partitions.
"""

from typing import Literal

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetSelection,
    Config,
    DynamicPartitionsDefinition,
    MaterializeResult,
    MetadataValue,
    Output,
    asset,
    define_asset_job,
)
from pydantic import Field

from vocalbaby import drift, splits, training
from vocalbaby.labels import CLASSES
from vocalbaby_assets.metadata import table_markdown
from vocalbaby_assets.resources import VocalBabySettings

GROUP = "drift"
DEFAULTS = drift.DriftConfig()
log_days = DynamicPartitionsDefinition(name="prediction_log_days")


@asset(group_name=GROUP)
def reference_features(
    clip_features: pd.DataFrame, data_splits: pd.DataFrame, tuned_hyperparameters: dict
) -> Output[pd.DataFrame]:
    """What production is compared with: the train split's 88 features, true labels, children,
    and the model recipe's out-of-fold predictions (``predicted``).

    Production labels are predictions, so they are compared with predictions: each train clip
    is predicted by the recipe with the tuned parameters trained without its child (grouped
    folds), as the served model predicts children it never saw.
    """
    table, labels, groups = splits.select(clip_features, data_splits, ("train",))
    params = tuned_hyperparameters["params"]
    predicted = training.out_of_fold(table, labels, groups, params, folds=4, seed=0)
    table = table.assign(label=labels, predicted=predicted, child_id=groups)
    shares = pd.DataFrame(
        {
            "true": table["label"].value_counts(normalize=True),
            "predicted (out of fold)": table["predicted"].value_counts(normalize=True),
        }
    ).reindex(CLASSES, fill_value=0.0)
    return Output(
        table,
        metadata={
            "rows": len(table),
            "silent_rows": int(drift.silent_rows(table).sum()),
            "children": int(groups.nunique()),
            "label_shares": table_markdown(shares.fillna(0.0)),
        },
    )


class CalibrationConfig(Config):
    """How the drift thresholds are calibrated on single-child batches of the reference."""

    quantile: float = Field(
        default=0.95, gt=0.5, lt=1, description="Share of single-child batches that must pass."
    )
    days_per_child: int = Field(
        default=6,
        ge=1,
        description="Batches per held-out child: all its clips, and random subsets (days).",
    )


@asset(group_name=GROUP)
def drift_calibration(
    context: AssetExecutionContext, config: CalibrationConfig, reference_features: pd.DataFrame
) -> Output[dict]:
    """Drift thresholds calibrated on the unit production sees: one child's clips.

    Every train child is held out in turn and compared, whole and in small random subsets, with
    the other children: per-feature thresholds, the share of drifted features and the label
    distance that such batches reach in ``quantile`` of the cases (block resampling by child).
    With too few children the calibrated defaults are used, and the metadata says so.
    """
    try:
        found = drift.calibrate(
            reference_features, DEFAULTS, config.quantile, config.days_per_child
        )
    except ValueError as exc:
        context.log.warning(f"drift thresholds not calibrated: {exc}; using the defaults")
        return Output({}, metadata={"calibrated": False, "reason": str(exc)})
    thresholds = pd.Series(found.feature_thresholds).sort_values(ascending=False)
    return Output(
        found.to_dict(),
        metadata={
            "calibrated": True,
            "children": found.children,
            "batches": found.batches,
            "quantile": found.quantile,
            "drift_share_threshold": found.drift_share,
            "label_threshold": found.label_threshold or MetadataValue.text("n/a"),
            "feature_thresholds": table_markdown(
                thresholds.describe().to_frame("normed Wasserstein")
            ),
        },
    )


@asset(group_name=GROUP, partitions_def=log_days)
def production_batches(
    context: AssetExecutionContext, settings: VocalBabySettings
) -> Output[pd.DataFrame]:
    """One day of the prediction log: features, predicted label, timestamp, model version (and
    the rows of silent windows, which the drift tests leave out)."""
    table = drift.read_log(settings.locations.prediction_log, day=context.partition_key)
    versions = table.get(drift.MODEL_VERSION, pd.Series(dtype=str)).dropna().unique()
    return Output(
        table,
        metadata={
            "rows": len(table),
            "silent_rows": int(drift.silent_rows(table).sum()),
            "model_versions": MetadataValue.json(sorted(map(str, versions))),
            "first_timestamp": str(table[drift.TIMESTAMP].min()),
            "last_timestamp": str(table[drift.TIMESTAMP].max()),
            "predicted_labels": table_markdown(
                table["label"].value_counts().to_frame("rows"), floatfmt="d"
            ),
        },
    )


class DriftReportConfig(Config):
    """Floors under the calibrated thresholds (see ``vocalbaby.drift``) and check severity."""

    drift_share: float = Field(
        default=DEFAULTS.drift_share,
        gt=0,
        le=1,
        description="Lowest share of drifted features that is drift (the calibrated one may be "
        "higher).",
    )
    feature_threshold: float = Field(
        default=DEFAULTS.features.floor,
        gt=0,
        description="Normed Wasserstein distance at which a feature drifts without calibration.",
    )
    label_threshold: float = Field(
        default=DEFAULTS.labels.floor,
        gt=0,
        description="Jensen-Shannon distance at which the label distribution drifts without "
        "calibration.",
    )
    check_severity: Literal["WARN", "ERROR"] = Field(
        default="WARN", description="Severity of the drift checks when they fail."
    )

    def drift_config(self, calibration: dict) -> drift.DriftConfig:
        """The core configuration: these floors and ``drift_calibration``'s thresholds."""
        return drift.DriftConfig(
            features=drift.Threshold(self.feature_threshold, DEFAULTS.features.noise),
            labels=drift.Threshold(self.label_threshold, DEFAULTS.labels.noise),
            drift_share=self.drift_share,
            calibration=drift.Calibration.from_dict(calibration) if calibration else None,
        )


def _checks(result: drift.DriftResult, severity: AssetCheckSeverity) -> list[AssetCheckResult]:
    if result.reason:
        share = f"not judged: {result.reason}"
    else:
        share = f"{result.drift_share:.1%} of features drifted"
        share += f" (threshold {result.drift_share_threshold:.0%})"
    if result.label_score is not None:
        label = f"label distance {result.label_score:.3f} (threshold {result.label_threshold:.3f})"
    else:
        label = f"not judged: {result.label_reason or 'no labels to compare'}"
    return [
        AssetCheckResult(
            check_name="feature_drift",
            passed=not result.dataset_drift,
            severity=severity,
            description=share,
            metadata={
                "drift_share": result.drift_share,
                "drifted_features": len(result.drifted),
                "skipped_features": len(result.skipped),
            },
        ),
        AssetCheckResult(
            check_name="label_drift",
            passed=not result.label_drift,
            severity=severity,
            description=label,
            metadata={"label_score": result.label_score},
        ),
    ]


@asset(
    group_name=GROUP,
    partitions_def=log_days,
    check_specs=[
        AssetCheckSpec(
            "feature_drift", asset="drift_report", description="Drift share below threshold."
        ),
        AssetCheckSpec(
            "label_drift",
            asset="drift_report",
            description="Predicted labels as the reference model predicts them.",
        ),
    ],
)
def drift_report(
    context: AssetExecutionContext,
    config: DriftReportConfig,
    settings: VocalBabySettings,
    reference_features: pd.DataFrame,
    drift_calibration: dict,
    production_batches: pd.DataFrame,
) -> MaterializeResult:
    """Evidently data drift of one day of predictions against the training features.

    The 88 features (normed Wasserstein, per-feature thresholds calibrated on single-child
    batches) and the predicted-label distribution against the reference model's out-of-fold
    predictions (Jensen-Shannon). An empty day, features without values and too few labels are
    reported with the reason, never as an error. HTML and JSON go to
    ``<artifacts>/drift/<day>/``; the score goes to the Pushgateway when one is configured.
    """
    day = context.partition_key
    found = drift.compare(
        reference_features, production_batches, config.drift_config(drift_calibration)
    )
    files = drift.save(found, settings.path("drift", day, "report.html"))
    if settings.pushgateway_url and found.reason is None:
        drift.push(found, settings.pushgateway_url, labels={"partition": day})
        context.log.info(f"pushed the drift score to {settings.pushgateway_url}")
    top = found.scores.head(10).to_frame("normed Wasserstein distance")
    top["threshold"] = found.thresholds.reindex(top.index)
    top["drifted"] = top.index.isin(found.drifted)
    shares = found.label_shares
    return MaterializeResult(
        metadata={
            "drift_share": found.drift_share,
            "drift_share_threshold": found.drift_share_threshold,
            "drifted_features": len(found.drifted),
            "dataset_drift": found.dataset_drift,
            "calibrated": found.calibrated,
            "not_judged": found.reason or "",
            "skipped_features": MetadataValue.json(found.skipped),
            "top_drifted_features": table_markdown(top),
            "label_score": found.label_score,
            "label_threshold": found.label_threshold,
            "label_not_judged": found.label_reason or "",
            "label_shares": table_markdown(shares) if shares is not None else "",
            "rows": found.current_rows,
            "silent_rows": found.silent_rows,
            "reference_rows": found.reference_rows,
            "report_html": MetadataValue.path(files["html"]),
            "report_json": MetadataValue.path(files["json"]),
            "pushed_to": settings.pushgateway_url or "",
        },
        check_results=_checks(found, AssetCheckSeverity(config.check_severity)),
    )


DRIFT_ASSETS = AssetSelection.assets(production_batches, drift_report)
drift_job = define_asset_job(
    "drift_job",
    selection=DRIFT_ASSETS,
    partitions_def=log_days,
    description="One day of the prediction log and its drift report.",
)
