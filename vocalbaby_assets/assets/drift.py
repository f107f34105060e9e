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

from vocalbaby import drift, splits
from vocalbaby.labels import CLASSES
from vocalbaby_assets.metadata import table_markdown
from vocalbaby_assets.resources import VocalBabySettings

GROUP = "drift"
DEFAULTS = drift.DriftConfig()
log_days = DynamicPartitionsDefinition(name="prediction_log_days")


@asset(group_name=GROUP)
def reference_features(
    clip_features: pd.DataFrame, data_splits: pd.DataFrame
) -> Output[pd.DataFrame]:
    """What production is compared with: the train split's 88 features and true labels."""
    table, labels, _ = splits.select(clip_features, data_splits, ("train",))
    table = table.assign(label=labels)
    shares = table["label"].value_counts(normalize=True).reindex(CLASSES, fill_value=0.0)
    return Output(
        table,
        metadata={"rows": len(table), "label_shares": table_markdown(shares.to_frame("share"))},
    )


@asset(group_name=GROUP, partitions_def=log_days)
def production_batches(
    context: AssetExecutionContext, settings: VocalBabySettings
) -> Output[pd.DataFrame]:
    """One day of the prediction log: features, predicted label, timestamp, model version."""
    table = drift.read_log(settings.locations.prediction_log, day=context.partition_key)
    versions = table.get(drift.MODEL_VERSION, pd.Series(dtype=str)).dropna().unique()
    return Output(
        table,
        metadata={
            "rows": len(table),
            "model_versions": MetadataValue.json(sorted(map(str, versions))),
            "first_timestamp": str(table[drift.TIMESTAMP].min()),
            "last_timestamp": str(table[drift.TIMESTAMP].max()),
            "predicted_labels": table_markdown(
                table["label"].value_counts().to_frame("rows"), floatfmt="d"
            ),
        },
    )


class DriftReportConfig(Config):
    """Drift thresholds (defaults calibrated, see ``vocalbaby.drift``) and check severity."""

    drift_share: float = Field(
        default=DEFAULTS.drift_share, gt=0, le=1, description="Share of drifted features = drift."
    )
    feature_threshold: float = Field(
        default=DEFAULTS.features.floor,
        gt=0,
        description="Normed Wasserstein distance at which a feature drifts (large batches).",
    )
    label_threshold: float = Field(
        default=DEFAULTS.labels.floor,
        gt=0,
        description="Jensen-Shannon distance at which the label distribution drifts.",
    )
    check_severity: Literal["WARN", "ERROR"] = Field(
        default="WARN", description="Severity of the drift checks when they fail."
    )

    def drift_config(self) -> drift.DriftConfig:
        """The core configuration these fields describe."""
        return drift.DriftConfig(
            features=drift.Threshold(self.feature_threshold, DEFAULTS.features.noise),
            labels=drift.Threshold(self.label_threshold, DEFAULTS.labels.noise),
            drift_share=self.drift_share,
        )


def _checks(result: drift.DriftResult, severity: AssetCheckSeverity) -> list[AssetCheckResult]:
    share = f"{result.drift_share:.1%} of features drifted"
    share += f" (threshold {result.drift_share_threshold:.0%})"
    label = (
        f"label distance {result.label_score:.3f} (threshold {result.label_threshold:.3f})"
        if result.label_score is not None
        else "no labels to compare"
    )
    return [
        AssetCheckResult(
            check_name="feature_drift",
            passed=not result.dataset_drift,
            severity=severity,
            description=share,
            metadata={"drift_share": result.drift_share, "drifted_features": len(result.drifted)},
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
            "label_drift", asset="drift_report", description="Predicted labels as in training."
        ),
    ],
)
def drift_report(
    context: AssetExecutionContext,
    config: DriftReportConfig,
    settings: VocalBabySettings,
    reference_features: pd.DataFrame,
    production_batches: pd.DataFrame,
) -> MaterializeResult:
    """Evidently data drift of one day of predictions against the training features.

    The 88 features (normed Wasserstein) and the predicted-label distribution against the
    training labels (Jensen-Shannon). HTML and JSON go to ``<artifacts>/drift/<day>/``; the
    score goes to the Pushgateway when one is configured.
    """
    day = context.partition_key
    result = drift.compare(reference_features, production_batches, config.drift_config())
    files = drift.save(result, settings.path("drift", day, "report.html"))
    if settings.pushgateway_url:
        drift.push(result, settings.pushgateway_url, labels={"partition": day})
        context.log.info(f"pushed the drift score to {settings.pushgateway_url}")
    top = result.scores.head(10).to_frame("normed Wasserstein distance")
    top["drifted"] = top.index.isin(result.drifted)
    return MaterializeResult(
        metadata={
            "drift_share": result.drift_share,
            "drifted_features": len(result.drifted),
            "dataset_drift": result.dataset_drift,
            "feature_threshold": result.feature_threshold,
            "top_drifted_features": table_markdown(top),
            "label_score": result.label_score,
            "label_shares": table_markdown(result.label_shares),
            "rows": result.current_rows,
            "reference_rows": result.reference_rows,
            "report_html": MetadataValue.path(files["html"]),
            "report_json": MetadataValue.path(files["json"]),
            "pushed_to": settings.pushgateway_url or "",
        },
        check_results=_checks(result, AssetCheckSeverity(config.check_severity)),
    )


DRIFT_ASSETS = AssetSelection.assets(production_batches, drift_report)
drift_job = define_asset_job(
    "drift_job",
    selection=DRIFT_ASSETS,
    partitions_def=log_days,
    description="One day of the prediction log and its drift report.",
)
