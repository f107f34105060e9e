"""Feature shards: four partitions in two parallel runs give exactly the unpartitioned features."""

import subprocess
import sys
from pathlib import Path

import pandas as pd

from tests.pipeline.conftest import INGESTION, run_pipeline
from vocalbaby import feature_cache, features, storage, synthetic
from vocalbaby_assets.assets.features import SHARDS
from vocalbaby_assets.resources import VocalBabySettings

CLI = str(Path(sys.executable).with_name("vocalbaby-pipeline"))


def test_four_shards_in_two_parallel_runs_equal_the_unpartitioned_features(tmp_path) -> None:
    data = synthetic.generate(tmp_path / "data", clips=120, seed=2)
    settings = VocalBabySettings(dataset_uri=str(data), artifacts_uri=str(tmp_path / "artifacts"))
    ingestion = run_pipeline(settings, selection=INGESTION)
    assert ingestion.success
    raw_clips = ingestion.output_for_node("raw_clips")

    keys = SHARDS.get_partition_keys()
    assert len(keys) == 4
    common = [CLI, "train", "--dataset", str(data), "--artifacts", settings.artifacts_uri]
    runs = [
        subprocess.Popen(
            [*common, "--select", "clip_feature_shards", "--partition", a, "--partition", b],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for a, b in (keys[:2], keys[2:])
    ]
    for run in runs:
        output, _ = run.communicate(timeout=300)
        assert run.returncode == 0, output[-3000:]

    combined = run_pipeline(settings, selection=["clip_features"])
    assert combined.success
    table = combined.output_for_node("clip_features")
    unpartitioned = features.extract_files(raw_clips.set_index("clip_id")["uri"].to_dict())
    assert not unpartitioned.failures
    pd.testing.assert_frame_equal(table, unpartitioned.features, check_names=False)
    assert list(table.index) == list(raw_clips["clip_id"])

    cache = feature_cache.cache_uri(settings.path("feature_cache"))
    parts = [k for k in storage.list_keys(cache) if k.endswith(feature_cache.PART_SUFFIX)]
    assert sum(len(pd.read_parquet(p)) for p in parts) == 120, "each clip extracted once"
    shard_dir = Path(settings.artifacts_uri, "dagster", "clip_feature_shards")
    assert sorted(p.name for p in shard_dir.iterdir()) == keys
