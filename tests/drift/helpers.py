"""Prediction-log files as the service writes them, and Dagster runs of the drift assets."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from dagster import DagsterInstance, ExecuteInProcessResult, RunConfig

from tests.pipeline.conftest import FEATURES, INGESTION, QUIET, run_pipeline
from vocalbaby.features import feature_names
from vocalbaby.labels import CLASSES
from vocalbaby_assets.assets.drift import DriftReportConfig, drift_job, log_days
from vocalbaby_assets.definitions import build_definitions
from vocalbaby_assets.resources import VocalBabySettings

REFERENCE_ASSETS = [
    *INGESTION,
    "data_splits",
    *FEATURES,
    "tuned_hyperparameters",
    "reference_features",
    "drift_calibration",
]


@dataclass
class DriftSetup:
    """Settings and an instance where ``reference_features`` is materialized on a demo set."""

    settings: VocalBabySettings
    instance: DagsterInstance
    clips: pd.DataFrame  # features, label and split of every demo clip


def log_rows(table: pd.DataFrame, day: str) -> pd.DataFrame:
    """Rows of the service's prediction log for feature rows with a (predicted) ``label``."""
    rows = table[[*feature_names(), "label"]].reset_index(drop=True)
    proba = pd.get_dummies(rows["label"]).reindex(columns=CLASSES, fill_value=False)
    return pd.concat([rows, proba.astype(float).add_prefix("p_")], axis=1).assign(
        model_version="20261101T000000Z-test",
        timestamp=pd.Timestamp(day, tz="UTC") + pd.to_timedelta(np.arange(len(rows)), "s"),
        file=[f"clip{i}.wav" for i in range(len(rows))],
        request_id=[uuid.uuid4().hex for _ in range(len(rows))],
    )


def write_log(root: str | Path, day: str, table: pd.DataFrame, batches: int = 2) -> list[Path]:
    """``table`` as ``batches`` files ``date=DAY/<timestamp>-<uuid>.parquet`` under ``root``."""
    rows = log_rows(table, day)
    paths = []
    for i, chunk in enumerate(np.array_split(np.arange(len(rows)), batches)):
        path = Path(root, f"date={day}", f"{day}T{i:02d}0000Z-{uuid.uuid4()}.parquet")
        path.parent.mkdir(parents=True, exist_ok=True)
        rows.iloc[chunk].to_parquet(path)
        paths.append(path)
    return paths


def write_silent_rows(root: str | Path, day: str, table: pd.DataFrame) -> Path:
    """One log file of silent-window rows (as many as ``table`` has): ``silent=True``, null
    features, probabilities and label."""
    rows = log_rows(table, day).assign(label=None, silent=True)
    rows[[*feature_names(), *(f"p_{c}" for c in CLASSES)]] = np.nan
    path = Path(root, f"date={day}", f"{day}T120000Z-{uuid.uuid4()}.parquet")
    path.parent.mkdir(parents=True, exist_ok=True)
    rows.to_parquet(path)
    return path


def materialize_reference(settings: VocalBabySettings) -> DriftSetup:
    """Run the graph up to ``reference_features``; keep the clips' features and splits."""
    instance = DagsterInstance.ephemeral()
    result = run_pipeline(settings, REFERENCE_ASSETS, instance=instance)
    assert result.success, "materializing reference_features failed"
    splits = result.output_for_node("data_splits").set_index("clip_id")
    clips = result.output_for_node("clip_features").join(splits[["label", "split"]])
    return DriftSetup(settings, instance, clips)


def materialize_day(
    setup: DriftSetup, day: str, config: DriftReportConfig | None = None
) -> ExecuteInProcessResult:
    """Run ``drift_job`` (``production_batches`` and ``drift_report``) for one day of the log."""
    setup.instance.add_dynamic_partitions(log_days.name, [day])
    ops = {"drift_report": config} if config else {}
    job = build_definitions(setup.settings, "local").resolve_job_def(drift_job.name)
    return job.execute_in_process(
        partition_key=day,
        run_config={**RunConfig(ops=ops).to_config_dict(), **QUIET},
        instance=setup.instance,
        raise_on_error=False,
    )
