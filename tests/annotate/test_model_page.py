"""The model page (card, evaluation, history) and retraining through a real Dagster webserver."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from starlette.testclient import TestClient

from tests.servers.process import HOST, free_port, http_ok, start, stop, wait_until
from vocalbaby import evaluation, metrics, model, training
from vocalbaby.annotation.catalog import Catalog, from_folder
from vocalbaby.annotation.store import AnnotationStore
from vocalbaby.model import ModelBundle
from vocalbaby_annotate.app import create_app
from vocalbaby_annotate.model_page import top_features

TRUE = ["junk", "crying", "junk", "crying", "junk", "laughing"] * 5
PRED = ["junk", "crying", "crying", "crying", "junk", "junk"] * 5
CHILDREN = [f"c{i % 6}" for i in range(len(TRUE))]
TINY_JOB = """
from dagster import Definitions, job, op

@op
def say_hello():
    return "hello"

@job
def train_job():
    say_hello()

defs = Definitions(jobs=[train_job])
"""


def publish(models: Path, small_model: Path, version: str, created: str, uar_shift: int) -> None:
    """A bundle folder like the pipeline writes: bundle files plus evaluation.json."""
    bundle = ModelBundle.load(str(small_model))
    bundle.metadata.update(version=version, created=created, dataset_uri="/data/babblecor")
    folder = models / version
    bundle.save(str(folder))
    pred = PRED[uar_shift:] + PRED[:uar_shift]
    result = evaluation.with_intervals(metrics.report(TRUE, pred), TRUE, pred, CHILDREN, 200)
    values = {"metrics": result, "gate": {"passed": True, "reasons": []}, "baselines": {}}
    (folder / "evaluation.json").write_text(json.dumps(values, default=str))
    model.publish_latest(str(models), str(folder), version)


@pytest.fixture
def catalog(review_folder: Path) -> Catalog:
    return from_folder(review_folder, None)


def studio(catalog: Catalog, tmp_path: Path, **options) -> TestClient:
    app = create_app(catalog, AnnotationStore(str(tmp_path / "store")), **options)
    return TestClient(app, base_url="http://127.0.0.1")


def test_the_model_page_shows_the_card_evaluation_and_history(
    catalog: Catalog, small_model: Path, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    publish(models, small_model, "v1", "2026-11-01T00:00:00", 1)
    publish(models, small_model, "v2", "2026-11-20T00:00:00", 0)
    bundle = ModelBundle.load(str(models))
    reports = tmp_path / "reports"
    reports.mkdir()
    curve = [
        {
            "model": "xgboost (SMOTE)",
            "fraction": f,
            "uar": u,
            "uar_low": u - 0.1,
            "uar_high": u + 0.1,
        }
        for f, u in ((0.5, 0.6), (1.0, 0.7))
    ]
    (reports / "learning_curve.json").write_text(json.dumps(curve))

    client = studio(
        catalog, tmp_path, bundle=bundle, models_uri=str(models), reports_uri=str(reports)
    )
    page = client.get("/api/model").json()

    expected = metrics.report(TRUE, PRED)
    assert page["available"] and page["card"]["version"] == "v2"
    assert page["card"]["dataset_uri"] == "/data/babblecor"
    assert page["card"]["metrics"]["uar"] == pytest.approx(expected["uar"])
    uar = page["card"]["intervals"]["uar"]
    assert uar["low"] <= expected["uar"] <= uar["high"]
    assert page["confusion"]["matrix"] == expected["confusion_matrix"]
    assert page["per_class"]["crying"]["recall"] == 1.0
    assert [(m["version"], m["current"]) for m in page["history"]] == [("v2", True), ("v1", False)]
    assert page["history"][1]["uar"] != page["history"][0]["uar"]
    assert page["calibration"] is None  # not in this evaluation.json
    assert page["learning_curve"] == curve
    top = page["top_features"]
    assert len(top) == 10 and {t["feature"] for t in top} <= set(bundle.feature_names)
    assert [t["share"] for t in top] == sorted((t["share"] for t in top), reverse=True)
    assert 0 < sum(t["share"] for t in top) <= 1.0001


def test_a_linear_svm_shows_its_largest_weights_as_top_features() -> None:
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(60, 12)), columns=[f"f{i}" for i in range(12)])
    y = pd.Series(np.where(x["f3"] > 0, "crying", "junk"))
    bundle = training.train(x, y, {"C": 1.0}, family="linear_svm")
    top = top_features(bundle, n=5)
    assert top[0]["feature"] == "f3"  # the one feature that decides the class
    assert [t["share"] for t in top] == sorted((t["share"] for t in top), reverse=True)


def test_without_a_model_the_page_says_so(catalog: Catalog, tmp_path: Path) -> None:
    page = studio(catalog, tmp_path).get("/api/model").json()
    assert not page["available"] and "No model" in page["message"]


def test_retrain_is_disabled_with_a_clear_message_without_dagster(
    catalog: Catalog, tmp_path: Path
) -> None:
    client = studio(catalog, tmp_path)
    info = client.get("/api/retrain").json()
    assert not info["enabled"] and "--dagster URL" in info["message"]
    refused = client.post("/api/retrain")
    assert refused.status_code == 503 and "No Dagster instance" in refused.json()["message"]


def test_a_request_from_another_origin_cannot_change_anything(
    catalog: Catalog, tmp_path: Path
) -> None:
    client = studio(catalog, tmp_path, uploads=tmp_path)
    evil = {"Origin": "http://evil.example"}
    assert client.post("/api/retrain", headers=evil).status_code == 403
    assert client.post("/api/upload?name=a.wav", content=b"x", headers=evil).status_code == 403
    same = {"Origin": "http://127.0.0.1"}
    assert client.post("/api/retrain", headers=same).status_code == 503  # passes the check


@pytest.fixture(scope="module")
def dagster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real dagster-webserver serving a one-op ``train_job``."""
    home = tmp_path_factory.mktemp("dagster_home")
    (home / "tiny.py").write_text(TINY_JOB)
    port = free_port()
    log = home / "webserver.log"
    command = [sys.executable, "-m", "dagster_webserver", "-f", str(home / "tiny.py")]
    command += ["-h", HOST, "-p", str(port)]
    proc = start(command, log, env={**os.environ, "DAGSTER_HOME": str(home)}, cwd=home)
    url = f"http://{HOST}:{port}"
    try:
        wait_until(http_ok(f"{url}/server_info"), proc, log, "dagster-webserver", timeout_s=120)
        yield url
    finally:
        stop(proc)


@pytest.mark.integration
def test_retrain_starts_the_job_in_dagster_and_follows_its_status(
    catalog: Catalog, tmp_path: Path, dagster_url: str
) -> None:
    client = studio(catalog, tmp_path, dagster_url=dagster_url)
    assert client.get("/api/retrain").json()["enabled"]

    started = client.post("/api/retrain")

    assert started.status_code == 202, started.text
    run = started.json()
    assert run["url"] == f"{dagster_url}/runs/{run['run_id']}"
    seen = set()
    deadline = time.monotonic() + 60
    while "SUCCESS" not in seen and time.monotonic() < deadline:
        seen.add(client.get(f"/api/retrain/{run['run_id']}").json()["status"])
        time.sleep(0.5)
    assert seen <= {"QUEUED", "NOT_STARTED", "STARTING", "STARTED", "SUCCESS"}, seen
    assert client.get("/api/retrain/not-a-run").status_code == 400
    unknown = client.get("/api/retrain/00000000-0000-0000-0000-000000000000")
    assert unknown.status_code == 404, unknown.text


def test_a_dagster_that_is_not_there_gets_502(catalog: Catalog, tmp_path: Path) -> None:
    client = studio(catalog, tmp_path, dagster_url=f"http://127.0.0.1:{free_port()}")
    refused = client.post("/api/retrain")
    assert refused.status_code == 502 and "refused to start train_job" in refused.json()["message"]
