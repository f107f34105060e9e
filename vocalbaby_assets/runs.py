"""Running ``train_job`` in this process: upstream assets, each feature shard, then the rest.

A Dagster run materializes at most one partition of ``clip_feature_shards`` (the IO manager
stores one partition per output), so an in-process training run is a sequence of runs: the
assets the shards read, one run per shard, then everything downstream. ``vocalbaby-pipeline
train`` and the tests use this; separate processes may run disjoint shards at the same time
(``partitions``), and in production a backfill launches one run (ECS task) per shard.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dagster import (
    AssetKey,
    AssetSelection,
    DagsterEvent,
    DagsterInstance,
    DagsterInvariantViolationError,
    ExecuteInProcessResult,
)

from vocalbaby_assets.assets.features import SHARDS, clip_feature_shards
from vocalbaby_assets.definitions import ASSETS, build_definitions, train_job
from vocalbaby_assets.resources import VocalBabySettings

SHARD_ASSET = clip_feature_shards.key


@dataclass
class TrainingRuns:
    """The runs of one training, in order; the last one failed if any did."""

    results: list[ExecuteInProcessResult] = field(default_factory=list)

    @property
    def success(self) -> bool:
        """Whether every run succeeded."""
        return all(result.success for result in self.results)

    @property
    def run_ids(self) -> list[str]:
        """The Dagster run ids, in order."""
        return [result.run_id for result in self.results]

    @property
    def all_events(self) -> list[DagsterEvent]:
        """Every event of every run."""
        return [event for result in self.results for event in result.all_events]

    def get_asset_materialization_events(self) -> list[DagsterEvent]:
        """Every asset materialization of every run."""
        return [e for result in self.results for e in result.get_asset_materialization_events()]

    def output_for_node(self, name: str) -> Any:
        """The value an asset returned in the latest run that materialized it."""
        for result in reversed(self.results):
            try:
                return result.output_for_node(name)
            except DagsterInvariantViolationError:
                continue
        raise KeyError(f"no run of this training materialized {name!r}")


def _stages(
    select: Sequence[str] | None, partitions: Sequence[str] | None
) -> Iterator[tuple[set[AssetKey], str | None]]:
    """(asset keys, partition key) per run, in order; stages with no asset are left out."""
    job_keys = train_job.selection.resolve(ASSETS)
    keys = {AssetKey(name) for name in select} if select else set(job_keys)
    upstream = AssetSelection.assets(SHARD_ASSET).upstream(include_self=False).resolve(ASSETS)
    before, after = keys & upstream, keys - upstream - {SHARD_ASSET}
    if before:
        yield before, None
    if SHARD_ASSET in keys:
        for partition in partitions or SHARDS.get_partition_keys():
            yield {SHARD_ASSET}, partition
    if after:
        yield after, None


def _config_for(run_config: Mapping[str, Any], keys: set[AssetKey]) -> dict[str, Any]:
    """``run_config`` with only the op configs of the assets in ``keys``."""
    names = {key.to_user_string() for key in keys}
    ops = {name: value for name, value in run_config.get("ops", {}).items() if name in names}
    return {**run_config, "ops": ops}


def run_training(
    settings: VocalBabySettings,
    run_config: Mapping[str, Any] | None = None,
    select: Sequence[str] | None = None,
    instance: DagsterInstance | None = None,
    env: str | None = None,
    partitions: Sequence[str] | None = None,
) -> TrainingRuns:
    """Run ``train_job`` (all of it, or the assets named in ``select``, whose upstream values
    are loaded from the IO manager) as runs in this process, every shard (or those named in
    ``partitions``) in its own run; stops at the first failed run. Failures are returned."""
    unknown = sorted(set(partitions or ()) - set(SHARDS.get_partition_keys()))
    if unknown:
        raise ValueError(f"unknown partition(s) {unknown}: {SHARDS.get_partition_keys()}")
    job = build_definitions(settings, env).resolve_job_def(train_job.name)
    instance = instance or DagsterInstance.ephemeral()
    runs = TrainingRuns()
    for keys, partition in _stages(select, partitions):
        runs.results.append(
            job.execute_in_process(
                run_config=_config_for(run_config or {}, keys),
                instance=instance,
                asset_selection=sorted(keys, key=AssetKey.to_user_string),
                partition_key=partition,
                raise_on_error=False,
            )
        )
        if not runs.success:
            break
    return runs
