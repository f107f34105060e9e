"""eGeMAPS features per clip, from the one core extractor the service also uses.

``clip_feature_shards`` is partitioned by static hash shards of the manifest
(:mod:`vocalbaby.shards`), so shards are extracted by parallel runs (one ECS task each in
production); ``clip_features`` reads every partition and is what the rest of the graph uses.
"""

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetIn,
    MetadataValue,
    Output,
    StaticPartitionsDefinition,
    asset,
    asset_check,
)

from vocalbaby import feature_cache, features, shards
from vocalbaby_assets.progress import progress_logger
from vocalbaby_assets.resources import VocalBabySettings
from vocalbaby_assets.retries import retry_on_outage

GROUP = "features"
SHARDS = StaticPartitionsDefinition(shards.keys(shards.count()))


@asset(
    group_name=GROUP,
    partitions_def=SHARDS,
    description="openSMILE functionals (settings.feature_set; eGeMAPSv02: 88) per clip of one "
    "hash shard.",
)
@retry_on_outage
def clip_feature_shards(
    context: AssetExecutionContext, settings: VocalBabySettings, raw_clips: pd.DataFrame
) -> Output[pd.DataFrame]:
    """Features of this shard's clips, indexed by clip id; cached by audio hash in batches as
    they are extracted, so re-runs (also of a killed run) extract only the clips not cached yet.

    A clip whose extraction fails is listed in ``failed_clips`` and left out: never zeros.
    """
    clips = raw_clips[
        shards.of(raw_clips, len(SHARDS.get_partition_keys())) == context.partition_key
    ]
    cache_uri = feature_cache.cache_uri(settings.path("feature_cache"), settings.feature_set)
    unique = clips.drop_duplicates("sha256").set_index("sha256")
    cache, result = feature_cache.extract_missing(
        cache_uri,
        unique["uri"].to_dict(),
        progress=progress_logger(context.log, "extracted clips"),
        feature_set=settings.feature_set,
    )
    extracted = len(result.features) + len(result.failures)
    context.log.info(f"{len(unique) - extracted} clips cached, {extracted} extracted")
    if extracted:
        context.log.info(f"extracted {len(result.features)} clips at {result.rate:.1f} clips/s")
    failed_sha = set(result.failures)
    ok = clips[~clips["sha256"].isin(failed_sha)]
    table = cache.reindex(ok["sha256"]).set_axis(pd.Index(ok["clip_id"], name="clip_id"))
    failed = clips.loc[clips["sha256"].isin(failed_sha), ["clip_id", "uri", "sha256"]]
    failed = failed.assign(reason=failed["sha256"].map(result.failures)).drop(columns="sha256")
    return Output(
        table,
        metadata={
            "clips": len(table),
            "extracted_now": len(result.features),
            "from_cache": len(unique) - extracted,
            "clips_per_second": float(result.rate) if extracted else 0.0,
            "failed_clips": MetadataValue.json(failed.to_dict("records")),
            "cache": cache_uri,
            "extractor": MetadataValue.json(features.extractor_config(settings.feature_set)),
        },
    )


@asset(group_name=GROUP, description="openSMILE functionals per clip, every shard.")
def clip_features(
    raw_clips: pd.DataFrame, clip_feature_shards: dict[str, pd.DataFrame]
) -> Output[pd.DataFrame]:
    """Every partition of ``clip_feature_shards`` in one table, clips in manifest order."""
    missing = sorted(set(SHARDS.get_partition_keys()) - set(clip_feature_shards))
    if missing:
        raise ValueError(f"clip_feature_shards partitions {missing} are not materialized")
    table = pd.concat(clip_feature_shards.values())
    table = table.loc[raw_clips["clip_id"][raw_clips["clip_id"].isin(table.index)]]
    return Output(
        table,
        metadata={
            "clips": len(table),
            "features": table.shape[1],
            "shards": len(clip_feature_shards),
            "clips_without_features": len(raw_clips) - len(table),
        },
    )


@asset_check(
    asset=clip_features,
    additional_ins={"raw_clips": AssetIn("raw_clips")},
    blocking=True,
    description="Every clip has every feature of its feature set (eGeMAPSv02: 88).",
)
def clip_features_complete(
    clip_features: pd.DataFrame, raw_clips: pd.DataFrame
) -> AssetCheckResult:
    """Fails naming each clip with no features; also checks the columns are a feature set's."""
    missing = sorted(set(raw_clips["clip_id"]) - set(clip_features.index))
    columns_ok = any(
        list(clip_features.columns) == list(features.feature_names(name))
        for name in features.FEATURE_SETS
    )
    empty_rows = clip_features.index[clip_features.isna().all(axis=1)].tolist()
    return AssetCheckResult(
        passed=not missing and columns_ok and not empty_rows,
        metadata={
            "clips_without_features": MetadataValue.json(missing[:100]),
            "all_nan_rows": MetadataValue.json(empty_rows[:100]),
            "columns_match_a_feature_set": columns_ok,
            "nan_share": float(clip_features.isna().to_numpy().mean())
            if len(clip_features)
            else 0.0,
        },
    )
