"""``vocalbaby annotate`` (the review web app) and ``vocalbaby export-annotations``."""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm

from vocalbaby import audio
from vocalbaby.annotation import catalog, export, formats
from vocalbaby.annotation.store import (
    AnnotationError,
    AnnotationStore,
    ConflictError,
    Revision,
    check_annotator,
)
from vocalbaby.locations import Locations
from vocalbaby.model import ModelBundle
from vocalbaby_cli.models import optional_model


class ExportPolicy(StrEnum):
    """How recordings annotated by several people are exported."""

    latest = "latest"
    consensus = "consensus"


def default_store_uri() -> str:
    """The annotation store the pipeline's ``annotated_clips`` asset reads (see
    :mod:`vocalbaby.locations`)."""
    return Locations.from_env().annotations


StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Annotation store: folder or s3:// prefix (default: $VOCALBABY_ANNOTATIONS_URI, "
        "else $VOCALBABY_ARTIFACTS_URI/annotations; the pipeline reads the same).",
    ),
]


def _catalog(
    source: Path, model: str | None, metadata: Path | None, workers: int | None
) -> tuple[catalog.Catalog, ModelBundle | None]:
    """The session's recordings and the model that classifies uploads."""
    table = catalog.read_metadata(metadata) if metadata else None
    if source.is_file():
        return catalog.from_prelabels(source, table), optional_model(model)
    if not source.is_dir():
        raise catalog.CatalogError(f"{source}: no such folder or prelabels file")
    bundle = optional_model(model)
    if bundle is None:
        return catalog.from_folder(source, None, table), None
    with tqdm(total=len(catalog.audio_files(source)), desc="suggest", unit="file") as bar:
        found = catalog.from_folder(
            source, bundle, table, workers, progress=lambda done, _: bar.update(done - bar.n)
        )
    return found, bundle


def annotate(
    source: Annotated[
        Path,
        typer.Argument(
            help="A folder of recordings (classified on start with the current model), or the "
            ".json/.csv prelabels written by `vocalbaby predict --out`."
        ),
    ],
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port on 127.0.0.1.")] = 8501,
    host: Annotated[
        str, typer.Option(help="Interface to listen on; anything but loopback needs a token.")
    ] = "127.0.0.1",
    token: Annotated[
        str | None,
        typer.Option(
            envvar="VOCALBABY_STUDIO_TOKEN",
            show_envvar=True,
            help="Access token (16+ characters) every request needs; prefer the variable.",
        ),
    ] = None,
    accounts: Annotated[
        Path | None,
        typer.Option(
            envvar="VOCALBABY_STUDIO_ACCOUNTS",
            show_envvar=True,
            help="File of 'NAME TOKEN' lines: each annotator signs in with their own token and "
            "can only save as themselves.",
        ),
    ] = None,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(help="Another name the page may be reached by (Host header); repeatable."),
    ] = None,
    store: StoreOption = None,
    annotator: Annotated[
        str, typer.Option(help="Default annotator name shown in the page.")
    ] = os.environ.get("USER", ""),
    model: Annotated[
        str | None,
        typer.Option(help="Model for a folder (default: the current model; none: unlabelled)."),
    ] = None,
    metadata: Annotated[
        Path | None,
        typer.Option(
            help="CSV with path/file/clip_id and child_id, age_months, gender, corpus per "
            "recording (default: the folder's metadata.csv, if any)."
        ),
    ] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Feature extraction threads.")] = None,
    dagster: Annotated[
        str | None,
        typer.Option(
            envvar="VOCALBABY_DAGSTER_URL",
            show_envvar=True,
            help="Dagster webserver URL, e.g. http://127.0.0.1:3001: enables Retrain in the page.",
        ),
    ] = None,
    uploads: Annotated[
        Path | None,
        typer.Option(
            help="Folder where recordings uploaded in the page are stored (default: SOURCE "
            "when it is a folder; none, so no uploads, for prelabels)."
        ),
    ] = None,
) -> None:
    """The studio: upload, review and correct predictions, summaries and exports in the browser.

    Open http://127.0.0.1:8501, enter your name, pick a recording. Keys: 1-5 label the selected
    segment, arrows move between segments, [ ] between recordings, Space plays, P plays the
    segment, S splits, M merges with the next, U or Ctrl+Z undoes, D marks reviewed.
    """
    try:
        import uvicorn

        from vocalbaby_annotate import security
        from vocalbaby_annotate.app import create_app
    except ImportError as exc:
        raise typer.BadParameter(
            f"the review app is not installed ({exc}): pip install 'vocalbaby[annotate]'"
        ) from exc
    try:
        security.check_exposure(host, token, accounts is not None)
        signed = security.read_accounts(accounts) if accounts else None
    except (ValueError, OSError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--token/--accounts") from exc

    if annotator and not _valid(annotator):
        annotator = ""
    try:
        recordings, bundle = _catalog(source, model, metadata, workers)
        upload_dir = uploads or (source if source.is_dir() else None)
        if upload_dir is not None:
            upload_dir.mkdir(parents=True, exist_ok=True)
        app = create_app(
            recordings,
            AnnotationStore(store or default_store_uri()),
            annotator,
            token=token,
            accounts=signed,
            hosts=security.allowed_hosts(host, allowed_host or ()),
            bundle=bundle,
            uploads=upload_dir,
            models_uri=(model or Locations.from_env().models) if bundle else None,
            reports_uri=Locations.from_env().reports,
            dagster_url=dagster,
        )
    except catalog.CatalogError as exc:
        raise typer.BadParameter(str(exc), param_hint="SOURCE") from exc
    unreadable = [r for r in recordings.recordings.values() if r.error]
    for rec in unreadable:
        typer.echo(f"unreadable: {rec.id}: {rec.error}", err=True)
    typer.echo(
        f"{len(recordings.recordings) - len(unreadable)} recording(s) to review, "
        f"{len(unreadable)} unreadable; annotations go to {store or default_store_uri()}\n"
        f"open http://{host}:{port}/"
        + (f"?token={token}" if token else "?token=YOUR_TOKEN" if accounts else ""),
        err=True,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _valid(name: str) -> bool:
    try:
        check_annotator(name)
    except AnnotationError:
        return False
    return True


def export_annotations(
    out: Annotated[str, typer.Argument(help="Folder or s3:// prefix for the new dataset.")],
    store: StoreOption = None,
    policy: Annotated[
        ExportPolicy,
        typer.Option(
            help="Several annotators on one recording: 'latest' (the last saved wins) or "
            "'consensus' (only segments every annotator labelled alike)."
        ),
    ] = ExportPolicy.latest,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Write confirmed annotations as a dataset (metadata.csv + audio/) for training/evaluate.

    Prints clip counts, corrections of the model and Cohen's kappa per pair of annotators.
    """
    result = export.write_dataset(AnnotationStore(store or default_store_uri()), out, policy.value)
    summary = result.summary()
    if as_json:
        typer.echo(json.dumps(summary | {"skipped_segments": result.skipped}, indent=2))
        return
    typer.echo(
        f"wrote {summary['clips']} clip(s) from {summary['recordings']} recording(s) to {out}; "
        f"{summary['corrected_model_labels']} corrected the model; {summary['skipped']} skipped"
    )
    for skipped in result.skipped:
        typer.echo(f"skipped: {skipped['recording']} at {skipped['start_s']}: {skipped['reason']}")
    for pair in result.agreement:
        kappa = "n/a" if pair.kappa is None else f"{pair.kappa:.3f}"
        typer.echo(
            f"agreement {pair.first} vs {pair.second}: kappa {kappa} over {pair.items} item(s) "
            f"({pair.agreement:.1%} identical)"
        )


def import_annotations(
    source: Annotated[Path, typer.Argument(help="A Praat .TextGrid or ELAN .eaf file.")],
    recording: Annotated[Path, typer.Argument(help="The audio file the tier annotates.")],
    tier: Annotated[str, typer.Option(help="The tier holding the class labels.")],
    annotator: Annotated[str, typer.Option(help="Who made the annotation (the store's name).")],
    recording_id: Annotated[
        str | None,
        typer.Option(help="The recording's id in the studio (default: the audio file's name)."),
    ] = None,
    store: StoreOption = None,
) -> None:
    """Store a TextGrid or ELAN tier as an annotator's next revision of a recording.

    Labels are read as the five classes (``Non-canonical`` works); from then on the segments are
    confirmed annotations like those made in the page: export-annotations and training use them.
    """
    if source.suffix.lower() not in formats.SINGLE_RECORDING:
        raise typer.BadParameter("must be a .TextGrid or .eaf file", param_hint="SOURCE")
    try:
        check_annotator(annotator)
        (timeline,) = formats.read(source)
        segments = formats.to_segments(timeline, tier, annotator)
        sound = audio.load(recording)
    except (formats.FormatError, AnnotationError, audio.AudioError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    annotations = AnnotationStore(store or default_store_uri())
    rec_id = recording_id or recording.name
    draft = Revision(
        rec_id,
        annotator,
        0,
        "",
        str(recording.resolve()),
        segments,
        action=f"import {source.name}",
        recording={"duration_s": sound.duration_s},
    )
    latest = annotations.latest(rec_id, annotator)
    try:
        stored = annotations.save(draft, latest.revision if latest else 0)
    except (AnnotationError, ConflictError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(f"stored {len(segments)} segment(s) of {rec_id} as revision {stored.revision}")
