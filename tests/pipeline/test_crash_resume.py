"""A `vocalbaby-pipeline train` run killed with SIGKILL mid-extraction resumes from its cache."""

import os
import pickle
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from tests.pipeline.conftest import FEATURES, INGESTION
from vocalbaby import feature_cache, storage
from vocalbaby_assets.assets.features import SHARDS

CLI = str(Path(sys.executable).with_name("vocalbaby-pipeline"))
CLIPS = 300
FEATURES_RUN = [*INGESTION, *FEATURES]


def _command(artifacts: Path) -> list[str]:
    selection = [arg for name in FEATURES_RUN for arg in ("--select", name)]
    return [CLI, "train", "--demo-clips", str(CLIPS), "--artifacts", str(artifacts), *selection]


def _cached_rows(artifacts: Path) -> list[int]:
    """Rows in each published part of the feature cache."""
    uri = feature_cache.cache_uri(str(artifacts / "feature_cache"))
    parts = [k for k in storage.list_keys(uri) if k.endswith(feature_cache.PART_SUFFIX)]
    return [len(pd.read_parquet(part)) for part in parts]


def test_sigkill_mid_extraction_then_rerun_extracts_only_the_missing_clips(tmp_path) -> None:
    artifacts = tmp_path / "artifacts"
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}  # ephemeral instance
    with (tmp_path / "killed.log").open("wb") as log:
        run = subprocess.Popen(_command(artifacts), stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 240
    while len(_cached_rows(artifacts)) < 2 and run.poll() is None:
        assert time.monotonic() < deadline, "no feature batch was cached in time"
        time.sleep(0.05)
    run.send_signal(signal.SIGKILL)
    run.wait()
    assert run.returncode == -signal.SIGKILL, (tmp_path / "killed.log").read_text()[-3000:]
    cached = sum(_cached_rows(artifacts))
    assert 0 < cached < CLIPS, "the kill must land during extraction"

    rerun = subprocess.run(_command(artifacts), capture_output=True, text=True, env=env)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    counts = re.findall(r"(\d+) clips cached, (\d+) extracted", rerun.stderr)  # one per shard
    assert len(counts) == len(SHARDS.get_partition_keys()), rerun.stderr[-3000:]
    totals = [sum(int(shard[i]) for shard in counts) for i in (0, 1)]
    assert totals == [cached, CLIPS - cached]
    assert sum(_cached_rows(artifacts)) == CLIPS, "no clip was extracted twice"
    table = pickle.loads((artifacts / "dagster" / "clip_features").read_bytes())
    clips = pickle.loads((artifacts / "dagster" / "raw_clips").read_bytes())
    assert table.index.is_unique and sorted(table.index) == sorted(clips["clip_id"])
    assert table.shape == (CLIPS, 88) and not table.isna().all(axis=1).any()
