"""The service's endpoints on a real server: predictions on real clips, timelines, auth, metrics."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from tests.service.conftest import TOKEN, Service
from vocalbaby import audio, features, model_card, synthetic
from vocalbaby.labels import CLASSES


def loud_clips(real_dev: Path, label: str, count: int) -> list[Path]:
    """The first ``count`` clips of a class that are far from the silence threshold."""
    paths = sorted((real_dev / "audio" / label).glob("*.wav"))
    return [p for p in paths if audio.level_dbfs(audio.load(p).samples) > -35][:count]


def wav_bytes(samples: np.ndarray, rate: int = audio.SAMPLE_RATE) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def check_probabilities(probabilities: dict[str, float]) -> None:
    assert list(probabilities) == list(CLASSES)
    assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-4)


def test_predict_real_clips_in_every_format(alive: Service, real_dev: Path, tmp_path: Path) -> None:
    clip = loud_clips(real_dev, "crying", 1)[0]
    samples, rate = sf.read(clip, dtype="float32")
    stereo = np.stack([samples, 0.8 * samples], axis=1)
    variants = {
        f"parity_{clip.name}": clip,
        "parity_44k_stereo.wav": (tmp_path / "s.wav", resample_poly(stereo, 441, 160), 44_100),
        "parity_clip.flac": (tmp_path / "c.flac", samples, rate),
        "parity_clip.ogg": (tmp_path / "c.ogg", samples, rate),
    }
    upload = []
    for name, source in variants.items():
        if isinstance(source, tuple):
            path, data, sr = source
            sf.write(path, data, sr)
            source = path
        alive.sent[name] = source
        upload.append(("files", (name, source.read_bytes(), "application/octet-stream")))

    response = alive.post("/predict", files=upload)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model_version"]
    assert body["request_id"] == response.headers["x-bentoml-request-id"]
    assert [r["file"] for r in body["results"]] == list(variants)
    for result in body["results"]:
        assert result["label"] in CLASSES
        assert result["duration_s"] == pytest.approx(0.4, abs=0.01)
        assert "segments" not in result
        check_probabilities(result["probabilities"])


def test_long_recording_gives_a_timeline(alive: Service, real_dev: Path) -> None:
    crying, junk = loud_clips(real_dev, "crying", 5), loud_clips(real_dev, "junk", 2)
    parts = [audio.load(p).samples for p in crying]
    parts += [np.zeros(int(1.2 * audio.SAMPLE_RATE), np.float32)]
    parts += [audio.load(p).samples for p in junk]
    recording = wav_bytes(np.concatenate(parts))  # 5 clips, 1.2 s of silence, 2 clips: 4.0 s

    response = alive.post("/predict", files={"files": ("long.wav", recording, "audio/wav")})

    assert response.status_code == 200, response.text
    (result,) = response.json()["results"]
    segments = result["segments"]
    assert result["duration_s"] == pytest.approx(4.0)
    assert [s["start_s"] for s in segments] == pytest.approx([0.4 * i for i in range(10)])
    assert [s["end_s"] for s in segments] == pytest.approx([0.4 * (i + 1) for i in range(10)])
    assert [s["silent"] for s in segments] == [False] * 5 + [True] * 3 + [False] * 2
    assert all(s["label"] is None and s["probabilities"] is None for s in segments[5:8])
    for segment in segments[:5] + segments[8:]:
        assert segment["label"] in CLASSES
        check_probabilities(segment["probabilities"])
    summary = result["summary"]
    assert (summary["segments"], summary["silent"], summary["classified"]) == (10, 3, 7)
    assert sum(summary["shares"].values()) == pytest.approx(1.0)
    labels = [s["label"] for s in segments if s["label"]]
    assert labels.count(result["label"]) == max(labels.count(x) for x in labels)  # majority


def test_predict_zip(alive: Service, real_dev: Path) -> None:
    clips = loud_clips(real_dev, "junk", 3)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for clip in clips:
            zf.write(clip, f"batch/{clip.name}")

    response = alive.post(
        "/predict_zip", files={"file": ("batch.zip", buffer.getvalue(), "application/zip")}
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    results = response.json()["results"]
    assert [r["file"] for r in results] == [f"batch/{c.name}" for c in clips]
    assert all(r["label"] in CLASSES for r in results)


def test_predict_features_matches_predict(alive: Service, real_dev: Path) -> None:
    clip = loud_clips(real_dev, "crying", 2)[1]
    row = features.extract_one(audio.load(clip).samples)
    payload = {"rows": [dict(zip(features.feature_names(), map(float, row), strict=True))] * 2}

    by_features = alive.post("/predict_features", json=payload)
    by_audio = alive.post("/predict", files={"files": (clip.name, clip.read_bytes(), "audio/wav")})

    assert by_features.status_code == 200, by_features.text
    assert by_features.headers["content-type"] == by_audio.headers["content-type"]
    assert by_audio.headers["content-type"] == "application/json"
    first, second = by_features.json()
    assert first == second
    expected = by_audio.json()["results"][0]
    assert first["label"] == expected["label"]
    for name, p in first["probabilities"].items():
        assert p == pytest.approx(expected["probabilities"][name], abs=2e-6)


def test_predict_features_names_missing_features(alive: Service) -> None:
    names = features.feature_names()
    row = dict.fromkeys(names[1:], 0.0)

    response = alive.client.post("/predict_features", json={"rows": [row]})

    assert response.status_code == 400
    assert names[0] in response.text
    assert names[1] not in response.text


def test_model_info(alive: Service) -> None:
    response = alive.client.get("/model_info")

    assert response.status_code == 200
    info = response.json()
    assert info["tag"] == alive.tag
    assert info["version"] == info["metadata"]["version"]
    assert set(info["metadata"]) == set(model_card.KEYS), "the card, however it was registered"
    assert info["metadata"]["evaluated"] is False and info["metrics"] == {}
    assert info["training_data"] == {
        "model_family": "xgboost",
        "corpora": list(synthetic.CORPORA),
        "synthetic_demo_data_only": True,
        "leave_one_corpus_out": {},
    }
    assert info["classes"] == list(CLASSES)
    assert info["feature_names"] == list(features.feature_names())
    assert info["extractor_config"]["feature_set"] == "eGeMAPSv02"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/predict"),
        ("POST", "/predict_zip"),
        ("POST", "/predict_features"),
        ("GET", "/"),
        ("GET", "/metrics"),
    ],
)
@pytest.mark.parametrize("auth", [None, "Bearer wrong-token", TOKEN])
def test_requests_without_the_token_are_refused(
    alive: Service, method: str, path: str, auth: str | None
) -> None:
    headers = {"Authorization": auth} if auth else {}

    response = httpx.request(method, alive.url + path, headers=headers, json={}, timeout=10)

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("path", ["/healthz", "/livez", "/readyz"])
def test_health_checks_need_no_token(alive: Service, path: str) -> None:
    assert httpx.get(alive.url + path, timeout=10).status_code == 200


def test_metrics_after_traffic(alive: Service, real_dev: Path) -> None:
    clip = loud_clips(real_dev, "junk", 1)[0]
    alive.post("/predict", files={"files": (clip.name, clip.read_bytes(), "audio/wav")})
    alive.post("/predict", files={"files": ("bad.wav", b"not audio", "audio/wav")})

    text = alive.client.get("/metrics").text  # behind the token

    for series in (
        'vocalbaby_requests_total{endpoint="/predict",status="200"}',
        'vocalbaby_requests_total{endpoint="/predict",status="422"}',
        'vocalbaby_request_latency_seconds_bucket{endpoint="/predict",le="0.5"}',
        'vocalbaby_prediction_errors_total{error_type="invalid_audio"}',
        "vocalbaby_predictions_total{label=",
        "vocalbaby_model_info{",
        'vocalbaby_prediction_log_rows_total{outcome="dropped"} 0.0',
        "bentoml_service_request_total",
    ):
        assert series in text, series
    info = next(line for line in text.splitlines() if line.startswith("vocalbaby_model_info{"))
    assert alive.tag in info and info.endswith(" 1.0")
