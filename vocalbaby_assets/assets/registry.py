"""Registration of the evaluated, gated model in the BentoML model store."""

from dagster import AssetExecutionContext, Failure, MetadataValue, Output, asset

from vocalbaby import model_card
from vocalbaby.model import ModelBundle
from vocalbaby_assets.resources import ModelRegistry, VocalBabySettings

GROUP = "registry"


@asset(group_name=GROUP)
def bento_model(
    context: AssetExecutionContext,
    settings: VocalBabySettings,
    registry: ModelRegistry,
    vocalbaby_model: ModelBundle,
    model_evaluation: dict,
) -> Output[str]:
    """The model as a new version of ``vocalbaby`` in the BentoML store; its tag is the value.

    Runs only after the blocking ``uar_gate`` check (every gate criterion) passed, and refuses a
    failed gate itself too (for runs that select this asset alone). The store's metadata is the
    model card (:mod:`vocalbaby.model_card`), which the service shows at ``/model_info``;
    ``bentoml serve`` then loads ``vocalbaby:latest``. The same stored model is exported to
    ``<artifacts>/models/bentoml/`` (``latest.json`` names it), which the release job imports:
    the released model is the one that passed the gate.
    """
    gate = model_evaluation["gate"]
    if not gate["passed"]:
        raise Failure(f"not registering: the promotion gate failed ({'; '.join(gate['reasons'])})")
    source = settings.path("models", vocalbaby_model.version)
    card = model_card.build(vocalbaby_model, model_evaluation, source=source)
    labels = {
        "stage": "gated",
        "data": "synthetic-demo" if card["synthetic_demo_data"] else "dataset",
    }
    tag = registry.register(vocalbaby_model, card, labels)
    exported = registry.export(tag, settings.path("models", "bentoml"))
    context.log.info(
        f"registered {tag}, exported to {exported} (the release imports it); serve it with: "
        "bentoml serve vocalbaby_service.service:VocalBaby"
    )
    return Output(
        tag,
        metadata={
            "tag": tag,
            "uar": model_evaluation["metrics"]["uar"],
            "model_version": vocalbaby_model.version,
            "source": source,
            "export_uri": exported,
            "serve": MetadataValue.md("`bentoml serve vocalbaby_service.service:VocalBaby`"),
        },
    )
