"""The dataset (configured, or the synthetic demo set), its raw clips (a validated manifest) and
child-disjoint train/valid/test splits."""

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    Config,
    Failure,
    MetadataValue,
    Output,
    asset,
    asset_check,
)
from pydantic import Field

from vocalbaby import audio, dataset, inference, splits, storage, synthetic
from vocalbaby.labels import CLASSES
from vocalbaby_assets.metadata import counts_markdown, table_markdown
from vocalbaby_assets.progress import progress_logger
from vocalbaby_assets.resources import VocalBabySettings
from vocalbaby_assets.retries import retry_on_outage

GROUP = "ingestion"


SINGLE_CLIP_S = audio.CLIP_DURATION_S + inference.SINGLE_CLIP_TOLERANCE_S


class RawClipsConfig(Config):
    """Limits that every clip of the dataset must meet."""

    max_duration_s: float = Field(
        default=SINGLE_CLIP_S,
        gt=0,
        description="Longest clip accepted. The service classifies anything longer than one "
        f"window ({SINGLE_CLIP_S:g} s) window by window: raising this trains on whole long clips "
        "that serving never sees whole.",
    )


@asset(group_name=GROUP)
@retry_on_outage
def source_dataset(context: AssetExecutionContext, settings: VocalBabySettings) -> Output[dict]:
    """The dataset to train on: the configured ``dataset_uri``, or, when none is configured, the
    deterministic SYNTHETIC demo set, generated here under the artifacts folder (once: the same
    clip count and seed give the same files, so an existing copy is reused).

    The value is ``{"uri": ..., "synthetic": bool}``.
    """
    if settings.dataset_uri:
        return Output(
            {"uri": settings.dataset_uri, "synthetic": False},
            metadata={"dataset_uri": settings.dataset_uri, "synthetic_demo_data": False},
        )
    out = settings.synthetic_dataset()
    if storage.is_s3(out):
        raise Failure("set dataset_uri: the synthetic demo set is generated into a local folder")
    if storage.exists(storage.join(out, dataset.METADATA_FILE)):
        context.log.info(f"reusing the SYNTHETIC demo set in {out}")
    else:
        context.log.info(
            f"generating the SYNTHETIC demo set ({settings.demo_clips} clips) in {out}"
        )
        synthetic.generate(
            out,
            clips=settings.demo_clips,
            seed=settings.demo_seed,
            difficulty=settings.demo_difficulty,
            progress=progress_logger(context.log, "synthetic clips"),
        )
    return Output(
        {"uri": out, "synthetic": True},
        metadata={
            "dataset_uri": out,
            "synthetic_demo_data": True,
            "clips": settings.demo_clips,
            "seed": settings.demo_seed,
            "difficulty": settings.demo_difficulty,
            "note": "SYNTHETIC demo data, not real infant audio: its scores say the pipeline "
            "works, not how well VocalBaby classifies real infants.",
        },
    )


@asset(group_name=GROUP)
@retry_on_outage
def raw_clips(
    context: AssetExecutionContext, source_dataset: dict, annotated_clips: pd.DataFrame
) -> Output[pd.DataFrame]:
    """The dataset's manifest: one row per clip with its label, child, audio hash and duration.

    Reads ``metadata.csv`` of ``source_dataset`` (aliases of the original BabbleCor columns
    accepted) plus the clips people annotated (``annotated_clips``), then opens every clip to hash
    it, measure it and prove it decodes. Unreadable clips are kept with an ``error`` so the
    ``raw_clips_readable`` check can name them.
    """
    uri = source_dataset["uri"]
    synthetic_note = " (SYNTHETIC demo data)" if source_dataset["synthetic"] else ""
    context.log.info(f"reading dataset {uri}{synthetic_note}")
    base = dataset.read(uri)
    if len(annotated_clips):
        context.log.info(f"adding {len(annotated_clips)} annotated clip(s)")
    manifest = dataset.inspect(
        pd.concat([base, annotated_clips], ignore_index=True) if len(annotated_clips) else base,
        progress=progress_logger(context.log, "inspected clips"),
    )
    counts = manifest["label"].value_counts().reindex(CLASSES, fill_value=0)
    return Output(
        manifest,
        metadata={
            "dataset_uri": uri,
            "annotated_clips": len(annotated_clips),
            "synthetic_demo_data": source_dataset["synthetic"],
            "clips": len(manifest),
            "children": int(manifest["child_id"].nunique()),
            "unreadable_clips": int(manifest["error"].notna().sum()),
            "total_duration_s": float(manifest["duration_s"].sum()),
            "clips_per_class": table_markdown(counts.to_frame("clips"), floatfmt="d"),
            "preview": table_markdown(manifest.drop(columns=["uri"]).head(10)),
        },
    )


@asset_check(asset=raw_clips, blocking=True, description="Every clip's audio decodes.")
def raw_clips_readable(raw_clips: pd.DataFrame) -> AssetCheckResult:
    """Fails naming each clip whose file is missing, empty, corrupt, not audio or too short."""
    bad = raw_clips.loc[raw_clips["error"].notna(), ["clip_id", "uri", "error"]]
    return AssetCheckResult(
        passed=bad.empty,
        metadata={
            "unreadable_clips": len(bad),
            "files": table_markdown(bad.head(50)) if len(bad) else MetadataValue.text("none"),
        },
        description=None
        if bad.empty
        else f"{len(bad)} unreadable clip(s): {bad['uri'].head(5).tolist()}",
    )


@asset_check(asset=raw_clips, blocking=True, description="Required columns, known labels.")
def raw_clips_schema(raw_clips: pd.DataFrame) -> AssetCheckResult:
    """Every manifest column is present, ids are unique and every label is a known class."""
    missing = [c for c in (*dataset.MANIFEST_COLUMNS, "sha256", "duration_s") if c not in raw_clips]
    unknown = sorted(set(raw_clips.get("label", pd.Series(dtype=str))) - set(CLASSES))
    duplicated = raw_clips["clip_id"].duplicated().sum() if "clip_id" in raw_clips else 0
    return AssetCheckResult(
        passed=not missing and not unknown and not duplicated,
        metadata={
            "missing_columns": missing,
            "unknown_labels": unknown,
            "duplicate_ids": int(duplicated),
        },
    )


@asset_check(
    asset=raw_clips,
    blocking=True,
    description="Every clip is one window long, as the service classifies it.",
)
def raw_clips_durations(raw_clips: pd.DataFrame, config: RawClipsConfig) -> AssetCheckResult:
    """Fails naming every clip longer than ``max_duration_s`` (one 0.4 s window by default).

    The service cuts a recording longer than one window into 0.4 s windows and classifies each;
    features of a whole 2 s clip are a different thing, so training on them would teach the
    model what serving never shows it. Cut long clips into 0.4 s clips (or label windows with
    ``vocalbaby annotate`` and export them), or raise ``max_duration_s`` deliberately.
    """
    long = raw_clips.loc[raw_clips["duration_s"] > config.max_duration_s, ["clip_id", "duration_s"]]
    durations = raw_clips["duration_s"].dropna()
    return AssetCheckResult(
        passed=long.empty,
        metadata={
            "too_long": table_markdown(long.head(50)) if len(long) else MetadataValue.text("none"),
            "min_s": float(durations.min()) if len(durations) else 0.0,
            "median_s": float(durations.median()) if len(durations) else 0.0,
            "max_s": float(durations.max()) if len(durations) else 0.0,
        },
        description=None
        if long.empty
        else f"{len(long)} clip(s) longer than {config.max_duration_s:g} s, which the service "
        f"would classify window by window: {long['clip_id'].head(5).tolist()}; cut them into "
        "0.4 s clips, or raise max_duration_s",
    )


class SplitConfig(Config):
    """Shares of clips held out, and the seed of the grouped shuffle."""

    valid_fraction: float = Field(default=0.15, gt=0, lt=0.5)
    test_fraction: float = Field(default=0.2, gt=0, lt=0.5)
    min_test_clips: int = Field(
        default=30,
        ge=0,
        description="Test clips every class should have (grouped test splits are searched for "
        "one that gives them; a class too small for it gets its share of the test fraction).",
    )
    seed: int = 0


@asset(group_name=GROUP)
def data_splits(
    context: AssetExecutionContext, config: SplitConfig, raw_clips: pd.DataFrame
) -> Output[pd.DataFrame]:
    """train/valid/test per clip, grouped by child (no child in two splits), stratified by label.

    Clips with identical audio are kept in one split too. Without ``child_id`` the split falls
    back to clips and says so in the metadata: scores are then optimistic.
    """
    result = splits.split(
        raw_clips, config.valid_fraction, config.test_fraction, config.seed, config.min_test_clips
    )
    if result.short:
        context.log.warning(
            f"test clips per class below {config.min_test_clips} for {result.short}: their "
            "recall is judged on its interval by the promotion gate"
        )
    table = raw_clips[["clip_id", "label", "child_id", "sha256"]].assign(split=result.split)
    if not result.grouped_by_child:
        context.log.warning(
            "WARNING: no child_id for some clips: those are split clip by clip, so the same child "
            "can be in train and test and scores will be optimistic."
        )
    per_split = {
        s: table.loc[table["split"] == s, "label"].value_counts().to_dict() for s in splits.SPLITS
    }
    return Output(
        table,
        metadata={
            "grouped_by_child": result.grouped_by_child,
            "split_warning": (
                "none"
                if result.grouped_by_child
                else "CLIP-LEVEL SPLIT: child_id missing, the same child may be in train and test"
            ),
            "children_per_split": MetadataValue.json(
                {
                    s: int(table.loc[table["split"] == s, "child_id"].nunique())
                    for s in splits.SPLITS
                }
            ),
            "clips_per_split_and_class": counts_markdown(per_split),
            "test_classes_short_of_minimum": MetadataValue.json(result.short),
        },
    )


@asset_check(asset=data_splits, blocking=True, description="No child or audio hash in two splits.")
def data_splits_disjoint(data_splits: pd.DataFrame) -> AssetCheckResult:
    """Fails listing every child id and audio hash found in more than one split."""
    found = splits.overlaps(data_splits, data_splits["split"])
    shared = {k: v for k, v in found.items() if v}
    return AssetCheckResult(
        passed=not shared,
        metadata={f"{k}_in_several_splits": MetadataValue.json(v[:50]) for k, v in found.items()},
    )
