"""Registration of the evaluated, gated model in the BentoML model store."""

from dagster import AssetExecutionContext, Failure, MetadataValue, Output, asset

from vocalbaby.model import ModelBundle
from vocalbaby_service import model_store

GROUP = "registry"


@asset(group_name=GROUP)
def bento_model(
    context: AssetExecutionContext, vocalbaby_model: ModelBundle, model_evaluation: dict
) -> Output[str]:
    """The model as a new version of ``vocalbaby`` in the BentoML store; its tag is the value.

    Runs only after the blocking ``uar_gate`` check (every gate criterion) passed, and refuses a
    failed gate itself too (for runs that select this asset alone). ``bentoml serve`` then loads
    ``vocalbaby:latest``.
    """
    gate = model_evaluation["gate"]
    if not gate["passed"]:
        raise Failure(f"not registering: the promotion gate failed ({'; '.join(gate['reasons'])})")
    result = model_evaluation["metrics"]
    meta = vocalbaby_model.metadata
    metadata = {
        "version": vocalbaby_model.version,
        "metrics": {k: result[k] for k in ("uar", "macro_f1", "accuracy", "n")},
        "per_class_recall": {c: m["recall"] for c, m in result["per_class"].items()},
        "baselines_uar": {k: v["uar"] for k, v in model_evaluation["baselines"].items()},
        "classes": vocalbaby_model.classes,
        "feature_names": vocalbaby_model.feature_names,
        "feature_config": vocalbaby_model.feature_config,
        "params": meta.get("params"),
        "dataset_hash": meta.get("dataset_hash"),
        "synthetic_demo_data": meta.get("synthetic_demo_data"),
        "git_commit": meta.get("git_commit"),
    }
    labels = {
        "stage": "gated",
        "data": "synthetic-demo" if meta.get("synthetic_demo_data") else "dataset",
    }
    tag = model_store.register(vocalbaby_model, metadata=metadata, labels=labels)
    context.log.info(
        f"registered {tag}; serve it with: bentoml serve vocalbaby_service.service:VocalBaby"
    )
    return Output(
        tag,
        metadata={
            "tag": tag,
            "uar": result["uar"],
            "model_version": vocalbaby_model.version,
            "serve": MetadataValue.md("`bentoml serve vocalbaby_service.service:VocalBaby`"),
        },
    )
