"""The whole graph on synthetic demo data: real openSMILE, SMOTE, Optuna, XGBoost."""

import json
from pathlib import Path

import numpy as np
import pytest

from tests.pipeline.conftest import (
    FEATURES,
    INGESTION,
    check_results,
    metadata,
    run_pipeline,
    shard_total,
)
from vocalbaby import audio, dataset, features, metrics, model_card
from vocalbaby.model import ModelBundle
from vocalbaby_assets.resources import VocalBabySettings

pytestmark = pytest.mark.slow


def test_every_asset_materializes_and_every_check_passes(trained) -> None:
    _, result = trained
    assert result.success
    materialized = {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}
    assert materialized == {
        "raw_clips", "data_splits", "clip_features", "clip_feature_shards", "training_set",
        "tuned_hyperparameters", "vocalbaby_model", "model_evaluation", "bento_model",
        "reference_features", "model_comparison", "learning_curve", "annotated_clips",
        "source_dataset", "drift_calibration", "leave_one_corpus_out",
    }  # fmt: skip
    checks = check_results(result)
    assert {name for name, c in checks.items() if not c.passed} == set()
    assert {
        "raw_clips_readable",
        "data_splits_disjoint",
        "clip_features_complete",
        "uar_gate",
    } <= set(checks)


def test_model_beats_chance_and_is_compared_with_both_baselines(trained) -> None:
    _, result = trained
    evaluation = result.output_for_node("model_evaluation")
    uar = evaluation["metrics"]["uar"]
    assert uar > 0.6, "far above chance (0.2) on the synthetic data"
    assert uar > evaluation["baselines"]["majority class"]["uar"] + 0.3
    recipe = evaluation["baselines"]["ComParE recipe"]["uar"]
    difference = evaluation["difference_to_compare_recipe"]
    assert difference["estimate"] == pytest.approx(uar - recipe)
    assert difference["low"] <= difference["estimate"] <= difference["high"]
    meta = metadata(result, "model_evaluation")
    assert "data:image/png;base64," in meta["confusion_matrix"]
    assert meta["gate_passed"] is True


def test_splits_are_child_disjoint(trained) -> None:
    _, result = trained
    splits = result.output_for_node("data_splits")
    assert splits.groupby("child_id")["split"].nunique().max() == 1
    assert metadata(result, "data_splits")["grouped_by_child"] is True


def test_bundle_is_written_loadable_and_current(trained) -> None:
    settings, result = trained
    evaluation = result.output_for_node("model_evaluation")
    folder = Path(settings.artifacts_uri, "models", evaluation["model_version"])
    bundle = ModelBundle.load(Path(settings.artifacts_uri, "models"))
    classifier = "booster.json" if bundle.family == "xgboost" else "linear.json"
    assert {
        classifier,
        "bundle.json",
        "imputer.json",
        "evaluation.json",
        "confusion_matrix.png",
    } <= {p.name for p in folder.iterdir()}
    assert bundle.family == result.output_for_node("leave_one_corpus_out")["recipe"]["family"]
    assert bundle.version == evaluation["model_version"]
    for key in ("params", "dataset_hash", "git_commit", "packages", "cv_uar"):
        assert key in bundle.metadata
    tuned = result.output_for_node("tuned_hyperparameters")
    assert tuned["folds_grouped_by"] == "corpus"  # the demo set names three corpora
    assert tuned["linear_params"]["C"] > 0
    # the loaded bundle reproduces the test score from the raw audio
    splits = result.output_for_node("data_splits")
    test = (
        dataset.read(settings.dataset_uri)
        .merge(splits[["clip_id", "split"]])
        .query("split == 'test'")
    )

    table = features.extract({r.clip_id: audio.load(r.uri).samples for r in test.itertuples()})
    again = metrics.report(
        test.set_index("clip_id").loc[table.index, "label"], bundle.predict(table)
    )
    assert again["uar"] == pytest.approx(evaluation["metrics"]["uar"])
    assert json.loads((folder / "evaluation.json").read_text())["metrics"]["uar"] == pytest.approx(
        again["uar"]
    )


def test_feature_cache_extracts_only_new_clips(trained, tmp_path) -> None:
    settings, result = trained
    assert shard_total(result, "extracted_now") == 300
    again = run_pipeline(settings, selection=[*INGESTION, *FEATURES])
    assert again.success
    assert shard_total(again, "extracted_now") == 0
    assert shard_total(again, "from_cache") == 300


def test_gated_model_is_registered_in_the_bentoml_store(trained) -> None:
    from vocalbaby_service import model_store

    _, result = trained
    tag = result.output_for_node("bento_model")
    evaluation = result.output_for_node("model_evaluation")
    bundle, stored = model_store.load(tag)
    assert bundle.version == evaluation["model_version"]
    assert stored.info.metadata["metrics"]["uar"] == pytest.approx(evaluation["metrics"]["uar"])
    assert stored.info.metadata["feature_names"] == bundle.feature_names
    assert set(stored.info.metadata) == set(model_card.KEYS)
    assert stored.info.metadata["evaluated"] and stored.info.metadata["gate"]["passed"]
    # Not `vocalbaby:latest`: later tests of the session register models in the same store.
    exported = metadata(result, "bento_model")["export_uri"]
    assert Path(exported).is_file() and exported.endswith(f"{tag.replace(':', '-')}.bentomodel")
    pointer = json.loads(Path(exported).with_name("latest.json").read_text())
    assert pointer == {"tag": tag, "uri": exported}


def test_without_a_dataset_the_synthetic_set_is_an_asset(tmp_path) -> None:
    settings = VocalBabySettings(artifacts_uri=str(tmp_path / "artifacts"), demo_clips=100)
    first = run_pipeline(settings, selection=INGESTION)
    assert first.success
    source = first.output_for_node("source_dataset")
    assert source == {"uri": settings.synthetic_dataset(), "synthetic": True}
    assert metadata(first, "source_dataset")["synthetic_demo_data"] is True
    assert metadata(first, "raw_clips")["clips"] == 100
    written = Path(source["uri"], "metadata.csv").stat().st_mtime_ns
    again = run_pipeline(settings, selection=INGESTION)
    assert again.success, "a second run reuses the generated set"
    assert Path(source["uri"], "metadata.csv").stat().st_mtime_ns == written


def test_pipeline_features_equal_the_service_path_for_the_same_clip(trained) -> None:
    """Train/serve parity: an uploaded file's bytes give exactly the pipeline's features."""
    _, result = trained
    table = result.output_for_node("clip_features")
    raw = result.output_for_node("raw_clips").set_index("clip_id")
    for clip_id in table.index[:20]:
        uploaded = Path(raw.loc[clip_id, "uri"]).read_bytes()
        served = features.extract_one(audio.load(uploaded, name=f"{clip_id}.wav").samples)
        np.testing.assert_allclose(served, table.loc[clip_id].to_numpy(), rtol=1e-6, equal_nan=True)
