"""Fixtures of tests/deploy: a monitored ``bentoml serve`` (Prometheus + Pushgateway), PostgreSQL.

Every server runs on 127.0.0.1 on free ports. A missing server binary skips the tests that need
it, except in CI (CI=true), where it fails (scripts/install-test-tools.sh installs them).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.deploy.tools import PROMETHEUS, unavailable
from tests.servers import postgres, prometheus
from tests.servers.bento import LocalServer, register_model
from tests.servers.postgres import Postgres, running_postgres
from tests.servers.prometheus import Prometheus, running_prometheus, running_pushgateway

SCRAPE_INTERVAL = "1s"


@dataclass(frozen=True)
class Monitored:
    """The service, the Pushgateway and a Prometheus scraping both with deploy/prometheus."""

    service: LocalServer
    pushgateway_url: str
    prometheus: Prometheus


SERVICE_TOKEN = "monitoring-test-token-0123456789abcdef"


@pytest.fixture(scope="module")
def service_server(
    tmp_path_factory: pytest.TempPathFactory, demo_dataset: Path
) -> Iterator[LocalServer]:
    """``bentoml serve`` of a model trained on the demo set (the session's BentoML store)."""
    tag = register_model(demo_dataset, rounds=20)
    log = tmp_path_factory.mktemp("service") / "server.log"
    env = {"VOCALBABY_MODEL_TAG": tag, "VOCALBABY_API_TOKEN": SERVICE_TOKEN}
    with LocalServer(env=env, log_path=log) as server:
        yield server


def prometheus_config(workdir: Path, targets: dict[str, str]) -> Path:
    """deploy/prometheus copied to ``workdir`` with 1 s scrapes, ``targets`` per job and the
    service's token where the boot script writes it."""
    root = workdir / "prometheus"
    shutil.copytree(PROMETHEUS, root, ignore=shutil.ignore_patterns("targets", "tests"))
    config_path = root / "prometheus.yml"
    config = yaml.safe_load(config_path.read_text())
    config["global"].update(scrape_interval=SCRAPE_INTERVAL, evaluation_interval=SCRAPE_INTERVAL)
    config_path.write_text(yaml.safe_dump(config))
    (root / "secrets").mkdir()
    (root / "secrets" / "vocalbaby-api-token").write_text(SERVICE_TOKEN)
    (root / "targets").mkdir()
    for job, address in targets.items():
        (root / "targets" / f"{job}.yml").write_text(yaml.safe_dump([{"targets": [address]}]))
    return config_path


@pytest.fixture(scope="module")
def monitored(
    service_server: LocalServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Monitored]:
    """The service and a Pushgateway, scraped by Prometheus with the repository's configuration."""
    if prometheus.binary("prometheus") is None or prometheus.binary("pushgateway") is None:
        unavailable("no prometheus or prometheus-pushgateway (Debian packages)")
    workdir = tmp_path_factory.mktemp("monitoring")
    with running_pushgateway(workdir) as gateway:
        targets = {
            "vocalbaby": service_server.url.removeprefix("http://"),
            "pushgateway": gateway.removeprefix("http://"),
        }
        with running_prometheus(prometheus_config(workdir, targets), workdir) as server:
            yield Monitored(service_server, gateway, server)


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[Postgres]:
    """A fresh PostgreSQL 15 cluster on 127.0.0.1."""
    if postgres.bin_dir() is None:
        unavailable("no PostgreSQL server binaries (Debian package postgresql)")
    with running_postgres() as server:
        yield server
