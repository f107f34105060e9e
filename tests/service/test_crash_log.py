"""The prediction log survives a crash: rows accepted before ``kill -9`` of the server reach the
parquet log after a restart (from the local spool); a clean stop (SIGTERM) loses none; silent
windows of a long recording are logged with ``silent=True`` and nothing else."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from tests.audio_files import tone, write_wav
from tests.servers.bento import LocalServer, process_tree, register_model
from vocalbaby import audio, features
from vocalbaby.labels import CLASSES

PREDICTIONS = 20


@pytest.fixture(scope="module")
def model_tag(demo_dataset: Path) -> str:
    return register_model(demo_dataset, rounds=20)


@pytest.fixture
def env(model_tag: str, tmp_path: Path) -> dict[str, str]:
    return {
        "BENTOML_HOME": os.environ["BENTOML_HOME"],
        "VOCALBABY_MODEL_TAG": model_tag,
        "VOCALBABY_PREDICTION_LOG_URI": str(tmp_path / "log"),
        "VOCALBABY_PREDICTION_LOG_INTERVAL_S": "3600",
        "VOCALBABY_PREDICTION_SPOOL_DIR": str(tmp_path / "spool"),
    }


@contextlib.contextmanager
def serving(env: dict[str, str], log: Path) -> Iterator[LocalServer]:
    server = LocalServer(env=env, log_path=log).start()
    try:
        yield server
    finally:
        server.stop()


def predict(server: LocalServer, clip: bytes, n: int) -> int:
    """Send ``n`` predictions; the number of classified clips and segments (= log rows)."""
    classified = 0
    with httpx.Client(base_url=server.url, timeout=60) as client:
        for i in range(n):
            response = client.post("/predict", files={"files": (f"c{i}.wav", clip, "audio/wav")})
            assert response.status_code == 200, response.text
            (result,) = response.json()["results"]
            classified += len(result.get("segments") or [result])
    return classified


def logged_rows(folder: Path) -> pd.DataFrame:
    files = sorted(folder.rglob("*.parquet"))
    return pd.concat([pd.read_parquet(f) for f in files]) if files else pd.DataFrame()


def clip_bytes(tmp_path: Path) -> bytes:
    return write_wav(tmp_path / "clip.wav", tone(0.8)).read_bytes()


@pytest.mark.integration
def test_sigkill_loses_no_spooled_row(env: dict[str, str], tmp_path: Path) -> None:
    server = LocalServer(env=env, log_path=tmp_path / "server.log").start()
    try:
        classified = predict(server, clip_bytes(tmp_path), PREDICTIONS)
        time.sleep(1.5)
        assert server.process is not None
        for pid in process_tree(server.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        server.process.wait()
    finally:
        server.stop()
    assert logged_rows(tmp_path / "log").empty  # nothing shipped before the crash

    with serving(env, tmp_path / "server.log"):
        pass  # a restart ships the leftover spool, then stops cleanly
    rows = logged_rows(tmp_path / "log")
    assert len(rows) == classified, (tmp_path / "server.log").read_text()[-3000:]
    assert set(rows["file"]) == {f"c{i}.wav" for i in range(PREDICTIONS)}
    assert not list((tmp_path / "spool").rglob("*.spool"))


@pytest.mark.integration
def test_sigterm_loses_no_row_and_silent_windows_are_flagged(
    env: dict[str, str], tmp_path: Path
) -> None:
    quiet = np.zeros(int(0.8 * audio.SAMPLE_RATE), np.float32)
    long = write_wav(tmp_path / "long.wav", np.concatenate([tone(0.8), quiet, tone(0.4)]))
    with serving(env, tmp_path / "server.log") as server:
        classified = predict(server, clip_bytes(tmp_path), PREDICTIONS)
        response = httpx.post(
            server.url + "/predict", files={"files": ("long.wav", long.read_bytes())}, timeout=60
        )
        assert response.status_code == 200, response.text
        (result,) = response.json()["results"]
        flags = [s["silent"] for s in result["segments"]]

    rows = logged_rows(tmp_path / "log")
    assert len(rows[rows["file"] != "long.wav"]) == classified >= PREDICTIONS
    timeline = rows[rows["file"] == "long.wav"].sort_values("start_s")
    assert list(timeline["silent"]) == flags and True in flags and False in flags
    silent, audible = timeline[timeline["silent"]], timeline[~timeline["silent"]]
    values = [*features.feature_names(), *CLASSES]
    assert silent["label"].isna().all() and silent[values].isna().all().all()
    assert audible["label"].isin(CLASSES).all() and audible[values].notna().all().all()
