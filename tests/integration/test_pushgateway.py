"""The drift score reaches Prometheus: Debian's Pushgateway and Prometheus on 127.0.0.1.

Prometheus scrapes the Pushgateway every second (``honor_labels``); a materialized
``drift_report`` with ``pushgateway_url`` set pushes, and a PromQL query returns the score.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.drift.helpers import DriftSetup, materialize_day, write_log
from tests.pipeline.conftest import check_results, metadata
from tests.servers.process import HOST, free_port, http_ok, start, stop, unavailable, wait_until
from vocalbaby_assets.resources import VocalBabySettings

pytestmark = pytest.mark.integration
BINARIES = {"prometheus": "/usr/bin/prometheus", "pushgateway": "/usr/bin/prometheus-pushgateway"}
SCRAPE_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Monitoring:
    pushgateway_url: str
    prometheus_url: str


def _binary(name: str) -> str:
    """The Debian binary (or one on PATH); skip without it, except in CI, where that fails."""
    found = BINARIES[name] if os.access(BINARIES[name], os.X_OK) else None
    found = found or shutil.which(Path(BINARIES[name]).name)
    if not found:
        reason = f"no {BINARIES[name]} (apt-get install prometheus prometheus-pushgateway)"
        unavailable(reason)
    return found


@pytest.fixture(scope="module")
def monitoring(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Monitoring]:
    """A Pushgateway and a Prometheus scraping it every second, on free ports."""
    prometheus, pushgateway = _binary("prometheus"), _binary("pushgateway")
    workdir = tmp_path_factory.mktemp("monitoring")
    gateway = f"{HOST}:{free_port()}"
    config = workdir / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: pushgateway\n"
        "    honor_labels: true\n"
        f"    static_configs: [{{targets: ['{gateway}']}}]\n"
    )
    prometheus_address = f"{HOST}:{free_port()}"
    servers = [
        (pushgateway, [f"--web.listen-address={gateway}"], gateway),
        (
            prometheus,
            [
                f"--config.file={config}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address={prometheus_address}",
            ],
            prometheus_address,
        ),
    ]
    procs = []
    try:
        for binary, args, address in servers:
            log = workdir / f"{Path(binary).name}.log"
            procs.append(proc := start([binary, *args], log, cwd=workdir))
            wait_until(http_ok(f"http://{address}/-/ready"), proc, log, binary, timeout_s=30)
        yield Monitoring(f"http://{gateway}", f"http://{prometheus_address}")
    finally:
        for proc in reversed(procs):
            stop(proc)


def _query(prometheus_url: str, promql: str) -> list[dict]:
    url = f"{prometheus_url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())["data"]["result"]


def _wait_for(prometheus_url: str, promql: str) -> list[dict]:
    """Poll until the query returns a sample (the first scrape lands seconds after a push)."""
    deadline = time.monotonic() + SCRAPE_TIMEOUT_S
    while not (found := _query(prometheus_url, promql)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{promql} not in Prometheus after {SCRAPE_TIMEOUT_S:.0f} s")
        time.sleep(0.5)
    return found


def test_a_drift_run_pushes_its_score_to_prometheus(
    monitoring: Monitoring, drift_setup: DriftSetup
) -> None:
    day = "2026-11-05"  # a day no other test pushes, so the query sees only this run's series
    clips = drift_setup.clips
    write_log(drift_setup.settings.locations.prediction_log, day, clips[clips["split"] == "train"])
    settings = VocalBabySettings(
        dataset_uri=drift_setup.settings.dataset_uri,
        artifacts_uri=drift_setup.settings.artifacts_uri,
        pushgateway_url=monitoring.pushgateway_url,
    )
    setup = DriftSetup(settings, drift_setup.instance, clips)
    result = materialize_day(setup, day)
    assert result.success
    report = metadata(result, "drift_report")
    assert not report["dataset_drift"] and check_results(result)["feature_drift"].passed

    (score,) = _wait_for(monitoring.prometheus_url, f'vocalbaby_drift_score{{partition="{day}"}}')
    assert score["metric"]["job"] == "vocalbaby_drift" and score["metric"]["partition"] == day
    assert float(score["value"][1]) == pytest.approx(report["drift_share"])
    (count,) = _query(monitoring.prometheus_url, f'vocalbaby_drifted_features{{partition="{day}"}}')
    assert int(float(count["value"][1])) == report["drifted_features"]
