"""People's corrections (``vocalbaby annotate``) exported as a dataset the next training includes.

``annotated_clips`` exports every confirmed segment of the annotation store to
``<artifacts>/annotated_clips`` (the dataset format: ``metadata.csv`` + audio); its value, the
export's manifest, is an input of ``raw_clips``. The ``annotations_sensor`` re-runs this asset
when new revisions are saved.
"""

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    AssetSelection,
    Config,
    MetadataValue,
    Output,
    asset,
    asset_check,
    define_asset_job,
)
from pydantic import Field

from vocalbaby import dataset
from vocalbaby.annotation import agreement, export
from vocalbaby.annotation.store import AnnotationStore
from vocalbaby.labels import CLASSES
from vocalbaby_assets.metadata import table_markdown
from vocalbaby_assets.resources import VocalBabySettings
from vocalbaby_assets.retries import retry_on_outage

GROUP = "ingestion"
# Landis & Koch: kappa above 0.6 is "substantial" agreement.
MIN_KAPPA = 0.6


class AnnotatedClipsConfig(Config):
    """How recordings annotated by several people are exported."""

    policy: export.Policy = Field(
        default="latest",
        description="'latest': the last saved annotation wins; 'consensus': only segments all "
        "annotators labelled alike.",
    )


@asset(group_name=GROUP)
@retry_on_outage
def annotated_clips(
    context: AssetExecutionContext, config: AnnotatedClipsConfig, settings: VocalBabySettings
) -> Output[pd.DataFrame]:
    """Confirmed segments of the annotation store as clips, with provenance and agreement.

    The value is the export's manifest (as :func:`vocalbaby.dataset.read` gives it; empty when
    nobody confirmed a label yet). Metadata: clips per label, how many corrected the model,
    Cohen's kappa per pair of annotators over the clips both labelled, and every skipped
    segment with its reason.
    """
    store = AnnotationStore(settings.locations.annotations)
    out = settings.locations.annotated_clips
    context.log.info(f"exporting annotations from {store.root} to {out} ({config.policy})")
    result = export.write_dataset(store, out, config.policy)
    manifest = export.read_export(out)
    summary = result.summary()
    counts = result.manifest["label"].value_counts().reindex(CLASSES, fill_value=0)
    pairs = pd.DataFrame([p.to_dict() for p in result.agreement])
    kappas = [p.kappa for p in result.agreement if p.kappa is not None]
    return Output(
        manifest if manifest is not None else dataset.empty_manifest(),
        metadata={
            "annotations_uri": store.root,
            "export_uri": out,
            "clips": summary["clips"],
            "recordings": summary["recordings"],
            "annotators": MetadataValue.json(summary["annotators"]),
            "corrected_model_labels": summary["corrected_model_labels"],
            "clips_per_label": table_markdown(counts.to_frame("clips"), floatfmt="d"),
            "min_kappa": min(kappas) if kappas else MetadataValue.text("n/a"),
            "agreement": table_markdown(pairs) if len(pairs) else MetadataValue.text("n/a"),
            "skipped": table_markdown(pd.DataFrame(result.skipped).head(50))
            if result.skipped
            else MetadataValue.text("none"),
        },
    )


@asset_check(
    asset=annotated_clips,
    description=f"Annotators who labelled the same clips agree: Cohen's kappa >= {MIN_KAPPA}.",
)
def annotator_agreement(settings: VocalBabySettings) -> AssetCheckResult:
    """Warns naming each pair of annotators whose kappa is below :data:`MIN_KAPPA`."""
    revisions, _ = export.readable_revisions(AnnotationStore(settings.locations.annotations))
    pairs = agreement.pairwise(revisions)
    low = [p for p in pairs if p.kappa is not None and p.kappa < MIN_KAPPA]
    return AssetCheckResult(
        passed=not low,
        severity=AssetCheckSeverity.WARN,
        metadata={
            "pairs": len(pairs),
            "below_threshold": MetadataValue.json([p.to_dict() for p in low]),
        },
        description=None
        if not low
        else "low agreement: "
        + ", ".join(f"{p.first}/{p.second} kappa {p.kappa:.2f}" for p in low),
    )


annotations_job = define_asset_job(
    "annotations_job",
    selection=AssetSelection.assets(annotated_clips),
    description="Export the annotation store as a dataset (run by annotations_sensor).",
)
