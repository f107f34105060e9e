"""``vocalbaby-pipeline``: the Dagster pipeline without the UI.

``train`` runs the code location's ``train_job`` (:mod:`vocalbaby_assets.definitions`) with the
settings of the environment plus the command's options; runs are recorded in ``$DAGSTER_HOME``
(when set), so ``dagster dev`` shows them afterwards. ``register`` puts a gated model bundle
into the BentoML store (the release workflow's step).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vocalbaby import metrics, model, model_card, storage

if TYPE_CHECKING:
    from vocalbaby_assets.resources import VocalBabySettings

app = typer.Typer(help="Run the VocalBaby Dagster pipeline without the UI.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """Run the VocalBaby Dagster pipeline without the UI."""


def _pipeline():
    """The code location's modules (Dagster is the ``pipeline`` extra)."""
    try:
        from vocalbaby_assets import definitions, resources, runs
    except ImportError as exc:
        raise typer.BadParameter(
            f"the pipeline is not installed ({exc}): pip install 'vocalbaby[pipeline]'"
        ) from exc
    return definitions, resources, runs


@app.command()
def train(
    dataset: Annotated[
        str | None, typer.Option(help="Dataset folder or s3:// prefix (default: synthetic demo).")
    ] = None,
    artifacts: Annotated[str | None, typer.Option(help="Artifacts folder or s3:// prefix.")] = None,
    trials: Annotated[int, typer.Option(min=1, help="Optuna trials.")] = 12,
    demo_clips: Annotated[
        int, typer.Option(min=100, help="Clips in the synthetic demo set.")
    ] = 2000,
    min_uar: Annotated[float, typer.Option(min=0, max=1, help="Promotion gate on test UAR.")] = 0.5,
    select: Annotated[
        list[str] | None,
        typer.Option(
            help="Materialize only this asset (repeat for more); the others' stored values are "
            "used. Default: the whole training graph."
        ),
    ] = None,
    partition: Annotated[
        list[str] | None,
        typer.Option(
            help="Extract only this shard of clip_feature_shards (repeat for more; another "
            "process may run the others at the same time). Default: every shard, one by one."
        ),
    ] = None,
    log_level: Annotated[
        str, typer.Option(help="Console log level (DEBUG shows every event).")
    ] = "INFO",
) -> None:
    """Train: data, splits, features, tuning, model, evaluation, registration if gated.

    Materializes the training graph (train_job); a model that passes the promotion gate is
    registered in the BentoML store. Settings come from the VOCALBABY_* environment variables
    (VOCALBABY_DATASET_URI, VOCALBABY_ARTIFACTS_URI, VOCALBABY_ANNOTATIONS_URI, ...); the
    options above override them.
    """
    definitions, resources, runs = _pipeline()
    from dagster import DagsterInstance, RunConfig

    from vocalbaby_assets.assets.evaluation import EvaluationConfig
    from vocalbaby_assets.assets.training import TuningConfig

    settings = resources.settings_from_env(
        dataset_uri=dataset, artifacts_uri=artifacts, demo_clips=demo_clips
    )
    ops = {
        "tuned_hyperparameters": TuningConfig(n_trials=trials),
        "model_evaluation": EvaluationConfig(min_uar=min_uar),
    }
    if select:
        known = {key.to_user_string() for asset in definitions.ASSETS for key in asset.keys}
        unknown = sorted(set(select) - known)
        if unknown:
            raise typer.BadParameter(f"unknown asset(s) {unknown}", param_hint="--select")
        ops = {name: config for name, config in ops.items() if name in select}
    known_partitions = runs.SHARDS.get_partition_keys()
    if set(partition or ()) - set(known_partitions):
        raise typer.BadParameter(f"shards are {known_partitions}", param_hint="--partition")
    result = runs.run_training(
        settings,
        run_config={
            **RunConfig(ops=ops).to_config_dict(),
            "loggers": {"console": {"config": {"log_level": log_level}}},
        },
        select=select,
        instance=DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else None,
        partitions=partition,
    )
    if not result.success:
        typer.echo("pipeline FAILED: see the log above (failed step or blocking check)", err=True)
        raise typer.Exit(1)
    if select:
        typer.echo(f"materialized {', '.join(select)}")
        return
    _summarise(result.output_for_node("model_evaluation"), settings)
    typer.echo(f"\nregistered in the BentoML store as {result.output_for_node('bento_model')}")
    typer.echo("serve it:  make serve   (bentoml serve vocalbaby_service.service:VocalBaby)")


def _summarise(evaluation: dict, settings: VocalBabySettings) -> None:
    bundle = storage.join(settings.locations.models, evaluation["model_version"])
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
        typer.echo(f"  {name:<26} UAR {base['uar']:.3f}  macro-F1 {base['macro_f1']:.3f}")
    lead = evaluation["difference_to_compare_recipe"]
    typer.echo(
        f"  model - ComParE recipe: {lead['estimate']:+.3f} (95% CI {lead['low']:+.3f} to "
        f"{lead['high']:+.3f}, paired bootstrap of children)"
    )
    gate = evaluation["gate"]
    verdict = "PASSED" if gate["passed"] else "FAILED: " + "; ".join(gate["reasons"])
    typer.echo(f"\ngate ({len(gate['criteria'])} criteria): {verdict}")
    typer.echo("\n" + model_card.describe_training_data(model.ModelBundle.load(bundle).metadata))
    typer.echo(json.dumps({"uar": report["uar"], "model_version": evaluation["model_version"]}))


@app.command()
def register(
    uri: Annotated[
        str,
        typer.Argument(
            help="A model bundle, or a models folder (its latest.json: the current model); "
            "local or s3://."
        ),
    ],
) -> None:
    """Register a gated model bundle in the BentoML store and print its tag.

    Refuses a bundle whose evaluation.json is missing or failed the promotion gate. Then
    `VOCALBABY_MODEL_TAG=<tag> bentoml build` packs it into a Bento.
    """
    _, resources, _ = _pipeline()
    bundle_uri = model.resolve(uri)
    try:
        bundle = model.ModelBundle.load(bundle_uri)
        evaluation = json.loads(storage.read_bytes(storage.join(bundle_uri, "evaluation.json")))
    except (model.ModelError, FileNotFoundError) as exc:
        raise typer.BadParameter(f"{bundle_uri}: {exc}", param_hint="URI") from exc
    gate = evaluation["gate"]
    if not gate["passed"]:
        raise typer.BadParameter(
            f"{bundle_uri}: failed the promotion gate ({'; '.join(gate['reasons'])})",
            param_hint="URI",
        )
    card = model_card.build(bundle, evaluation, source=bundle_uri)
    typer.echo(resources.ModelRegistry().register(bundle, card, {"stage": "released"}))


@app.command("import-model")
def import_model(
    uri: Annotated[
        str,
        typer.Argument(
            help="An exported .bentomodel file, or the folder of exports (its latest.json: the "
            "last gated model); local or s3://."
        ),
    ],
) -> None:
    """Import a model that bento_model exported after the gate into the BentoML store
    ($BENTOML_HOME) and print its tag (the release workflow's step)."""
    _, resources, _ = _pipeline()
    try:
        tag = resources.ModelRegistry.import_export(uri)
    except FileNotFoundError as exc:
        raise typer.BadParameter(f"{uri}: no exported model there", param_hint="URI") from exc
    typer.echo(tag)


if __name__ == "__main__":
    app()
