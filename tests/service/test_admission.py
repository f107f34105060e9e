"""Admission and deadlines on a real ``bentoml serve``: a request's work stops at its deadline
(503 ``deadline_exceeded`` with ``Retry-After``), requests beyond the queue are refused at once,
and the server keeps answering."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest

from tests.audio_files import tone
from tests.servers.bento import LocalServer
from tests.service.conftest import Service
from tests.service.test_api import wav_bytes

LONG = wav_bytes((0.3 * np.random.default_rng(0).standard_normal(300 * 16_000)).astype(np.float32))


@pytest.fixture(scope="module")
def strict(service: Service, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second server: 1 s deadline, one request at a time, one more queued."""
    env = {
        "BENTOML_HOME": os.environ["BENTOML_HOME"],
        "VOCALBABY_MODEL_TAG": service.tag,
        "VOCALBABY_REQUEST_TIMEOUT_S": "1",
        "VOCALBABY_MAX_CONCURRENT": "1",
        "VOCALBABY_MAX_QUEUED": "1",
    }
    log = tmp_path_factory.mktemp("strict") / "server.log"
    with LocalServer(env=env, log_path=log) as server:
        yield server.url


def predict(url: str, data: bytes) -> httpx.Response:
    files = {"files": ("clip.wav", data, "audio/wav")}
    return httpx.post(url + "/predict", files=files, timeout=60)


def test_work_stops_at_the_deadline(strict: str) -> None:
    started = time.monotonic()
    response = predict(strict, LONG)  # 300 s of noise: 750 windows, more than 1 s of work

    assert response.status_code == 503, response.text
    assert response.json()["error"] == "deadline_exceeded"
    assert response.headers["retry-after"] == "2"
    assert time.monotonic() - started < 5
    assert predict(strict, wav_bytes(tone(0.4))).status_code == 200


def test_requests_beyond_the_queue_are_refused_at_once(strict: str) -> None:
    with ThreadPoolExecutor(max_workers=4) as clients:
        answers = list(clients.map(lambda _: predict(strict, LONG), range(4)))

    codes = sorted(r.status_code for r in answers)
    errors = {r.json()["error"] for r in answers}
    assert codes == [503] * 4 and errors <= {"busy", "deadline_exceeded"}, codes
    assert "busy" in errors
    assert predict(strict, wav_bytes(tone(0.4))).status_code == 200
