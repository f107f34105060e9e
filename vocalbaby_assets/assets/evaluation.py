"""Scoring the model once on the held-out test split, against two baselines, with a UAR gate."""

import json

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    Config,
    Output,
    asset,
    asset_check,
)
from pydantic import Field

from vocalbaby import baselines, metrics, model, storage
from vocalbaby.model import ModelBundle
from vocalbaby_assets.assets.training import split_rows
from vocalbaby_assets.metadata import png_markdown, table_markdown
from vocalbaby_assets.resources import VocalBabySettings

GROUP = "evaluation"


class EvaluationConfig(Config):
    """The promotion gate."""

    min_uar: float = Field(default=0.5, ge=0, le=1, description="Lowest test UAR to promote.")
    seed: int = 0


def _comparison(reports: dict[str, dict]) -> pd.DataFrame:
    rows = {
        name: {
            "UAR": r["uar"],
            "macro-F1": r["macro_f1"],
            "accuracy": r["accuracy"],
            **{f"recall {c}": m["recall"] for c, m in r["per_class"].items()},
        }
        for name, r in reports.items()
    }
    return pd.DataFrame(rows).T


def _per_class(report: dict) -> pd.DataFrame:
    return pd.DataFrame(report["per_class"]).T[["recall", "precision", "f1", "support"]]


@asset(group_name=GROUP)
def model_evaluation(
    context: AssetExecutionContext,
    config: EvaluationConfig,
    settings: VocalBabySettings,
    vocalbaby_model: ModelBundle,
    clip_features: pd.DataFrame,
    data_splits: pd.DataFrame,
) -> Output[dict]:
    """UAR, macro-F1, per-class metrics and confusion matrix on test, beside two baselines.

    Baselines on the same split: majority class, and the ComParE 2019 procedure (MinMaxScaler +
    LinearSVC, upsampling by replication, C chosen on valid). When the gate passes, the bundle
    becomes the current model (``models/latest.json``).
    """
    train = split_rows(clip_features, data_splits, ("train",))[:2]
    valid = split_rows(clip_features, data_splits, ("valid",))[:2]
    test_x, test_y, _ = split_rows(clip_features, data_splits, ("test",))
    svm_pred, svm_c = baselines.compare_svm(train, valid, test_x, config.seed)
    all_train = pd.concat([train[1], valid[1]])
    reports = {
        "xgboost (tuned)": metrics.report(test_y, vocalbaby_model.predict(test_x)),
        "ComParE SVM": metrics.report(test_y, svm_pred),
        "majority class": metrics.report(test_y, baselines.majority(all_train, len(test_y))),
    }
    result = reports["xgboost (tuned)"]
    gate = metrics.gate(result, config.min_uar)
    evaluation = {
        "model_version": vocalbaby_model.version,
        "split": "test",
        "metrics": result,
        "baselines": {
            "compare_svm": reports["ComParE SVM"] | {"C": svm_c},
            "majority": reports["majority class"],
        },
        "gate": gate,
    }
    bundle_uri = storage.join(settings.path("models"), vocalbaby_model.version)
    storage.write_bytes(
        storage.join(bundle_uri, "evaluation.json"), json.dumps(evaluation, indent=2).encode()
    )
    png = metrics.confusion_matrix_png(result, title="Test split")
    storage.write_bytes(storage.join(bundle_uri, "confusion_matrix.png"), png)
    if gate["passed"]:
        model.publish_latest(settings.path("models"), bundle_uri, vocalbaby_model.version)
        context.log.info(
            f"gate passed (UAR {result['uar']:.3f} >= {config.min_uar}): {bundle_uri} is current"
        )
    else:
        context.log.warning(
            f"gate FAILED: UAR {result['uar']:.3f} < {config.min_uar}; not promoted"
        )
    return Output(
        evaluation,
        metadata={
            "uar": result["uar"],
            "macro_f1": result["macro_f1"],
            "accuracy": result["accuracy"],
            "test_clips": result["n"],
            "gate_passed": gate["passed"],
            "per_class": table_markdown(_per_class(result)),
            "comparison": table_markdown(_comparison(reports)),
            "confusion_matrix": png_markdown(png, "confusion matrix"),
            "evaluation_uri": storage.join(bundle_uri, "evaluation.json"),
            "synthetic_demo_data": settings.is_demo,
        },
    )


@asset_check(asset=model_evaluation, blocking=True, description="Test UAR reaches the gate.")
def uar_gate(model_evaluation: dict) -> AssetCheckResult:
    """The promotion gate: blocks everything downstream (registration) when UAR is too low."""
    gate = model_evaluation["gate"]
    return AssetCheckResult(
        passed=bool(gate["passed"]),
        metadata={"uar": gate["uar"], "min_uar": gate["min_uar"]},
        description=f"UAR {gate['uar']:.3f} vs gate {gate['min_uar']:.3f}",
    )
