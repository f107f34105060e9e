"""The VocalBaby code location: every asset, check and resource in one ``Definitions``."""

from __future__ import annotations

from dagster import (
    AssetSelection,
    Definitions,
    define_asset_job,
    load_asset_checks_from_modules,
    load_assets_from_modules,
)

from vocalbaby_assets.assets import (
    annotations,
    comparison,
    drift,
    evaluation,
    features,
    ingestion,
    registry,
    training,
)
from vocalbaby_assets.resources import VocalBabySettings, io_manager_for, settings_from_env
from vocalbaby_assets.schedules import nightly_drift
from vocalbaby_assets.sensors import annotations_sensor, prediction_log_sensor

MODULES = (annotations, ingestion, features, training, evaluation, comparison, registry, drift)
ALL_ASSETS = load_assets_from_modules(MODULES)
# What one training run materializes: everything but the per-day drift partitions.
ASSETS = [a for a in ALL_ASSETS if a.partitions_def is None]
ASSET_CHECKS = load_asset_checks_from_modules(MODULES)

train_job = define_asset_job(
    "train_job",
    selection=AssetSelection.all() - drift.DRIFT_ASSETS,
    description="Raw clips to an evaluated, registered model.",
)


def build_definitions(settings: VocalBabySettings, env: str | None = None) -> Definitions:
    """Definitions wired to ``settings`` (tests and the CLI pass their own)."""
    return Definitions(
        assets=ALL_ASSETS,
        asset_checks=ASSET_CHECKS,
        jobs=[train_job, drift.drift_job, annotations.annotations_job],
        schedules=[nightly_drift],
        sensors=[prediction_log_sensor, annotations_sensor],
        resources={"settings": settings, "io_manager": io_manager_for(settings, env)},
    )


defs = build_definitions(settings_from_env())
