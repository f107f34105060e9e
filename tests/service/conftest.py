"""A real ``bentoml serve`` of the VocalBaby service on 127.0.0.1, shared by tests/service.

One server for the session (starts cost seconds): a model trained on the demo set, an API token
(so the auth tests and the others share it: the client sends the token unless told not to), small
request limits, and a prediction log that is only flushed on shutdown. Tests marked
``after_server_stop`` run last: they stop the server and check what it left behind.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.servers.bento import LocalServer, register_model

TOKEN = "test-token-0123456789"
LIMITS = {
    "VOCALBABY_MAX_UPLOAD_BYTES": "4000000",
    "VOCALBABY_MAX_FILES": "8",
    "VOCALBABY_MAX_AUDIO_SECONDS": "20",
    "VOCALBABY_MAX_REQUEST_AUDIO_SECONDS": "30",
    "VOCALBABY_MAX_SAMPLE_RATE": "96000",
    "VOCALBABY_MAX_ZIP_MEMBERS": "12",
    "VOCALBABY_MAX_ZIP_UNCOMPRESSED_BYTES": "8000000",
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "after_server_stop: runs after every other test; stops the service server"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move ``after_server_stop`` tests to the end, keeping the order of the rest."""
    last = [i for i in items if i.get_closest_marker("after_server_stop")]
    items[:] = [i for i in items if not i.get_closest_marker("after_server_stop")] + last


@dataclass
class Service:
    """The running server, an authorised client, and a ledger of what it classified."""

    server: LocalServer
    tag: str
    log_dir: Path
    client: httpx.Client
    classified: int = 0
    sent: dict[str, Path] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def post(self, path: str, **kwargs: object) -> httpx.Response:
        """POST with the token; successful predictions are added to the ledger."""
        response = self.client.post(path, **kwargs)
        if response.status_code == 200:
            self.classified += _classified(path, response.json())
        return response

    def stop(self) -> int | None:
        """Stop the server cleanly (SIGTERM); its exit code."""
        self.client.close()
        return self.server.stop()


def _classified(path: str, body: object) -> int:
    """How many clips or segments a successful response classified or found silent (=
    prediction-log rows)."""
    if path == "/predict_features":
        return len(body)
    return sum(
        sum(s["label"] is not None or s["silent"] for s in result["segments"])
        if "segments" in result
        else 1
        for result in body["results"]
    )


@pytest.fixture(scope="session")
def service(tmp_path_factory: pytest.TempPathFactory, demo_dataset: Path) -> Iterator[Service]:
    """The session's service server (BENTOML_HOME: the temporary store of tests/conftest.py)."""
    tmp = tmp_path_factory.mktemp("service")
    tag = register_model(demo_dataset, rounds=60)
    log_dir = tmp / "prediction_log"
    env = {
        **LIMITS,
        "BENTOML_HOME": os.environ["BENTOML_HOME"],
        "VOCALBABY_MODEL_TAG": tag,
        "VOCALBABY_API_TOKEN": TOKEN,
        "VOCALBABY_PREDICTION_LOG_URI": str(log_dir),
        "VOCALBABY_PREDICTION_LOG_INTERVAL_S": "3600",
        "VOCALBABY_PREDICTION_SPOOL_DIR": str(tmp / "prediction_spool"),
    }
    server = LocalServer(env=env, log_path=tmp / "server.log").start()
    client = httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
    )
    running = Service(server, tag, log_dir, client)
    yield running
    running.stop()


@pytest.fixture
def alive(service: Service) -> Iterator[Service]:
    """The service; after the test, it must still answer /readyz."""
    yield service
    assert httpx.get(service.url + "/readyz", timeout=10).status_code == 200, (
        service.server.log_tail()
    )
