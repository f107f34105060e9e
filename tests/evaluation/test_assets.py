"""The evaluation assets on the 300-clip demo run (the session's ``trained`` materialization)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from dagster import build_asset_context

from tests.evaluation.test_report import self_contained
from tests.pipeline.conftest import check_results, metadata
from vocalbaby import comparison, model_card, splits, synthetic, training
from vocalbaby.model import ModelBundle
from vocalbaby_assets.assets.evaluation import EvaluationConfig, model_evaluation, uar_gate
from vocalbaby_assets.resources import VocalBabySettings

pytestmark = pytest.mark.slow

PLOTS = ("confusion_matrix", "confusion_matrix_normalized", "intervals", "pr_curves", "reliability")


def test_model_evaluation_shows_intervals_plots_breakdowns_and_links_the_report(trained) -> None:
    settings, result = trained
    evaluation = result.output_for_node("model_evaluation")
    found = evaluation["metrics"]["intervals"]
    assert found["unit"] == "child" and found["n_boot"] == 1000
    assert found["uar"]["low"] <= evaluation["metrics"]["uar"] <= found["uar"]["high"]
    meta = metadata(result, "model_evaluation")
    assert meta["uar_ci_low"] <= meta["uar"] <= meta["uar_ci_high"]
    for key in PLOTS:
        assert meta[key].startswith("![") and "data:image/png;base64," in meta[key]
    assert "recall low" in meta["per_class"] and "criterion" in meta["gate"]
    assert {"breakdown_corpus", "breakdown_age_band", "breakdown_gender"} <= set(meta)
    assert 0 <= meta["ece"] <= 1 and meta["temperature"] > 0
    page = Path(meta["report"]).read_text()
    assert Path(meta["report"]).parent == Path(
        settings.artifacts_uri, "models", evaluation["model_version"]
    )
    assert self_contained(page) and page.count("data:image/png;base64,") == len(PLOTS)
    assert (
        f"UAR {meta['uar']:.3f} (95% CI {meta['uar_ci_low']:.3f}-{meta['uar_ci_high']:.3f})" in page
    )
    stored = json.loads(Path(meta["evaluation_uri"]).read_text())
    assert stored["metrics"]["intervals"]["uar"] == found["uar"]
    assert stored["breakdowns"]["corpus"][0]["clips"] > 0
    assert len(stored["calibration"]["reliability"]) == 10


def test_gate_check_reports_each_criterion(trained) -> None:
    _, result = trained
    check = check_results(result)["uar_gate"]
    assert check.passed
    criteria = result.output_for_node("model_evaluation")["gate"]["criteria"]
    assert [c["criterion"] for c in criteria][:2] == ["UAR", "UAR, lower 95% bound"]
    assert sum(c["criterion"].startswith("recall of ") for c in criteria) == 5  # every class
    assert check.description == f"all {len(criteria)} criteria pass"


def test_bundle_carries_the_calibration_fitted_on_valid(trained) -> None:
    settings, result = trained
    calibration = metadata(result, "vocalbaby_model")["calibration"]
    assert calibration["ece_after"] <= calibration["ece_before"]
    bundle = ModelBundle.load(Path(settings.artifacts_uri, "models"))
    assert bundle.temperature == pytest.approx(calibration["temperature"])
    assert bundle.metadata["calibration"]["applied"] == (bundle.temperature != 1.0)


def test_model_comparison_lists_every_model_with_pooled_uar_and_paired_difference(
    trained,
) -> None:
    settings, result = trained
    value = result.output_for_node("model_comparison")
    table = value["table"]
    assert set(table.index) == set(comparison.CANDIDATES)
    assert ((table["uar_low"] <= table["uar"]) & (table["uar"] <= table["uar_high"])).all()
    assert table.loc[comparison.REFERENCE, "uar"] > table.loc["majority class", "uar"] + 0.3
    assert {name for name, _ in value["params"]} == set(comparison.CANDIDATES)
    meta = metadata(result, "model_comparison")
    assert "data:image/png;base64," in meta["plot"]
    assert all(name in meta["table"] for name in comparison.CANDIDATES)
    assert meta["reference_minus_compare_recipe"] == pytest.approx(
        table.loc[comparison.REFERENCE, "vs_reference"]
    )
    saved = pd.read_csv(meta["csv"], index_col="model")
    assert saved["uar"].to_dict() == pytest.approx(table["uar"].to_dict())
    assert self_contained(Path(meta["report"]).read_text())
    assert Path(meta["report"]).parent == Path(settings.artifacts_uri, "reports")


def test_learning_curve_rises_with_training_children_on_the_demo_set(trained) -> None:
    _, result = trained
    curve = result.output_for_node("learning_curve")
    assert set(curve["model"]) == set(comparison.CANDIDATES)
    assert sorted(curve["fraction"].unique()) == [0.1, 0.25, 0.5, 1.0]
    learners = curve[curve["model"] != "majority class"]
    mean = learners.groupby("fraction")["uar"].mean()
    assert mean[1.0] > mean[0.1] + 0.05
    meta = metadata(result, "learning_curve")
    assert "data:image/png;base64," in meta["plot"]
    assert json.loads(Path(meta["json"]).read_text())[0].keys() >= {"model", "fraction", "uar"}
    assert len(pd.read_csv(meta["csv"])) == len(curve)


def test_a_degraded_model_fails_the_gate_and_is_not_promoted(trained, tmp_path) -> None:
    _, result = trained
    clip_features, data_splits = (
        result.output_for_node(n) for n in ("clip_features", "data_splits")
    )
    features, labels, _ = splits.select(clip_features, data_splits, ("train", "valid"))
    shuffled = pd.Series(np.random.default_rng(0).permutation(labels.to_numpy()))
    degraded = training.train(features, shuffled, training.DEFAULT_PARAMS)
    degraded.metadata = {"version": "degraded"}
    settings = VocalBabySettings(dataset_uri="unused", artifacts_uri=str(tmp_path))
    output = model_evaluation(
        build_asset_context(),
        config=EvaluationConfig(),
        settings=settings,
        vocalbaby_model=degraded,
        clip_features=clip_features,
        data_splits=data_splits,
        raw_clips=result.output_for_node("raw_clips"),
    )
    gate = output.value["gate"]
    assert not gate["passed"]
    assert any(reason.startswith("UAR, lower 95% bound") for reason in gate["reasons"])
    check = uar_gate(output.value)
    assert not check.passed and "UAR" in check.description
    assert not (tmp_path / "models" / "latest.json").exists()
    assert (tmp_path / "models" / "degraded" / "report.html").exists()


def test_loco_on_the_demo_set_is_labelled_synthetic_and_recorded_in_the_bundle(trained) -> None:
    settings, result = trained
    meta = metadata(result, "leave_one_corpus_out")
    assert meta["synthetic_demo_data"] is True
    assert set(meta["synthetic_held_out"]) == set(meta["held_out"]) == set(synthetic.CORPORA)
    assert "(synthetic)" in meta["table"]
    bundle = ModelBundle.load(Path(settings.artifacts_uri, "models"))
    splits_ = result.output_for_node("data_splits")
    fitted = splits_.loc[splits_["split"].isin(["train", "valid"]), "clip_id"]
    raw = result.output_for_node("raw_clips")
    corpora = sorted(raw.loc[raw["clip_id"].isin(fitted), "corpus"].unique())
    assert bundle.metadata["trained_corpora"] == corpora
    assert bundle.metadata["synthetic_demo_data"] is True
    loco = bundle.metadata["generalisation"]
    assert loco["pooled_uar"]["estimate"] == pytest.approx(meta["loco_uar"])
    assert bundle.metadata["recipe"] == result.output_for_node("leave_one_corpus_out")["recipe"]
    assert (bundle.normalisation is not None) == (
        bundle.metadata["recipe"]["normalise_prior_clips"] is not None
    )
    assert bundle.family == bundle.metadata["recipe"]["family"] == bundle.metadata["model_family"]
    card = model_card.build(bundle)
    assert card["generalisation"]["held_out"] == sorted(synthetic.CORPORA)
    assert card["generalisation"]["chosen_by"].startswith("pooled LOCO UAR")
    assert "SYNTHETIC demo data only" in model_card.describe_training_data(card)
