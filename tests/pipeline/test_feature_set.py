"""The pipeline's feature set (``VOCALBABY_FEATURE_SET``): extracted, cached and checked."""

import typing
from pathlib import Path

from tests.pipeline.conftest import check_results, run_pipeline
from vocalbaby import features, synthetic
from vocalbaby_assets.resources import VocalBabySettings, settings_from_env

SET = "ComParE_2016"


def test_the_feature_set_setting_names_every_extractor_set() -> None:
    allowed = typing.get_args(VocalBabySettings.model_fields["feature_set"].annotation)
    assert set(allowed) == set(features.FEATURE_SETS)
    assert settings_from_env({}).feature_set == features.DEFAULT_FEATURE_SET
    assert settings_from_env({"VOCALBABY_FEATURE_SET": SET}).feature_set == SET


def test_clip_features_are_of_the_configured_set_and_cached_under_its_name(tmp_path: Path) -> None:
    data = synthetic.generate(tmp_path / "data", clips=24, seed=1)
    artifacts = tmp_path / "artifacts"
    settings = VocalBabySettings(
        dataset_uri=str(data), artifacts_uri=str(artifacts), feature_set=SET
    )
    selection = ["source_dataset", "annotated_clips", "raw_clips", "clip_feature_shards"]
    result = run_pipeline(settings, selection=[*selection, "clip_features"])
    assert result.success
    table = result.output_for_node("clip_features")
    assert list(table.columns) == list(features.feature_names(SET)) and len(table) == 24
    assert check_results(result)["clip_features_complete"].passed
    cached = [p.name for p in (artifacts / "feature_cache").iterdir()]
    assert len(cached) == 1 and cached[0].startswith(SET)
