"""The pipeline in production mode against a real S3-compatible server (SeaweedFS)."""

import io

import pandas as pd
import pytest

from tests.integration.s3_data import upload_demo
from tests.pipeline.conftest import FEATURES, INGESTION, run_pipeline, shard_total
from vocalbaby_assets.resources import VocalBabySettings

pytestmark = pytest.mark.integration


@pytest.fixture
def s3_env(s3_server, monkeypatch):
    for key, value in s3_server.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("VOCALBABY_ENV", "prod")
    return s3_server


def test_assets_round_trip_through_the_s3_io_manager(s3_env, demo_dataset) -> None:
    client = s3_env.client()
    for bucket in ("vb-data", "vb-artifacts"):
        client.create_bucket(Bucket=bucket)
    upload_demo(client, "vb-data", demo_dataset, clips=80)
    settings = VocalBabySettings(
        dataset_uri="s3://vb-data/babble", artifacts_uri="s3://vb-artifacts/run1"
    )

    first = run_pipeline(settings, selection=[*INGESTION, "data_splits", *FEATURES], env="prod")
    assert first.success
    keys = {o["Key"] for o in client.list_objects_v2(Bucket="vb-artifacts")["Contents"]}
    for asset in ("raw_clips", "data_splits", "clip_features"):
        assert f"run1/dagster/{asset}" in keys
    assert any(k.startswith("run1/feature_cache/") for k in keys)
    raw = first.output_for_node("raw_clips")
    assert raw["uri"].str.startswith("s3://vb-data/babble/audio/").all()
    assert raw["error"].isna().all()

    # a new run of the downstream assets alone loads raw_clips back from S3
    second = run_pipeline(settings, selection=["data_splits", *FEATURES], env="prod")
    assert second.success
    pd.testing.assert_frame_equal(
        second.output_for_node("data_splits"), first.output_for_node("data_splits")
    )
    assert shard_total(second, "extracted_now") == 0
    pd.testing.assert_frame_equal(
        second.output_for_node("clip_features"), first.output_for_node("clip_features")
    )
    stored = client.get_object(Bucket="vb-artifacts", Key="run1/dagster/data_splits")["Body"].read()
    assert len(io.BytesIO(stored).getvalue()) > 0


def test_prod_mode_refuses_a_local_artifacts_folder(tmp_path) -> None:
    from vocalbaby_assets.resources import resources

    with pytest.raises(ValueError, match="s3://"):
        resources(VocalBabySettings(artifacts_uri=str(tmp_path)), env="prod")
    with pytest.raises(ValueError, match="VOCALBABY_IO_MANAGER_URI"):
        settings = VocalBabySettings(artifacts_uri="s3://a/b", io_manager_uri=str(tmp_path))
        resources(settings, env="prod")


def test_the_io_manager_can_have_its_own_bucket() -> None:
    from vocalbaby_assets.resources import resources, settings_from_env

    env = {
        "VOCALBABY_ARTIFACTS_URI": "s3://vb-artifacts/run",
        "VOCALBABY_IO_MANAGER_URI": "s3://vb-io/dagster",
    }
    io_manager = resources(settings_from_env(env), env="prod")["io_manager"]
    assert (io_manager.s3_bucket, io_manager.s3_prefix) == ("vb-io", "dagster")
    default = resources(
        settings_from_env({"VOCALBABY_ARTIFACTS_URI": "s3://vb-artifacts/run"}), "prod"
    )
    assert (default["io_manager"].s3_bucket, default["io_manager"].s3_prefix) == (
        "vb-artifacts",
        "run/dagster",
    )


def test_model_bundle_saves_and_loads_from_s3(s3_env) -> None:
    import numpy as np

    from vocalbaby import model, training
    from vocalbaby.model import ModelBundle

    s3_env.client().create_bucket(Bucket="vb-models")
    rng = np.random.default_rng(0)
    features = pd.DataFrame(rng.standard_normal((60, 4)), columns=list("abcd"))
    labels = pd.Series(["junk", "crying", "canonical"] * 20)
    bundle = training.train(features, labels, training.DEFAULT_PARAMS)
    bundle.metadata = {"version": "s3v1"}
    uri = bundle.save("s3://vb-models/models/s3v1")
    model.publish_latest("s3://vb-models/models", uri, "s3v1")
    loaded = ModelBundle.load("s3://vb-models/models")
    assert loaded.version == "s3v1"
    pd.testing.assert_frame_equal(loaded.predict_proba(features), bundle.predict_proba(features))
