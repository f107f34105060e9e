"""The VocalBaby code location: every asset, check, job, schedule and sensor, wired once.

``defs`` is what ``dagster dev``, ``dagster-webserver`` and ``dagster api grpc`` load: settings
from the ``VOCALBABY_*`` variables, resources for ``VOCALBABY_ENV``
(:func:`vocalbaby_assets.resources.resources`), built when Dagster loads the code location and
not at import, so importing this module reads no settings (``vocalbaby-pipeline train`` imports
it before its ``--artifacts`` applies). ``vocalbaby-pipeline train`` and the tests run
``train_job`` from :func:`build_definitions` with their own settings
(:func:`vocalbaby_assets.runs.run_training`), so nothing is wired twice.
"""

from __future__ import annotations

from dagster import (
    AssetSelection,
    Definitions,
    define_asset_job,
    definitions,
    load_asset_checks_from_modules,
    load_assets_from_modules,
)

from vocalbaby_assets.assets import (
    annotations,
    comparison,
    drift,
    evaluation,
    features,
    generalisation,
    ingestion,
    registry,
    training,
)
from vocalbaby_assets.resources import (
    VocalBabySettings,
    environment,
    resources,
    settings_from_env,
)
from vocalbaby_assets.schedules import nightly_drift
from vocalbaby_assets.sensors import annotations_sensor, prediction_log_sensor

MODULES = (
    annotations,
    ingestion,
    features,
    training,
    evaluation,
    comparison,
    generalisation,
    registry,
    drift,
)
ASSETS = load_assets_from_modules(MODULES)
ASSET_CHECKS = load_asset_checks_from_modules(MODULES)

train_job = define_asset_job(
    "train_job",
    selection=AssetSelection.all() - drift.DRIFT_ASSETS,
    description="Raw clips to an evaluated, registered model.",
)


def build_definitions(
    settings: VocalBabySettings | None = None, env: str | None = None
) -> Definitions:
    """The code location for ``settings`` (default: from the environment) and ``env``
    (default: ``VOCALBABY_ENV``)."""
    return Definitions(
        assets=ASSETS,
        asset_checks=ASSET_CHECKS,
        jobs=[train_job, drift.drift_job, annotations.annotations_job],
        schedules=[nightly_drift],
        sensors=[prediction_log_sensor, annotations_sensor],
        resources=resources(settings or settings_from_env(), env or environment()),
    )


@definitions
def defs() -> Definitions:
    """The code location Dagster loads, from the environment's settings."""
    return build_definitions()
