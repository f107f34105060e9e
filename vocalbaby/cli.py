"""The ``vocalbaby`` command: demo data, evaluation of a model on any labelled dataset."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from tqdm import tqdm

from vocalbaby import audio, dataset, features, metrics, storage
from vocalbaby.model import ModelBundle, ModelError

app = typer.Typer(
    help="VocalBaby: classify infant vocalizations into canonical, non_canonical, crying, "
    "laughing and junk.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def default_models_uri() -> str:
    """Where trained bundles live: ``$VOCALBABY_ARTIFACTS_URI/models`` (default ``artifacts``)."""
    return storage.join(os.environ.get("VOCALBABY_ARTIFACTS_URI", "artifacts"), "models")


def load_model(model: str | None) -> ModelBundle:
    """Load a bundle folder, a models folder (its ``latest.json``) or the current model."""
    try:
        return ModelBundle.load(model or default_models_uri())
    except ModelError as exc:
        raise typer.BadParameter(
            f"{exc}. Train one first (`make demo`) or pass --model PATH.", param_hint="--model"
        ) from exc


@app.command("demo-data")
def demo_data(
    out: Annotated[Path, typer.Argument(help="Folder to write metadata.csv and audio/ into.")],
    clips: Annotated[int, typer.Option(min=10, help="Number of clips.")] = 600,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same bytes).")] = 0,
) -> None:
    """Write the deterministic SYNTHETIC demo dataset (0.4 s, 16 kHz clips, 5 classes)."""
    dataset.demo(out, clips=clips, seed=seed)
    typer.echo(f"wrote {clips} synthetic clips to {out} (seed {seed})")


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
    workers: Annotated[int | None, typer.Option(min=1, help="Feature extraction threads.")] = None,
) -> None:
    """Score a model on a labelled dataset: UAR, per-class recall/precision/F1, confusion matrix."""
    bundle = load_model(model)
    try:
        manifest = dataset.read(dataset_uri)
    except dataset.DatasetError as exc:
        raise typer.BadParameter(str(exc), param_hint="--dataset") from exc
    signals, unreadable = _load_clips(manifest, quiet=as_json)
    if unreadable:
        for clip_id, reason in unreadable.items():
            typer.echo(f"unreadable: {clip_id}: {reason}", err=True)
        raise typer.Exit(2)
    with tqdm(total=len(signals), desc="features", unit="clip", disable=as_json) as bar:
        table = features.extract(signals, workers=workers, progress=lambda d, t: bar.update(1))
    truth = manifest.set_index("clip_id").loc[table.index, "label"]
    result = metrics.report(truth, bundle.predict(table))
    result |= {"model_version": bundle.version, "dataset": dataset_uri}
    typer.echo(json.dumps(result, indent=2) if as_json else metrics.format_text(result))


def _load_clips(manifest: pd.DataFrame, quiet: bool) -> tuple[dict, dict]:
    """Decode every clip of a manifest; unreadable clips map clip id to reason."""
    signals, unreadable = {}, {}
    for clip_id, uri in tqdm(
        zip(manifest["clip_id"], manifest["uri"], strict=True),
        total=len(manifest),
        desc="audio",
        unit="clip",
        disable=quiet,
    ):
        try:
            signals[clip_id] = audio.load(uri).samples
        except audio.AudioError as exc:
            unreadable[clip_id] = exc.reason
    return signals, unreadable


if __name__ == "__main__":
    app()
