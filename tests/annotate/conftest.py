"""Fixtures for the annotation app: a small real model, a review folder of real clips, a server.

The review folder holds two real-dev clips, one 1.6 s recording made of four real-dev clips (a
timeline of four segments) and one file that is not audio. Real-dev audio is only read from
``../shared`` and written to temporary folders, never into the project.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.servers.process import free_port, http_answers, start, stop, wait_until
from vocalbaby import audio, dataset, features, training

LONG_RECORDING = "long.wav"
BROKEN = "broken.wav"


@pytest.fixture(scope="session")
def small_model(demo_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real XGBoost bundle trained on the 300-clip demo set (40 rounds, not evaluated)."""
    manifest = dataset.read(demo_dataset)
    table = features.extract_files(manifest.set_index("clip_id")["uri"].to_dict()).features
    labels = manifest.set_index("clip_id").loc[table.index, "label"]
    bundle = training.train(table, labels, {**training.DEFAULT_PARAMS, "num_boost_round": 40})
    bundle.metadata.update(version="annotate-test-model")
    out = tmp_path_factory.mktemp("model") / "bundle"
    bundle.save(str(out))
    return out


def make_review_folder(real_dev: Path, out: Path) -> Path:
    """Two real clips, a 1.6 s recording of four real clips, and a broken file."""
    out.mkdir(parents=True)
    manifest = dataset.read(real_dev)
    crying = manifest[manifest.label == "crying"].uri.tolist()
    junk = manifest[manifest.label == "junk"].uri.tolist()
    shutil.copy(crying[0], out / "crying_clip.wav")
    shutil.copy(junk[0], out / "junk_clip.wav")
    parts = [audio.load(u).samples for u in (junk[1], crying[1], crying[2], junk[2])]
    sf.write(out / LONG_RECORDING, np.concatenate(parts), audio.SAMPLE_RATE)
    (out / BROKEN).write_bytes(b"this is not audio")
    return out


@pytest.fixture
def recording_file(tmp_path: Path) -> str:
    """1.6 s of noise at 16 kHz (for revisions whose audio the export cuts)."""
    rng = np.random.default_rng(0)
    path = tmp_path / "rec.wav"
    sf.write(
        path,
        (0.1 * rng.standard_normal(int(1.6 * audio.SAMPLE_RATE))).astype(np.float32),
        audio.SAMPLE_RATE,
    )
    return str(path)


@pytest.fixture
def review_folder(real_dev: Path, tmp_path: Path) -> Path:
    return make_review_folder(real_dev, tmp_path / "recordings")


@dataclass
class AnnotateServer:
    url: str
    folder: Path
    store: Path


@contextmanager
def running_annotate(
    folder: Path,
    tmp_path: Path,
    *args: str,
    env: dict[str, str] | None = None,
    command_name: str = "annotate",
) -> Iterator[tuple[AnnotateServer, subprocess.Popen[bytes]]]:
    """`vocalbaby annotate|studio FOLDER ARGS...` itself, as a user starts it, on a free
    127.0.0.1 port."""
    port = free_port()
    store = tmp_path / "annotations"
    log = tmp_path / "annotate.log"
    command = [sys.executable, "-m", "vocalbaby_cli", command_name, str(folder)]
    command += ["--port", str(port), "--store", str(store), *args]
    proc = start(command, log, env={**os.environ, "USER": "", **(env or {})})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(http_answers(url + "/api/config"), proc, log, "vocalbaby annotate", timeout_s=90)
        yield AnnotateServer(url, folder, store), proc
    finally:
        stop(proc)


@pytest.fixture
def annotate_server(
    review_folder: Path, small_model: Path, tmp_path: Path
) -> Iterator[AnnotateServer]:
    """`vocalbaby annotate` with the small model, as a user starts it."""
    with running_annotate(review_folder, tmp_path, "--model", str(small_model)) as (server, _):
        yield server
