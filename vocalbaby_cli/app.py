"""The ``vocalbaby`` command: demo data, evaluation and prediction, plus the review app
(:mod:`vocalbaby_cli.annotate`) and drift reports (:mod:`vocalbaby_cli.drift`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from tqdm import tqdm

from vocalbaby import (
    audio,
    dataset,
    evaluation,
    features,
    inference,
    metrics,
    model_card,
    splits,
    synthetic,
)
from vocalbaby.annotation import formats
from vocalbaby.dataset import AUDIO_SUFFIXES
from vocalbaby.labels import CLASSES
from vocalbaby_cli.annotate import annotate, export_annotations, import_annotations
from vocalbaby_cli.drift import drift
from vocalbaby_cli.models import load_model
from vocalbaby_cli.summarize import summarize

app = typer.Typer(
    help="VocalBaby: classify infant vocalizations into canonical, non_canonical, crying, "
    "laughing and junk.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.command("demo-data")
def demo_data(
    out: Annotated[Path, typer.Argument(help="Folder to write metadata.csv and audio/ into.")],
    clips: Annotated[int, typer.Option(min=10, help="Number of clips.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same bytes).")] = 0,
    difficulty: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="How much the classes overlap: 0 textbook classes, 1 like real recordings.",
        ),
    ] = 1.0,
) -> None:
    """Write the deterministic SYNTHETIC demo dataset (0.4 s, 16 kHz clips, 5 classes)."""
    synthetic.generate(out, clips=clips, seed=seed, difficulty=difficulty)
    typer.echo(f"wrote {clips} synthetic clips to {out} (seed {seed}, difficulty {difficulty:g})")


WORKERS_HELP = "Feature extraction threads (at most VOCALBABY_EXTRACT_THREADS)."


@app.command()
def evaluate(
    dataset_uri: Annotated[
        str,
        typer.Option(
            "--dataset", help="Labelled dataset: folder or s3:// prefix with metadata.csv."
        ),
    ],
    model: Annotated[
        str | None, typer.Option(help="Model bundle or models folder (default: the current model).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help=WORKERS_HELP),
    ] = None,
) -> None:
    """Score a model on a labelled dataset: UAR, per-class recall/precision/F1, confusion matrix."""
    bundle = load_model(model)
    try:
        manifest = dataset.read(dataset_uri)
    except dataset.DatasetError as exc:
        raise typer.BadParameter(str(exc), param_hint="--dataset") from exc
    sources = dict(zip(manifest["clip_id"], manifest["uri"], strict=True))
    with tqdm(total=len(sources), desc="features", unit="clip", disable=as_json) as bar:
        extracted = features.extract_files(
            sources, workers=workers, progress=lambda done, _: bar.update(done - bar.n)
        )
    if extracted.failures:
        for clip_id, reason in extracted.failures.items():
            typer.echo(f"unusable: {clip_id}: {reason}", err=True)
        raise typer.Exit(2)
    table = extracted.features
    truth = manifest.set_index("clip_id").loc[table.index, "label"]
    children = splits.groups(manifest).set_axis(manifest["clip_id"]).loc[table.index]
    predicted = bundle.predict(table, children)
    result = evaluation.with_intervals(metrics.report(truth, predicted), truth, predicted, children)
    result |= {
        "model_version": bundle.version,
        "dataset": dataset_uri,
        "training_data": model_card.training_data(bundle.metadata),
    }
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        typer.echo(metrics.format_text(result))
        typer.echo(model_card.describe_training_data(bundle.metadata))


PROBABILITY_COLUMNS = list(CLASSES)


OUT_SUFFIXES = (".csv", ".json", *formats.SUFFIXES[:3])


@app.command()
def predict(
    paths: Annotated[
        list[Path], typer.Argument(help="Audio files, or folders searched for wav/flac/ogg.")
    ],
    model: Annotated[
        str | None, typer.Option(help="Model bundle or models folder (default: the current model).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write FILE.csv (one row per segment, with probabilities), FILE.json, or a "
            "lab format: FILE.TextGrid, FILE.eaf (one file per recording), FILE.rttm; "
            "default: JSON on stdout."
        ),
    ] = None,
    window: Annotated[
        float, typer.Option(min=0.1, help="Window length (s) for recordings longer than one.")
    ] = audio.CLIP_DURATION_S,
    hop: Annotated[float, typer.Option(min=0.05, help="Hop between windows (s).")] = (
        audio.CLIP_DURATION_S
    ),
    workers: Annotated[
        int | None,
        typer.Option(min=1, help=WORKERS_HELP),
    ] = None,
) -> None:
    """Classify audio files; long recordings get a timeline of windows (silent ones skipped).

    The same results as the service's /predict. The CSV is a pre-labelling sheet for annotation.
    Unreadable files are listed on stderr; the exit code is 1 only if every file failed.
    """
    if out is not None and out.suffix.lower() not in OUT_SUFFIXES:
        raise typer.BadParameter(f"must end in {', '.join(OUT_SUFFIXES)}", param_hint="--out")
    files = _audio_files(paths)
    if not files:
        raise typer.BadParameter("no wav, flac or ogg files found", param_hint="PATHS")
    bundle = load_model(model)
    with tqdm(total=len(files), desc="predict", unit="file") as bar:
        found, unreadable = inference.predict_files(
            files, bundle, window, hop, workers, progress=lambda done, _: bar.update(done - bar.n)
        )
    predictions = list(found.values())
    for name, reason in unreadable.items():
        typer.echo(f"unreadable: {name}: {reason}", err=True)
    _write_predictions(predictions, unreadable, bundle.version, out)
    if not predictions:
        raise typer.Exit(1)


def _audio_files(paths: list[Path]) -> list[Path]:
    """Files as given (even missing ones, reported later), folders expanded recursively."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES
            )
        else:
            found.append(path)
    return found


def _segment_rows(predictions: list[inference.Prediction]) -> pd.DataFrame:
    """One row per segment: file, start_s, end_s, label, silent, class probabilities, error."""
    rows = [
        {
            "file": p.file,
            "start_s": s.start_s,
            "end_s": s.end_s,
            "label": s.label,
            "silent": s.silent,
            **(s.probabilities or dict.fromkeys(PROBABILITY_COLUMNS)),
            "error": s.error,
        }
        for p in predictions
        for s in p.segments
    ]
    columns = ["file", "start_s", "end_s", "label", "silent", *PROBABILITY_COLUMNS, "error"]
    return pd.DataFrame(rows, columns=columns)


def _write_predictions(
    predictions: list[inference.Prediction],
    unreadable: dict[str, str],
    model_version: str,
    out: Path | None,
) -> None:
    if out is not None and out.suffix.lower() == ".csv":
        _segment_rows(predictions).to_csv(out, index=False)
        typer.echo(f"wrote {len(predictions)} file(s) to {out}", err=True)
        return
    if out is not None and out.suffix.lower() in formats.SUFFIXES:
        timelines = [formats.from_prediction(p) for p in predictions]
        try:
            written = formats.write(timelines, out)
        except formats.FormatError as exc:
            raise typer.BadParameter(str(exc), param_hint="--out") from exc
        typer.echo(
            f"wrote {len(predictions)} recording(s) to {', '.join(map(str, written))}", err=True
        )
        return
    document = json.dumps(
        {
            "model_version": model_version,
            "results": [p.to_dict() for p in predictions],
            "errors": [{"file": f, "reason": r} for f, r in unreadable.items()],
        },
        indent=2,
    )
    if out is None:
        typer.echo(document)
    else:
        out.write_text(document + "\n")
        typer.echo(f"wrote {len(predictions)} file(s) to {out}", err=True)


app.command("drift")(drift)
app.command("annotate")(annotate)
app.command(
    "studio", help="The studio (the same as `annotate`): upload, review, summaries, exports."
)(annotate)
app.command("export-annotations")(export_annotations)
app.command("import-annotations")(import_annotations)
app.command("summarize")(summarize)

if __name__ == "__main__":
    app()
