"""Admission and deadlines on a real ``bentoml serve``: a request's work stops at its deadline
(503 ``deadline_exceeded`` with ``Retry-After``), requests beyond the queue or the audio budget
are refused at once, bad uploads never wait behind other requests' work, and the server keeps
answering."""

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
    """A second server: 1 s deadline, one request worked on at a time, two more inside, 400 s
    of audio at once."""
    env = {
        "BENTOML_HOME": os.environ["BENTOML_HOME"],
        "VOCALBABY_MODEL_TAG": service.tag,
        "VOCALBABY_REQUEST_TIMEOUT_S": "1",
        "VOCALBABY_MAX_CONCURRENT": "1",
        "VOCALBABY_MAX_QUEUED": "2",
        "VOCALBABY_MAX_AUDIO_IN_FLIGHT_S": "400",
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


def _while_working(url: str, data: bytes) -> tuple[httpx.Response, float]:
    """``data`` sent while a long request holds the one work turn: the answer and its time."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        long = pool.submit(predict, url, LONG)
        time.sleep(0.3)
        started = time.monotonic()
        response = predict(url, data)
        took = time.monotonic() - started
        assert long.result().json()["error"] == "deadline_exceeded"
    return response, took


def test_bad_uploads_do_not_wait_for_a_work_turn(strict: str) -> None:
    response, took = _while_working(strict, b"RIFF\x00\x00" + bytes(range(200)))

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_audio"
    assert took < 0.5  # before: it waited for the long request's turn


def test_work_beyond_the_audio_budget_is_refused_at_once(strict: str) -> None:
    response, took = _while_working(strict, LONG)  # 300 s more than the 400 s budget allows

    assert response.status_code == 503, response.text
    assert response.json()["error"] == "busy"
    assert "300 s of audio already in progress" in response.json()["message"]
    assert response.headers["retry-after"] == "2"
    assert took < 0.5
