"""``vocalbaby summarize``: per-recording or per-child figures from prelabels or annotations."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from vocalbaby import summary
from vocalbaby.annotation import catalog
from vocalbaby.annotation.store import AnnotationStore


class GroupBy(StrEnum):
    """What one row of the summary is."""

    child = "child"
    recording = "recording"


def summarize(
    source: Annotated[
        str,
        typer.Argument(
            help="Prelabels of `vocalbaby predict --out FILE.json|FILE.csv`, or an annotation "
            "store (folder or s3:// prefix) for people's confirmed labels."
        ),
    ],
    by: Annotated[GroupBy, typer.Option(help="One row per child (and age) or per recording.")] = (
        GroupBy.child
    ),
    out: Annotated[Path | None, typer.Option(help="Write the table as CSV here.")] = None,
    metadata: Annotated[
        Path | None,
        typer.Option(
            help="CSV with path/file/clip_id and child_id, age_months per recording (prelabels)."
        ),
    ] = None,
    resamples: Annotated[
        int, typer.Option(min=0, help="Bootstrap resamples for the CBR interval (0: none).")
    ] = summary.DEFAULT_RESAMPLES,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
) -> None:
    """Counts and minutes per class, volubility and canonical babbling ratio (95 % bootstrap
    interval), per child and age or per recording. Prints the table; --out writes it as CSV."""
    path = Path(source)
    try:
        if path.suffix.lower() in {".json", ".csv"}:
            table = catalog.read_metadata(metadata) if metadata else None
            segments = summary.segments_from_catalog(catalog.from_prelabels(path, table))
        else:
            segments = summary.segments_from_store(AnnotationStore(source))
    except catalog.CatalogError as exc:
        raise typer.BadParameter(str(exc), param_hint="SOURCE") from exc
    if segments.empty:
        raise typer.BadParameter(f"{source}: no labelled segments found", param_hint="SOURCE")
    result = summary.summarize(segments, by.value, resamples, seed)
    if out is not None:
        result.to_csv(out, index=False)
        typer.echo(f"wrote {len(result)} row(s) to {out}", err=True)
    shown = ["recording"] if by == GroupBy.recording else []
    shown += ["child_id", "age_months", "recordings", "recorded_min", "vocalizations"]
    shown += ["volubility_per_min", "cbr", "cbr_low", "cbr_high"]
    typer.echo(result[shown].to_string(index=False))
