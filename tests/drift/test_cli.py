"""``vocalbaby drift``: tables, dataset folders and prediction logs, outside Dagster."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from tests.drift.helpers import write_log
from vocalbaby import synthetic
from vocalbaby.features import feature_names
from vocalbaby_cli.drift import drift, read_table

runner = CliRunner()


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    """A CLI with the command registered as ``vocalbaby_cli.app`` registers it."""
    app = typer.Typer()
    app.callback()(lambda: None)
    app.command("drift")(drift)
    return app


def test_feature_table_against_a_shifted_prediction_log(
    app: typer.Typer, tmp_path: Path, reference: pd.DataFrame, shifted_features: pd.DataFrame
) -> None:
    reference.to_parquet(tmp_path / "train.parquet")
    write_log(tmp_path / "log", "2026-11-03", shifted_features.sample(120, random_state=0))
    out = tmp_path / "reports" / "drift.html"
    args = ["--reference", str(tmp_path / "train.parquet"), "--current", str(tmp_path / "log")]
    result = runner.invoke(app, ["drift", *args, "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["dataset_drift"] and summary["drifted_features"] > 9
    assert summary["reference_rows"] == len(reference) and summary["current_rows"] == 120
    assert summary["report"] == {"html": str(out), "json": str(out.with_suffix(".json"))}
    assert out.stat().st_size > 100_000
    assert json.loads(out.with_suffix(".json").read_text())["scores"] == summary["scores"]


def test_sources_tables_and_dataset_folders(tmp_path: Path, reference: pd.DataFrame) -> None:
    reference.to_csv(tmp_path / "train.csv")
    table = read_table(str(tmp_path / "train.csv"))
    assert table[[*feature_names(), "label"]].shape == (len(reference), 89)
    folder = synthetic.generate(tmp_path / "demo", clips=30, seed=3)
    clips = read_table(str(folder))
    assert len(clips) == 30 and clips["label"].notna().all()
    assert list(clips.columns[:88]) == list(feature_names())


def test_unusable_sources_are_named(app: typer.Typer, tmp_path: Path) -> None:
    pd.DataFrame({"a": [1.0]}).to_csv(tmp_path / "other.csv")
    args = ["--out", str(tmp_path / "r.html")]
    empty = runner.invoke(
        app, ["drift", "--reference", str(tmp_path / "nothing"), "--current", "x", *args]
    )
    assert empty.exit_code == 2 and "--reference" in empty.output
    wrong = runner.invoke(
        app,
        [
            "drift",
            "--reference",
            str(tmp_path / "other.csv"),
            "--current",
            str(tmp_path / "other.csv"),
            *args,
        ],
    )
    assert wrong.exit_code == 2 and "lacks 88 feature column" in " ".join(wrong.output.split())
