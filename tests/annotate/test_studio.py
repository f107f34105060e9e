"""The studio API beyond review: uploads through the job queue, summary numbers, lab exports."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from praatio import textgrid
from starlette.testclient import TestClient

from tests.annotate.conftest import BROKEN, LONG_RECORDING
from vocalbaby.annotation.catalog import Catalog, from_folder
from vocalbaby.annotation.store import AnnotationStore
from vocalbaby.model import ModelBundle
from vocalbaby_annotate import studio
from vocalbaby_annotate.app import create_app
from vocalbaby_annotate.jobs import JobQueue, QueueFull


@pytest.fixture
def bundle(small_model: Path) -> ModelBundle:
    return ModelBundle.load(str(small_model))


@pytest.fixture
def catalog(review_folder: Path, bundle: ModelBundle) -> Catalog:
    return from_folder(review_folder, bundle)


@pytest.fixture
def uploads(tmp_path: Path) -> Path:
    folder = tmp_path / "uploads"
    folder.mkdir()
    return folder


@pytest.fixture
def client(catalog: Catalog, bundle: ModelBundle, uploads: Path, tmp_path: Path) -> TestClient:
    app = create_app(
        catalog, AnnotationStore(str(tmp_path / "store")), "alice", bundle=bundle, uploads=uploads
    )
    return TestClient(app, base_url="http://127.0.0.1")


def wait_for(client: TestClient, job_id: str, timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = {j["id"]: j for j in client.get("/api/jobs").json()["jobs"]}[job_id]
        if job["state"] in {"done", "failed"}:
            return job
        time.sleep(0.1)
    raise AssertionError(f"{job_id} not finished after {timeout_s} s")


def test_an_upload_is_classified_and_joins_the_list_with_its_timeline(
    client: TestClient, review_folder: Path, uploads: Path
) -> None:
    body = (review_folder / LONG_RECORDING).read_bytes()

    accepted = client.post(
        "/api/upload",
        params={"name": "day 1.wav", "child_id": "kid-7", "age_months": "9"},
        content=body,
    )

    assert accepted.status_code == 202 and accepted.json()["state"] == "queued"
    job = wait_for(client, accepted.json()["id"])
    assert job["state"] == "done" and job["recording"] == "day 1.wav", job
    assert (uploads / "day 1.wav").read_bytes() == body
    items = {i["id"]: i for i in client.get("/api/recordings").json()["recordings"]}
    assert items["day 1.wav"]["bands"] == items[LONG_RECORDING]["bands"]
    assert items["day 1.wav"]["bands"][0][0] == 0.0 and items["day 1.wav"]["bands"][-1][1] == 1.6
    detail = client.get("/api/recording/day 1.wav").json()
    assert len(detail["suggestions"]) == 4
    summary = client.get("/api/summary", params={"by": "child"}).json()["rows"]
    assert {r["child_id"]: r["age_months"] for r in summary}["kid-7"] == 9.0


def test_a_broken_upload_fails_with_its_reason(client: TestClient) -> None:
    accepted = client.post("/api/upload", params={"name": "noise.ogg"}, content=b"not audio")
    job = wait_for(client, accepted.json()["id"])
    assert job["state"] == "failed" and "not a readable audio file" in job["error"]


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"name": "x.mp4"}, 415, "ending in .wav"),
        ({"name": "../x.wav"}, 415, "plain file name"),
        ({"name": LONG_RECORDING}, 409, "already here"),
        ({"name": "y.wav", "age_months": "old"}, 400, "age_months"),
        ({"name": "y.wav", "age_months": "nan"}, 400, "age_months"),
        ({"name": "y.wav", "child_id": "a b"}, 400, "child_id"),
    ],
)
def test_bad_uploads_get_a_4xx(client: TestClient, params: dict, status: int, message: str) -> None:
    response = client.post("/api/upload", params=params, content=b"RIFF")
    assert response.status_code == status and message in response.json()["message"]


def test_an_upload_over_the_limit_is_refused_and_removed(
    client: TestClient, uploads: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(studio, "MAX_UPLOAD_BYTES", 1000)
    chunks = (b"x" * 400 for _ in range(5))  # streamed: no Content-Length
    response = client.post("/api/upload", params={"name": "big.wav"}, content=chunks)
    assert response.status_code == 413
    assert list(uploads.iterdir()) == []


def test_uploads_are_refused_without_an_upload_folder(catalog: Catalog, tmp_path: Path) -> None:
    app = create_app(catalog, AnnotationStore(str(tmp_path / "s")))
    client = TestClient(app, base_url="http://127.0.0.1")
    assert client.get("/api/config").json()["uploads"] is False
    assert client.post("/api/upload", params={"name": "a.wav"}, content=b"x").status_code == 403


def test_the_job_queue_is_bounded_and_runs_in_order() -> None:
    release, ran = threading.Event(), []

    def work(job) -> str:
        release.wait(10)
        ran.append(job.file)
        return job.file

    jobs = JobQueue(work, max_pending=1)
    first = jobs.submit("a")
    deadline = time.monotonic() + 5
    while jobs.jobs()[0]["state"] != "running" and time.monotonic() < deadline:
        time.sleep(0.01)
    jobs.submit("b")
    assert [j["position"] for j in jobs.jobs()] == [None, 1]
    with pytest.raises(QueueFull):
        jobs.submit("c")
    release.set()
    while ran != ["a", "b"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ran == ["a", "b"] and jobs.jobs()[0]["id"] == first.id


def test_summary_as_json_and_csv(client: TestClient) -> None:
    rows = client.get("/api/summary", params={"by": "recording"}).json()["rows"]
    assert sorted(r["recording"] for r in rows) == sorted(
        ["crying_clip.wav", "junk_clip.wav", LONG_RECORDING]
    )
    csv = client.get("/api/summary", params={"by": "recording", "format": "csv"})
    assert csv.headers["content-disposition"].startswith("attachment")
    assert csv.text.splitlines()[0].startswith("recording,child_id,age_months,recordings")
    assert client.get("/api/summary", params={"source": "annotations"}).json()["rows"] == []
    assert client.get("/api/summary", params={"by": "nope"}).status_code == 400


def test_a_textgrid_export_holds_the_model_and_each_annotators_tier(
    client: TestClient, tmp_path: Path
) -> None:
    segments = client.get(f"/api/recording/{LONG_RECORDING}").json()["suggestions"]
    labelled = [dict(s, label="crying", labelled_by="alice", labelled_at="t") for s in segments]
    body = {"annotator": "alice", "base_revision": 0, "segments": labelled}
    assert client.put(f"/api/annotation/{LONG_RECORDING}", json=body).status_code == 200

    response = client.get(f"/api/export/{LONG_RECORDING}", params={"format": "textgrid"})

    assert response.status_code == 200
    assert 'filename="long.TextGrid"' in response.headers["content-disposition"]
    (tmp_path / "got.TextGrid").write_bytes(response.content)
    grid = textgrid.openTextgrid(str(tmp_path / "got.TextGrid"), includeEmptyIntervals=False)
    assert grid.tierNames == ("model", "alice")
    assert [e.label for e in grid.getTier("alice").entries] == ["crying"] * 4
    model = [e.label for e in grid.getTier("model").entries]
    assert model == [s["suggested_label"] for s in segments]
    everything = client.get("/api/export-all", params={"format": "csv"})
    table = pd.read_csv(io.StringIO(everything.text))
    assert set(table["recording"]) == {"crying_clip.wav", "junk_clip.wav", LONG_RECORDING}
    assert BROKEN not in set(table["recording"])
    assert client.get(f"/api/export/{LONG_RECORDING}", params={"format": "doc"}).status_code == 400
    assert client.get("/api/export-all", params={"format": "eaf"}).status_code == 400
    assert client.get("/api/export/nope.wav", params={"format": "csv"}).status_code == 404
