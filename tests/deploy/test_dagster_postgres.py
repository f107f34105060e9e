"""Production Dagster and Optuna against a real PostgreSQL (Debian, own cluster on 127.0.0.1).

- deploy/dagster/dagster.yaml is a valid instance configuration, ECS run launcher included;
- with its storage section, a materialization is recorded in Postgres and read back by a new
  instance (what the webserver, the daemon and every ECS run share);
- two worker processes add trials to one Postgres-backed Optuna study.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import sqlalchemy
import yaml
from dagster import AssetKey, DagsterInstance, DagsterRunStatus
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config
from dagster._core.instance.ref import InstanceRef

from tests.deploy.tools import DEPLOY, REPO
from tests.pipeline.conftest import INGESTION
from tests.servers.postgres import Postgres
from vocalbaby import synthetic
from vocalbaby_assets.resources import VocalBabySettings
from vocalbaby_assets.runs import run_training

pytestmark = pytest.mark.integration
PRODUCTION = DEPLOY / "dagster" / "dagster.yaml"
WORKER_TRIALS = 8
WORKER_TIMEOUT_S = 180


def postgres_env(server: Postgres, database: str) -> dict[str, str]:
    """The DAGSTER_PG_* variables deploy/dagster/dagster.yaml reads."""
    return {
        "DAGSTER_PG_HOST": server.host,
        "DAGSTER_PG_PORT": str(server.port),
        "DAGSTER_PG_DB": database,
        "DAGSTER_PG_USERNAME": server.user,
        "DAGSTER_PG_PASSWORD": server.password,
    }


@pytest.fixture(scope="module")
def dagster_database(postgres_server: Postgres) -> dict[str, str]:
    postgres_server.create_database("dagster")
    return postgres_env(postgres_server, "dagster")


def test_production_instance_config_is_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dagster_database: dict[str, str]
) -> None:
    for name, value in {**dagster_database, "DAGSTER_COMPUTE_LOG_BUCKET": "logs"}.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "dagster.yaml").write_text(PRODUCTION.read_text())
    config, _ = dagster_instance_config(str(tmp_path))
    assert config["telemetry"] == {"enabled": False}
    ref = InstanceRef.from_dir(str(tmp_path))
    assert (ref.run_launcher_data.module_name, ref.run_launcher_data.class_name) == (
        "dagster_aws.ecs",
        "EcsRunLauncher",
    )
    assert ref.storage_data.class_name == "DagsterPostgresStorage"
    # Each pluggable class validates its own section (without starting an ECS client).
    for data in (ref.run_launcher_data, ref.compute_logs_data, ref.run_coordinator_data):
        klass = getattr(__import__(data.module_name, fromlist=[data.class_name]), data.class_name)
        result = process_config(klass.config_type(), yaml.safe_load(data.config_yaml))
        assert result.success, f"{data.class_name}: {result.errors}"


def test_a_materialization_is_recorded_in_postgres(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    postgres_server: Postgres,
    dagster_database: dict[str, str],
) -> None:
    for name, value in dagster_database.items():
        monkeypatch.setenv(name, value)
    production = yaml.safe_load(PRODUCTION.read_text())
    home = tmp_path / "dagster_home"
    home.mkdir()
    # The production storage; runs in this process instead of ECS tasks.
    local = {key: production[key] for key in ("telemetry", "storage")}
    (home / "dagster.yaml").write_text(yaml.safe_dump(local))
    settings = VocalBabySettings(
        dataset_uri=str(synthetic.generate(tmp_path / "data", clips=100, seed=1)),
        artifacts_uri=str(tmp_path / "artifacts"),
    )
    with DagsterInstance.from_config(str(home)) as instance:
        result = run_training(
            settings,
            select=[*INGESTION, "data_splits"],
            instance=instance,
        )
        assert result.success
    with DagsterInstance.from_config(str(home)) as reader:  # a new process would see the same
        for run_id in result.run_ids:
            run = reader.get_run_by_id(run_id)
            assert run is not None and run.status == DagsterRunStatus.SUCCESS
        for key in ("raw_clips", "data_splits"):
            event = reader.get_latest_materialization_event(AssetKey(key))
            assert event is not None and event.run_id in result.run_ids
    engine = sqlalchemy.create_engine(postgres_server.url("dagster"), poolclass=sqlalchemy.NullPool)
    with engine.connect() as connection:
        rows = connection.execute(
            sqlalchemy.text(
                "SELECT asset_key FROM event_logs "
                "WHERE dagster_event_type = 'ASSET_MATERIALIZATION' AND run_id IN :runs"
            ).bindparams(sqlalchemy.bindparam("runs", expanding=True)),
            {"runs": result.run_ids},
        ).scalars()
        assert sorted(rows) == sorted(f'["{name}"]' for name in [*INGESTION, "data_splits"])


def start_worker(storage: str, study: str, barrier: Path) -> subprocess.Popen[str]:
    """A tuning worker process (tests/deploy/optuna_worker.py) on the shared study."""
    command = [sys.executable, "-m", "tests.deploy.optuna_worker", storage, study]
    return subprocess.Popen(
        [*command, str(WORKER_TRIALS), str(barrier)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


def test_two_workers_tune_one_postgres_study(postgres_server: Postgres, tmp_path: Path) -> None:
    storage = postgres_server.create_database("optuna")
    # Create the schema once before the workers start, as a deployment does (deploy/README.md,
    # "Scaling out"): concurrent first connections race on creating it.
    optuna.storages.RDBStorage(storage)
    study = "vocalbaby-shared"
    workers = [start_worker(storage, study, tmp_path) for _ in range(2)]
    # Both start tuning together: otherwise the first one loaded can finish every trial first.
    deadline = time.monotonic() + WORKER_TIMEOUT_S
    while len(list(tmp_path.glob("*.ready"))) < len(workers):
        assert time.monotonic() < deadline and all(w.poll() is None for w in workers), [
            w.communicate()[0][-2000:] for w in workers if w.poll() is not None
        ]
        time.sleep(0.1)
    (tmp_path / "go").touch()
    outputs = [worker.communicate(timeout=WORKER_TIMEOUT_S)[0] for worker in workers]
    for worker, output in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, output[-3000:]
    numbers = [set(map(int, re.findall(r"^trial (\d+):", out, re.M))) for out in outputs]
    assert all(numbers), f"a worker finished no trial:\n{outputs}"
    assert not numbers[0] & numbers[1], "two workers ran the same trial"
    trials = optuna.load_study(study_name=study, storage=storage).trials
    finished = {t.number for t in trials if t.state.is_finished()}
    assert numbers[0] | numbers[1] == finished
    assert len(finished) >= WORKER_TRIALS
