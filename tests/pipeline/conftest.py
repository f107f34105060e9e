"""Helpers that materialize the real Dagster graph (fixture `trained`: tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Sequence

from dagster import AssetKey, DagsterInstance, RunConfig

from vocalbaby_assets.assets.comparison import ComparisonConfig
from vocalbaby_assets.assets.evaluation import EvaluationConfig
from vocalbaby_assets.assets.training import TuningConfig
from vocalbaby_assets.resources import VocalBabySettings
from vocalbaby_assets.runs import TrainingRuns, run_training

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
# raw_clips with the assets it reads: the dataset source and the annotated clips
INGESTION = ["source_dataset", "annotated_clips", "raw_clips"]
# every shard of the features, and the table of all of them
FEATURES = ["clip_feature_shards", "clip_features"]


def run_pipeline(
    settings: VocalBabySettings,
    selection: Sequence[str] | None = None,
    trials: int = 3,
    instance: DagsterInstance | None = None,
    env: str = "local",
) -> TrainingRuns:
    """Run ``train_job`` (or the assets in ``selection``) as ``vocalbaby-pipeline train`` does,
    with real resources and the small-data settings below; failures are returned, not raised.

    The demo sets of the tests hold a few hundred clips of about ten children: the tuning and
    comparison budgets are small, and the gate does not judge the lead over the ComParE recipe
    on the two or three test children such a set has (tests/evaluation tests that criterion).
    """
    small = {
        "tuned_hyperparameters": TuningConfig(n_trials=trials, folds=3),
        "model_comparison": ComparisonConfig(folds=3, trials=2, inner_folds=2, bootstrap=200),
        "model_evaluation": EvaluationConfig(baseline_margin=None),
    }
    ops = {name: config for name, config in small.items() if not selection or name in selection}
    return run_training(
        settings,
        run_config={**RunConfig(ops=ops).to_config_dict(), **QUIET},
        select=selection,
        instance=instance,
        env=env,
    )


def metadata(result: TrainingRuns, asset: str) -> dict:
    """The metadata values of an asset's materialization in a run."""
    (values,) = all_metadata(result, asset)
    return values


def all_metadata(result: TrainingRuns, asset: str) -> list[dict]:
    """The metadata values of each materialization of an asset (each partition) in a run."""
    return [
        {k: v.value for k, v in m.materialization.metadata.items()}
        for m in result.get_asset_materialization_events()
        if m.asset_key == AssetKey(asset)
    ]


def shard_total(result: TrainingRuns, key: str) -> int:
    """A count summed over the ``clip_feature_shards`` partitions materialized in a run."""
    return sum(values[key] for values in all_metadata(result, "clip_feature_shards"))


def check_results(result: TrainingRuns) -> dict[str, object]:
    """Asset check name -> its evaluation in a run."""
    return {
        e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }
