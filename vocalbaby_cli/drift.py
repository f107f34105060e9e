"""``vocalbaby drift``: the Evidently drift report between two feature sources, outside Dagster.

Registered in :mod:`vocalbaby_cli.app` as ``app.command("drift")(drift)``.
"""

from __future__ import annotations

import io
import json
from typing import Annotated

import pandas as pd
import typer

from vocalbaby import dataset, features, storage
from vocalbaby.drift import (
    DriftConfig,
    DriftResult,
    calibrate,
    compare,
    manifest_features,
    read_log,
    save,
)

SOURCE_HELP = (
    "a .parquet or .csv table with the 88 eGeMAPS columns (and optionally `label`), "
    "a dataset folder (metadata.csv + audio), or a prediction-log folder; local or s3://"
)


def read_table(source: str) -> pd.DataFrame:
    """Features (and labels, when known) from a table, a dataset or a prediction log."""
    if source.endswith(".parquet"):
        return pd.read_parquet(io.BytesIO(storage.read_bytes(source)))
    if source.endswith(".csv"):
        return pd.read_csv(io.BytesIO(storage.read_bytes(source)))
    if storage.exists(storage.join(source, dataset.METADATA_FILE)):
        typer.echo(f"extracting the features of the clips in {source}", err=True)
        return manifest_features(dataset.read(source))
    return read_log(source)


def _load(source: str, option: str) -> pd.DataFrame:
    try:
        return read_table(source)
    except (OSError, ValueError, features.FeatureError) as exc:  # AudioError is a ValueError
        raise typer.BadParameter(str(exc), param_hint=option) from exc


def _text(result: DriftResult, files: dict[str, str]) -> str:
    files_lines = [f"report: {files['html']}", f"figures: {files['json']}"]
    if result.reason:
        return "\n".join([f"not judged: {result.reason}", *files_lines])
    verdict = "DRIFT" if result.dataset_drift else "no drift"
    thresholds = (
        "calibrated per feature on single-child batches"
        if result.calibrated
        else (f"{result.thresholds.min():.2f} or more")
    )
    lines = [
        f"drift share {result.drift_share:.1%} ({len(result.drifted)} of {len(result.scores)} "
        f"features; drift at {result.drift_share_threshold:.0%}): {verdict}",
        f"a feature drifts at its normed Wasserstein threshold ({thresholds})",
        "largest distances (threshold):",
        *(
            f"  {name:<45} {score:.3f} ({result.thresholds[name]:.3f})"
            for name, score in result.scores.head(10).items()
        ),
        *(f"skipped {name}: {why}" for name, why in result.skipped.items()),
    ]
    if result.label_shares is not None:
        label_verdict = "DRIFT" if result.label_drift else "no drift"
        lines += [
            f"labels: Jensen-Shannon distance {result.label_score:.3f} "
            f"(drift at {result.label_threshold:.3f}): {label_verdict}",
            result.label_shares.to_string(float_format="{:.3f}".format),
        ]
    elif result.label_reason:
        lines.append(f"labels not judged: {result.label_reason}")
    return "\n".join([*lines, *files_lines])


def drift(
    reference: Annotated[str, typer.Option(help=f"Training features: {SOURCE_HELP}.")],
    current: Annotated[str, typer.Option(help="Production features, in the same forms.")],
    out: Annotated[str, typer.Option(help="HTML report to write; the JSON figures go beside it.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Evidently data drift of CURRENT against REFERENCE: 88 features and label distribution.

    With a child_id column in the reference (a dataset, or the pipeline's reference_features),
    the thresholds are calibrated on single-child batches of it, the unit a day of production
    usually is; labels are compared with the reference's `predicted` column when it has one.
    """
    tables = _load(reference, "--reference"), _load(current, "--current")
    config = DriftConfig()
    if "child_id" in tables[0]:
        try:
            config = DriftConfig(calibration=calibrate(tables[0]))
        except ValueError as exc:
            typer.echo(f"thresholds not calibrated: {exc}", err=True)
    try:
        result = compare(*tables, config)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    files = save(result, out)
    summary = {**result.summary(), "report": files}
    typer.echo(json.dumps(summary, indent=2) if as_json else _text(result, files))
