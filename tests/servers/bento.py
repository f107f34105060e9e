"""A real ``bentoml serve`` of the service on 127.0.0.1, for tests and benchmarks.

>>> tag = register_model(synthetic.generate("/tmp/demo", clips=200))  # doctest: +SKIP
>>> with LocalServer(env={"VOCALBABY_MODEL_TAG": tag}) as server:  # doctest: +SKIP
...     httpx.get(server.url + "/model_info").json()["tag"]
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from tests.servers.process import HOST, free_port, log_tail

SERVICE = "vocalbaby_service.service:VocalBaby"
REPO = Path(__file__).resolve().parents[2]


def register_model(
    data_dir: Path,
    rounds: int | None = None,
    seed: int = 0,
    family: str = "xgboost",
    feature_set: str | None = None,
) -> str:
    """Train on a labelled dataset folder and register the model in the current BentoML store.

    Meant for demo data (:mod:`vocalbaby.synthetic`): the model is not evaluated, and its model
    card says so. ``rounds`` overrides the number of boosting rounds (fewer: faster);
    ``family="linear_svm"`` trains a linear SVM (C 0.01) instead of XGBoost; ``feature_set``
    is one of :data:`vocalbaby.features.FEATURE_SETS` (default: eGeMAPSv02). Registers
    through the pipeline's :class:`~vocalbaby_assets.resources.ModelRegistry`, as the
    ``bento_model`` asset does. Returns the model tag.
    """
    from vocalbaby import dataset, features, model_card, training
    from vocalbaby_assets.resources import ModelRegistry

    manifest = dataset.read(data_dir)
    table = features.extract_files(
        dict(zip(manifest.clip_id, manifest.uri, strict=True)),
        feature_set=feature_set or features.DEFAULT_FEATURE_SET,
    )
    if table.failures:
        raise features.FeatureError(table.failures)
    labels = manifest.set_index("clip_id").loc[table.features.index, "label"]
    params = dict(training.DEFAULT_PARAMS) if family == "xgboost" else {"C": 0.01}
    if rounds and family == "xgboost":
        params["num_boost_round"] = rounds
    bundle = training.train(table.features, labels, params, seed=seed, family=family)
    bundle.metadata.update(
        version=f"local-{len(manifest)}-{seed}-{family}",
        dataset_uri=str(data_dir),
        params=params,
        synthetic_demo_data=True,
        trained_corpora=sorted(manifest["corpus"].dropna().unique()),
    )
    card = model_card.build(bundle, source=str(data_dir))
    return ModelRegistry().register(bundle, card, {"stage": "test"})


def process_tree(root: int) -> list[int]:
    """``root`` and its live descendants (Linux ``/proc``); BentoML's workers have their own
    sessions, so a process group does not hold them."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


class LocalServer:
    """``bentoml serve`` in its own session; stopped with SIGTERM (then SIGKILL for the tree).

    Each server gets a BentoML home of its own whose ``models`` and ``bentos`` link to the store
    of ``BENTOML_HOME``: BentoML keeps its Prometheus multiprocess files in
    ``$BENTOML_HOME/prometheus_multiproc_dir`` and wipes them when a server starts, so servers
    sharing a home would erase each other's metrics.
    """

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        log_path: Path | None = None,
        cwd: Path | None = None,
        ready_timeout_s: float = 90.0,
        target: str = SERVICE,
        bentoml: Path | None = None,
    ) -> None:
        """Serve ``target`` (the service module, or a built Bento's tag) with the ``bentoml``
        executable (default: this venv's)."""
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.env = {**os.environ, "BENTOML_DO_NOT_TRACK": "true", **(env or {})}
        self.log_path = log_path or Path(os.devnull)
        self.cwd = cwd or REPO
        self.ready_timeout_s = ready_timeout_s
        self.target = target
        self.bentoml = bentoml or Path(sys.executable).with_name("bentoml")
        self.process: subprocess.Popen[bytes] | None = None
        self.store = Path(self.env.get("BENTOML_HOME") or Path.home() / "bentoml")
        self.home: Path | None = None

    def start(self) -> LocalServer:
        """Start the server and wait until ``/readyz`` answers 200."""
        self.home = Path(tempfile.mkdtemp(prefix="vocalbaby-serve-"))
        for part in ("models", "bentos"):
            (self.store / part).mkdir(parents=True, exist_ok=True)
            (self.home / part).symlink_to(self.store / part)
        self.env["BENTOML_HOME"] = str(self.home)
        command = [
            str(self.bentoml),
            "serve",
            self.target,
            "--host",
            HOST,
            "--port",
            str(self.port),
        ]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                break
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"server at {self.url} did not become ready:\n{self.log_tail()}")

    def stop(self, timeout_s: float = 20.0) -> int | None:
        """SIGTERM the server (it stops its workers cleanly); SIGKILL what is left after
        ``timeout_s``. Returns the server's exit code."""
        try:
            return self._terminate(timeout_s)
        finally:
            if self.home is not None:
                shutil.rmtree(self.home, ignore_errors=True)  # the links, not the store

    def _terminate(self, timeout_s: float) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        tree = process_tree(self.process.pid)
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            for pid in tree:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            return self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server log."""
        return "(no log)" if self.log_path == Path(os.devnull) else log_tail(self.log_path, lines)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
