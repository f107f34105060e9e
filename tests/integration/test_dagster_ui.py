"""The Dagster UI (a real dagster-webserver) loads the code location from workspace.yaml."""

import json
import os
import shutil
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.servers.process import HOST, free_port, http_ok, start, stop, wait_until

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
QUERY = """
{
  workspaceOrError { ... on Workspace { locationEntries {
    name
    locationOrLoadError { __typename ... on PythonError { message } }
  } } }
  assetNodes {
    assetKey { path }
    assetChecksOrError { ... on AssetChecks { checks { name blocking } } }
  }
}
"""
AUTOMATION_QUERY = """
{
  repositoriesOrError { ... on RepositoryConnection { nodes {
    sensors { name sensorState { status } }
    schedules { name scheduleState { status } }
  } } }
}
"""


def _graphql(url: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


@pytest.fixture(scope="module")
def webserver(tmp_path_factory):
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    port = free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "VOCALBABY_ARTIFACTS_URI": str(home / "artifacts"),
    }
    log = home / "webserver.log"
    command = [
        sys.executable,
        "-m",
        "dagster_webserver",
        "-w",
        "workspace.yaml",
        "-h",
        HOST,
        "-p",
        str(port),
    ]
    proc = start(command, log, env=env, cwd=ROOT)
    url = f"http://{HOST}:{port}"
    try:
        wait_until(http_ok(f"{url}/server_info"), proc, log, "dagster-webserver", timeout_s=120)
        yield url
    finally:
        stop(proc)


def test_code_location_loads_with_every_asset_and_check(webserver) -> None:
    data = _graphql(webserver, QUERY)
    (entry,) = data["workspaceOrError"]["locationEntries"]
    assert entry["name"] == "vocalbaby"
    assert entry["locationOrLoadError"]["__typename"] == "RepositoryLocation", entry
    nodes = {n["assetKey"]["path"][-1]: n for n in data["assetNodes"]}
    assert set(nodes) == {
        "raw_clips", "data_splits", "clip_features", "clip_feature_shards", "training_set",
        "tuned_hyperparameters",
        "vocalbaby_model", "model_evaluation", "bento_model",
        "reference_features", "production_batches", "drift_report",
        "model_comparison", "learning_curve", "annotated_clips", "source_dataset",
        "drift_calibration", "leave_one_corpus_out",
    }  # fmt: skip
    checks = {
        c["name"]: c["blocking"] for n in nodes.values() for c in n["assetChecksOrError"]["checks"]
    }
    assert checks["raw_clips_readable"] and checks["data_splits_disjoint"] and checks["uar_gate"]
    assert checks["raw_clips_durations"]
    assert checks["feature_drift"] is False and checks["label_drift"] is False
    assert checks["annotator_agreement"] is False


def test_schedule_and_sensors_run_by_default(webserver) -> None:
    data = _graphql(webserver, AUTOMATION_QUERY)
    (repository,) = data["repositoriesOrError"]["nodes"]
    states = {s["name"]: s["sensorState"]["status"] for s in repository["sensors"]}
    states |= {s["name"]: s["scheduleState"]["status"] for s in repository["schedules"]}
    assert states == {
        "prediction_log_sensor": "RUNNING",
        "annotations_sensor": "RUNNING",
        "nightly_drift": "RUNNING",
    }
