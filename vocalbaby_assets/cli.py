"""``vocalbaby-pipeline``: materialize the whole training graph from the command line.

Runs are recorded in ``$DAGSTER_HOME`` (when set), so ``dagster dev`` shows them afterwards.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from dagster import DagsterInstance, RunConfig, materialize

from vocalbaby import metrics, storage
from vocalbaby_assets.assets.evaluation import EvaluationConfig
from vocalbaby_assets.assets.training import TuningConfig
from vocalbaby_assets.definitions import ASSET_CHECKS, ASSETS
from vocalbaby_assets.resources import VocalBabySettings, io_manager_for, settings_from_env

app = typer.Typer(help="Run the VocalBaby Dagster pipeline without the UI.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """Run the VocalBaby Dagster pipeline without the UI."""


@app.command()
def train(
    dataset: Annotated[
        str | None, typer.Option(help="Dataset folder or s3:// prefix (default: synthetic demo).")
    ] = None,
    artifacts: Annotated[str | None, typer.Option(help="Artifacts folder or s3:// prefix.")] = None,
    trials: Annotated[int, typer.Option(min=1, help="Optuna trials.")] = 12,
    demo_clips: Annotated[
        int, typer.Option(min=100, help="Clips in the synthetic demo set.")
    ] = 1500,
    min_uar: Annotated[float, typer.Option(min=0, max=1, help="Promotion gate on test UAR.")] = 0.5,
    log_level: Annotated[
        str, typer.Option(help="Console log level (DEBUG shows every event).")
    ] = "INFO",
) -> None:
    """Materialize every asset: data, splits, features, tuning, model, evaluation."""
    env = settings_from_env()
    settings = VocalBabySettings(
        dataset_uri=dataset or env.dataset_uri,
        artifacts_uri=artifacts or env.artifacts_uri,
        demo_clips=demo_clips,
        optuna_storage=env.optuna_storage,
    )
    instance = (
        DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else DagsterInstance.ephemeral()
    )
    result = materialize(
        [*ASSETS, *ASSET_CHECKS],
        resources={"settings": settings, "io_manager": io_manager_for(settings)},
        run_config={
            **RunConfig(
                ops={
                    "tuned_hyperparameters": TuningConfig(n_trials=trials),
                    "model_evaluation": EvaluationConfig(min_uar=min_uar),
                }
            ).to_config_dict(),
            "loggers": {"console": {"config": {"log_level": log_level}}},
        },
        instance=instance,
        raise_on_error=False,
    )
    if not result.success:
        typer.echo("pipeline FAILED: see the log above (failed step or blocking check)", err=True)
        raise typer.Exit(1)
    _summarise(result.output_for_node("model_evaluation"), settings)
    typer.echo(f"\nregistered in the BentoML store as {result.output_for_node('bento_model')}")
    typer.echo("serve it:  make serve   (bentoml serve vocalbaby_service.service:VocalBaby)")


def _summarise(evaluation: dict, settings: VocalBabySettings) -> None:
    bundle = storage.join(settings.path("models"), evaluation["model_version"])
    report = evaluation["metrics"]
    typer.echo("\n=== VocalBaby training run ===")
    if settings.is_demo:
        typer.echo("data: SYNTHETIC demo set (not real infant audio)")
    typer.echo(f"model bundle: {Path(bundle).resolve() if not storage.is_s3(bundle) else bundle}")
    typer.echo(f"evaluation:   {storage.join(bundle, 'evaluation.json')}")
    typer.echo(f"report:       {storage.join(bundle, 'report.html')}")
    typer.echo(metrics.format_text(report))
    typer.echo("\nbaselines on the same test split:")
    for name, base in evaluation["baselines"].items():
        typer.echo(f"  {name:<12} UAR {base['uar']:.3f}  macro-F1 {base['macro_f1']:.3f}")
    gate = evaluation["gate"]
    verdict = "PASSED" if gate["passed"] else "FAILED: " + "; ".join(gate["reasons"])
    typer.echo(f"\ngate ({len(gate['criteria'])} criteria): {verdict}")
    typer.echo(json.dumps({"uar": report["uar"], "model_version": evaluation["model_version"]}))


if __name__ == "__main__":
    app()
