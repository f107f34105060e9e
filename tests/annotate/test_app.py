"""The catalog (a folder or `vocalbaby predict` prelabels) and the web API (Starlette client)."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from tests.annotate.conftest import BROKEN, LONG_RECORDING
from vocalbaby.annotation.catalog import (
    Catalog,
    CatalogError,
    from_folder,
    from_prelabels,
    read_metadata,
)
from vocalbaby.annotation.store import AnnotationStore
from vocalbaby.model import ModelBundle
from vocalbaby_annotate.app import create_app
from vocalbaby_cli.app import app


@pytest.fixture
def catalog(review_folder: Path, small_model: Path) -> Catalog:
    return from_folder(review_folder, ModelBundle.load(str(small_model)))


@pytest.fixture
def client(catalog: Catalog, tmp_path: Path) -> TestClient:
    app = create_app(catalog, AnnotationStore(str(tmp_path / "store")), "alice")
    return TestClient(app, base_url="http://127.0.0.1")


def suggestions(catalog: Catalog) -> dict[str, list]:
    return {
        k: [(s.start_s, s.end_s, s.suggested_label) for s in r.suggestions]
        for k, r in catalog.recordings.items()
    }


def test_a_folder_is_classified_and_unreadable_files_are_listed(
    catalog: Catalog,
) -> None:
    assert catalog.model_version == "annotate-test-model"
    assert catalog.recordings[BROKEN].error.startswith("not a readable audio file")
    long = catalog.recordings[LONG_RECORDING]
    assert [(s.start_s, s.end_s) for s in long.suggestions] == [
        (0.0, 0.4),
        (0.4, 0.8),
        (0.8, 1.2),
        (1.2, 1.6),
    ]
    assert all(s.label == s.suggested_label and s.labelled_by is None for s in long.suggestions)
    assert 0.2 <= long.confidence <= 1


@pytest.mark.parametrize("suffix", [".json", ".csv"])
def test_prelabels_from_vocalbaby_predict_give_the_same_segments(
    review_folder: Path, small_model: Path, catalog: Catalog, tmp_path: Path, suffix: str
) -> None:
    out = tmp_path / f"prelabels{suffix}"
    result = CliRunner().invoke(
        app, ["predict", str(review_folder), "--model", str(small_model), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output

    loaded = from_prelabels(out)

    readable = {k: v for k, v in suggestions(catalog).items() if k != BROKEN}
    assert {k: v for k, v in suggestions(loaded).items() if k != BROKEN} == readable
    assert loaded.recordings[LONG_RECORDING].uri == str(review_folder / LONG_RECORDING)
    if suffix == ".json":
        assert loaded.model_version == "annotate-test-model"
        assert loaded.recordings[BROKEN].error.startswith("not a readable audio file")


def test_bad_sources_get_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(CatalogError, match="no wav, flac or ogg files"):
        from_folder(tmp_path / "empty", None)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(CatalogError, match="not a `vocalbaby predict` JSON"):
        from_prelabels(tmp_path / "bad.json")
    (tmp_path / "bad.csv").write_text("file,label\nx.wav,junk\n")
    with pytest.raises(CatalogError, match="missing column"):
        from_prelabels(tmp_path / "bad.csv")


def test_recording_metadata_comes_from_a_csv(review_folder: Path, tmp_path: Path) -> None:
    meta = tmp_path / "meta.csv"
    meta.write_text(f"file,child_id,age_months\n{LONG_RECORDING},c-42,9\n")

    catalog = from_folder(review_folder, None, read_metadata(meta))

    assert catalog.recordings[LONG_RECORDING].meta == {"child_id": "c-42", "age_months": "9"}
    assert catalog.recordings[LONG_RECORDING].suggestions[0].suggested_label is None  # no model


def body(segments: list[dict], base: int = 0, annotator: str = "alice", **extra) -> dict:
    return {"annotator": annotator, "base_revision": base, "segments": segments, **extra}


def test_list_detail_save_and_progress(client: TestClient) -> None:
    listing = client.get("/api/recordings", params={"annotator": "alice"}).json()
    assert (listing["reviewed"], listing["total"]) == (0, 3)
    detail = client.get(f"/api/recording/{LONG_RECORDING}", params={"annotator": "alice"}).json()
    assert detail["mine"] is None and len(detail["suggestions"]) == 4
    segments = detail["suggestions"]
    segments[0] |= {
        "label": "laughing",
        "labelled_by": "alice",
        "labelled_at": "2026-11-22T10:00:00Z",
    }

    saved = client.put(f"/api/annotation/{LONG_RECORDING}", json=body(segments, reviewed=True))

    assert saved.status_code == 200 and saved.json()["revision"] == 1
    mine = client.get(f"/api/recording/{LONG_RECORDING}", params={"annotator": "alice"}).json()[
        "mine"
    ]
    assert (
        mine["segments"][0]["label"] == "laughing"
        and mine["model_version"] == "annotate-test-model"
    )
    assert mine["segments"][0]["suggested_label"] == segments[0]["suggested_label"]
    listing = client.get("/api/recordings", params={"annotator": "alice"}).json()
    assert (listing["reviewed"], listing["total"]) == (1, 3)
    bob = client.get(f"/api/recording/{LONG_RECORDING}", params={"annotator": "bob"}).json()
    assert bob["mine"] is None and [o["annotator"] for o in bob["others"]] == ["alice"]
    audio_bytes = client.get(f"/api/audio/{LONG_RECORDING}")
    assert audio_bytes.status_code == 200 and audio_bytes.content[:4] == b"RIFF"


def test_disagreement_between_annotators_is_flagged(client: TestClient) -> None:
    segments = client.get(f"/api/recording/{LONG_RECORDING}").json()["suggestions"]
    for who, label in (("alice", "crying"), ("bob", "junk")):
        labelled = [dict(s, label=label, labelled_by=who, labelled_at="t") for s in segments]
        assert (
            client.put(
                f"/api/annotation/{LONG_RECORDING}", json=body(labelled, annotator=who)
            ).status_code
            == 200
        )

    items = {i["id"]: i for i in client.get("/api/recordings").json()["recordings"]}

    assert items[LONG_RECORDING]["disagreement"] and items[LONG_RECORDING]["annotators"] == [
        "alice",
        "bob",
    ]
    assert not items["junk_clip.wav"]["disagreement"]


def test_a_stale_save_gets_409_with_who_saved_first(client: TestClient) -> None:
    segments = client.get(f"/api/recording/{LONG_RECORDING}").json()["suggestions"]
    assert client.put(f"/api/annotation/{LONG_RECORDING}", json=body(segments)).status_code == 200

    stale = client.put(f"/api/annotation/{LONG_RECORDING}", json=body(segments, base=0))

    assert stale.status_code == 409
    assert (
        stale.json()["current"]["revision"] == 1 and stale.json()["current"]["annotator"] == "alice"
    )
    assert "reload" in stale.json()["message"]


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        (b"{nope", 400, "body: not valid JSON"),
        (body([], annotator="bad name"), 400, "annotator name"),
        (body([]), 400, "non-empty list"),
        (body([{"start_s": 0, "end_s": 0.4}], base=-1), 400, "base_revision"),
        (body([{"start_s": 0, "end_s": 0.4, "label": "shout"}]), 400, "segments[0].label"),
        (body([{"start_s": 0, "end_s": 0.4, "evil": 1}]), 400, "unknown field"),
        (
            body([{"start_s": 0, "end_s": 0.4, "label": "junk", "labelled_by": "mallory"}]),
            400,
            "labelled_by",
        ),
        (body([{"start_s": 0, "end_s": 9.0}]), 400, "outside the recording"),
        (b"x" * (3 * 1024 * 1024), 413, "larger than"),
    ],
)
def test_bad_saves_are_refused_with_a_reason(
    client: TestClient, payload, status: int, message: str
) -> None:
    content = payload if isinstance(payload, bytes) else None
    response = client.put(
        f"/api/annotation/{LONG_RECORDING}", content=content, json=None if content else payload
    )
    assert response.status_code == status and message in response.json()["message"]


def test_unknown_and_unreadable_recordings(client: TestClient) -> None:
    assert client.get("/api/recording/nope.wav").status_code == 404
    assert client.put("/api/annotation/nope.wav", json=body([])).status_code == 404
    assert client.get(f"/api/audio/{BROKEN}").status_code == 422
    refused = client.put(f"/api/annotation/{BROKEN}", json=body([{"start_s": 0, "end_s": 0.4}]))
    assert refused.status_code == 422 and "cannot be annotated" in refused.json()["message"]
    assert client.get("/api/audio/../../etc/passwd").status_code == 404
