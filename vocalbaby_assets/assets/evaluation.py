"""Scoring the model once on the held-out test split: intervals, calibration, breakdowns and
baselines, a self-contained HTML report, and a multi-metric promotion gate."""

import dataclasses
import json

import numpy as np
import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    Config,
    MetadataValue,
    Output,
    asset,
    asset_check,
)
from pydantic import Field

from vocalbaby import baselines, evaluation, metrics, model, plots, report, splits, storage
from vocalbaby.model import ModelBundle
from vocalbaby_assets.metadata import png_markdown, table_markdown
from vocalbaby_assets.resources import VocalBabySettings

GROUP = "evaluation"


class EvaluationConfig(Config):
    """The promotion gate (every criterion must pass; ``None`` switches one off) and bootstrap.

    The defaults ask for more than chance with margin, evidence that holds across children, no
    class the model has given up on, and no loss against the decade-old ComParE baseline.
    """

    min_uar: float = Field(default=0.5, ge=0, le=1, description="Lowest test UAR to promote.")
    min_uar_ci_low: float | None = Field(
        default=0.4, ge=0, le=1, description="Lowest lower bound of UAR's 95% bootstrap interval."
    )
    min_class_recall: float | None = Field(
        default=0.2,
        ge=0,
        le=1,
        description="Lowest recall of every class in the test split (for a class with fewer "
        "than min_class_support clips: the upper bound of its recall's interval).",
    )
    min_class_support: int = Field(
        default=30,
        ge=1,
        description="Test clips below which a class is judged on its recall's interval.",
    )
    baseline_margin: float | None = Field(
        default=-0.05,
        description="Lowest lower bound of the paired child-bootstrap interval of UAR(model) - "
        "UAR(ComParE recipe): -0.05, not more than 5 points worse with 95% confidence "
        "(non-inferiority); 0, a lead beyond noise.",
    )
    bootstrap: int = Field(default=1000, ge=100, description="Bootstrap resamples of children.")
    seed: int = 0

    def criteria(self) -> evaluation.GateCriteria:
        """The gate criteria of this configuration."""
        names = [f.name for f in dataclasses.fields(evaluation.GateCriteria)]
        return evaluation.GateCriteria(**{name: getattr(self, name) for name in names})


def _baselines(
    clip_features: pd.DataFrame, data_splits: pd.DataFrame, test_x: pd.DataFrame
) -> dict[str, np.ndarray]:
    """Test predictions of the ComParE recipe (C chosen on valid, refit on train + valid) and of
    the majority class."""
    train = splits.select(clip_features, data_splits, ("train",))[:2]
    valid = splits.select(clip_features, data_splits, ("valid",))[:2]
    recipe = baselines.fit_compare_svm(train, valid)
    return {
        baselines.COMPARE_RECIPE: recipe.predict(test_x),
        baselines.MAJORITY: baselines.majority(pd.concat([train[1], valid[1]]), len(test_x)),
    }


def _figures(found: dict, uncalibrated: dict, temperature: float) -> dict[str, bytes]:
    result = found["metrics"]
    return {
        "confusion_matrix": plots.confusion_matrix_png(result, title="Test split"),
        "confusion_matrix_normalized": plots.confusion_matrix_png(
            result, title="Test split, share of true class", normalize=True
        ),
        "intervals": plots.intervals_png(result["intervals"]),
        "pr_curves": plots.pr_curves_png(found["pr_curves"]),
        "reliability": plots.reliability_png(
            {f"model (T={temperature:.2f})": found["reliability"], "uncalibrated": uncalibrated}
        ),
    }


def _json(value: object) -> object:
    """``json.dumps`` fallback: tables as lists of records."""
    if isinstance(value, pd.DataFrame):
        return json.loads(value.to_json(orient="records"))
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


@asset(group_name=GROUP)
def model_evaluation(
    context: AssetExecutionContext,
    config: EvaluationConfig,
    settings: VocalBabySettings,
    vocalbaby_model: ModelBundle,
    clip_features: pd.DataFrame,
    data_splits: pd.DataFrame,
    raw_clips: pd.DataFrame,
) -> Output[dict]:
    """Test-split UAR, macro-F1 and per-class recall with child-bootstrap 95% intervals,
    calibration, precision-recall curves, breakdowns by corpus/age/gender, beside two baselines.

    Baselines on the same split: majority class, and the ComParE 2019 procedure (MinMaxScaler +
    LinearSVC, upsampling by replication, C chosen on valid). Writes ``evaluation.json``,
    ``confusion_matrix.png`` and a self-contained ``report.html`` next to the bundle. When every
    gate criterion passes, the bundle becomes the current model (``models/latest.json``).
    """
    test_x, test_y, test_groups = splits.select(clip_features, data_splits, ("test",))
    groupings = evaluation.attributes(raw_clips.set_index("clip_id").loc[test_x.index])
    found = evaluation.assess(
        test_y,
        vocalbaby_model.predict_proba(test_x, test_groups),
        test_groups,
        groupings,
        config.bootstrap,
        config.seed,
    )
    raw_model = dataclasses.replace(vocalbaby_model, temperature=1.0)
    uncalibrated = evaluation.reliability(raw_model.predict_proba(test_x, test_groups), test_y)
    result = found["metrics"]
    predicted = _baselines(clip_features, data_splits, test_x)
    reports = {name: metrics.report(test_y, p) for name, p in predicted.items()}
    difference = evaluation.paired_difference(
        test_y,
        found["predictions"],
        predicted[baselines.COMPARE_RECIPE],
        test_groups,
        n_boot=config.bootstrap,
        seed=config.seed,
    )
    gate = evaluation.gate(result, config.criteria(), difference)
    values = {
        "model_version": vocalbaby_model.version,
        "split": "test",
        "metrics": result,
        "baselines": reports,
        "difference_to_compare_recipe": difference,
        "gate": gate,
        "calibration": {
            "temperature": vocalbaby_model.temperature,
            "ece": found["reliability"]["ece"],
            "ece_uncalibrated": uncalibrated["ece"],
            "reliability": found["reliability"]["bins"],
        },
        "average_precision": {c: v["average_precision"] for c, v in found["pr_curves"].items()},
        "breakdowns": {name: table.reset_index() for name, table in found["breakdowns"].items()},
        "worst_groups": found["worst_groups"],
    }
    figures = _figures(found, uncalibrated, vocalbaby_model.temperature)
    bundle_uri = storage.join(settings.path("models"), vocalbaby_model.version)
    files = {
        "evaluation": storage.join(bundle_uri, "evaluation.json"),
        "report": storage.join(bundle_uri, "report.html"),
    }
    storage.write_bytes(files["evaluation"], json.dumps(values, indent=2, default=_json).encode())
    storage.write_bytes(
        storage.join(bundle_uri, "confusion_matrix.png"), figures["confusion_matrix"]
    )
    report.write(
        files["report"],
        f"VocalBaby evaluation: {vocalbaby_model.version}",
        report.evaluation_sections(values, figures),
        note="SYNTHETIC demo data, not real infant audio." if settings.is_demo else "",
    )
    _promote(context, settings, gate, bundle_uri, vocalbaby_model.version)
    return Output(values, metadata=_metadata(values, found, figures, files, settings.is_demo))


def _promote(
    context: AssetExecutionContext,
    settings: VocalBabySettings,
    gate: dict,
    bundle_uri: str,
    version: str,
) -> None:
    if gate["passed"]:
        model.publish_latest(settings.path("models"), bundle_uri, version)
        context.log.info(f"gate passed (UAR {gate['uar']:.3f}): {bundle_uri} is current")
    else:
        context.log.warning(f"gate FAILED ({'; '.join(gate['reasons'])}): not promoted")


def _metadata(
    values: dict, found: dict, figures: dict[str, bytes], files: dict[str, str], is_demo: bool
) -> dict[str, object]:
    result, found_ci = values["metrics"], values["metrics"]["intervals"]
    return {
        "uar": result["uar"],
        "uar_ci_low": found_ci["uar"]["low"],
        "uar_ci_high": found_ci["uar"]["high"],
        "macro_f1": result["macro_f1"],
        "macro_f1_ci_low": found_ci["macro_f1"]["low"],
        "macro_f1_ci_high": found_ci["macro_f1"]["high"],
        "accuracy": result["accuracy"],
        "test_clips": result["n"],
        "test_children": found_ci["n_groups"],
        "gate_passed": values["gate"]["passed"],
        "gate": table_markdown(report.gate_table(values["gate"])),
        "per_class": table_markdown(report.per_class_table(result)),
        "intervals": png_markdown(figures["intervals"], "scores with 95% intervals"),
        "comparison": table_markdown(
            report.scores_table({"xgboost (tuned)": result} | values["baselines"])
        ),
        "uar_minus_compare_recipe": values["difference_to_compare_recipe"]["estimate"],
        "uar_minus_compare_recipe_ci_low": values["difference_to_compare_recipe"]["low"],
        "uar_minus_compare_recipe_ci_high": values["difference_to_compare_recipe"]["high"],
        "confusion_matrix": png_markdown(figures["confusion_matrix"], "confusion matrix"),
        "confusion_matrix_normalized": png_markdown(
            figures["confusion_matrix_normalized"], "confusion matrix by true class"
        ),
        "pr_curves": png_markdown(figures["pr_curves"], "precision-recall curves"),
        "ece": values["calibration"]["ece"],
        "ece_uncalibrated": values["calibration"]["ece_uncalibrated"],
        "temperature": values["calibration"]["temperature"],
        "reliability": png_markdown(figures["reliability"], "reliability diagram"),
        **{
            f"breakdown_{name.replace(' ', '_')}": table_markdown(table)
            for name, table in found["breakdowns"].items()
        },
        "worst_groups": table_markdown(values["worst_groups"].set_index("attribute")),
        "report": MetadataValue.path(files["report"]),
        "evaluation_uri": files["evaluation"],
        "synthetic_demo_data": is_demo,
    }


@asset_check(
    asset=model_evaluation, blocking=True, description="Every promotion gate criterion passes."
)
def uar_gate(model_evaluation: dict) -> AssetCheckResult:
    """The promotion gate: blocks everything downstream (registration) when a criterion fails."""
    gate = model_evaluation["gate"]
    return AssetCheckResult(
        passed=bool(gate["passed"]),
        metadata={
            "uar": gate["uar"],
            "min_uar": gate["min_uar"],
            "criteria": table_markdown(report.gate_table(gate)),
            "failed": MetadataValue.json(gate["reasons"]),
        },
        description="; ".join(gate["reasons"]) or f"all {len(gate['criteria'])} criteria pass",
    )
