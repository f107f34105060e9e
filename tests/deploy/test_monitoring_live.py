"""Prometheus (Debian) with deploy/prometheus scrapes a real ``bentoml serve`` under a little
traffic and the Pushgateway; every Grafana panel's query returns data through the HTTP API, and
every alert rule evaluates cleanly on the live series."""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest

from tests.deploy.conftest import SERVICE_TOKEN, Monitored
from tests.deploy.test_prometheus_config import ALERTS
from tests.deploy.tools import GRAFANA
from vocalbaby import drift
from vocalbaby.features import feature_names

pytestmark = pytest.mark.integration
# Grafana's variables as Grafana substitutes them for "All" and a short range.
SUBSTITUTIONS = {"$__rate_interval": "1m", "$__range": "5m", "$instance": ".*", "$endpoint": ".*"}
PANEL_TIMEOUT_S = 40.0
DAY = "2026-11-04"


def panel_queries() -> list[tuple[str, str]]:
    """(panel title, PromQL with Grafana's variables substituted) of every dashboard panel."""
    queries = []
    for path in sorted((GRAFANA / "dashboards").glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel["targets"]:
                expr = target["expr"]
                for variable, value in SUBSTITUTIONS.items():
                    expr = expr.replace("${" + variable[1:] + "}", value).replace(variable, value)
                assert "$" not in expr, f"{panel['title']}: unsubstituted variable in {expr}"
                queries.append((f"{path.name}: {panel['title']} [{target['refId']}]", expr))
    return queries


def send_traffic(url: str, clips: list[Path]) -> None:
    """Classify a few clips (one request with two files) and send one non-audio file."""
    auth = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
    with httpx.Client(base_url=url, headers=auth, timeout=60) as client:
        for first, second in zip(clips[::2], clips[1::2], strict=True):
            files = [("files", (c.name, c.read_bytes(), "audio/wav")) for c in (first, second)]
            assert client.post("/predict", files=files).status_code == 200
        bad = client.post("/predict", files={"files": ("bad.wav", b"not audio", "audio/wav")})
        assert 400 <= bad.status_code < 500


def push_drift_report(gateway_url: str) -> drift.DriftResult:
    """Push a drift result as the drift job does: 9 of the 88 features drifted."""
    names = feature_names()
    scores = pd.Series([0.9] * 9 + [0.1] * (len(names) - 9), index=names)
    result = drift.DriftResult(
        reference_rows=300,
        current_rows=120,
        scores=scores,
        thresholds=pd.Series(0.4, index=names),
        drift_share_threshold=0.1,
    )
    drift.push(result, gateway_url, labels={"partition": DAY})
    return result


def _finite(samples: list[dict]) -> bool:
    return any(math.isfinite(float(s["value"][1])) for s in samples)


@pytest.fixture(scope="module")
def traffic(monitored: Monitored, demo_dataset: Path) -> drift.DriftResult:
    """Two rounds of requests a few scrapes apart (so rates are non-zero) and a drift push."""
    clips = sorted(demo_dataset.rglob("*.wav"))[:6]
    send_traffic(monitored.service.url, clips)
    pushed = push_drift_report(monitored.pushgateway_url)
    monitored.prometheus.wait_for('vocalbaby_requests_total{job="vocalbaby"}')
    monitored.prometheus.wait_for('vocalbaby_drift_score{job="vocalbaby_drift"}')
    send_traffic(monitored.service.url, clips)
    return pushed


def test_prometheus_scrapes_the_service_and_the_pushgateway(
    monitored: Monitored, traffic: drift.DriftResult
) -> None:
    up = monitored.prometheus.query("up")
    assert {(s["metric"]["job"], s["value"][1]) for s in up} == {
        ("vocalbaby", "1"),
        ("pushgateway", "1"),
    }
    (score,) = monitored.prometheus.query("vocalbaby_drift_score")
    assert score["metric"]["partition"] == DAY
    assert float(score["value"][1]) == pytest.approx(traffic.drift_share)
    (info,) = monitored.prometheus.query("vocalbaby_model_info")
    assert info["metric"]["version"].startswith("local-")


def test_every_panel_query_returns_data(monitored: Monitored, traffic: drift.DriftResult) -> None:
    pending = dict(panel_queries())
    assert len(pending) >= 15
    deadline = time.monotonic() + PANEL_TIMEOUT_S
    while pending and time.monotonic() < deadline:
        for title, expr in list(pending.items()):
            if _finite(monitored.prometheus.query(expr)):
                del pending[title]
        time.sleep(1)
    assert not pending, "panels without data:\n" + "\n".join(
        f"{t}: {e}" for t, e in pending.items()
    )


def test_dashboard_variables_have_values(monitored: Monitored, traffic: drift.DriftResult) -> None:
    for path in (GRAFANA / "dashboards").glob("*.json"):
        for variable in json.loads(path.read_text())["templating"]["list"]:
            match = re.fullmatch(r"label_values\((.+), (\w+)\)", variable["query"]["query"])
            assert match, variable["query"]
            series, label = match.groups()
            values = monitored.prometheus.get(
                f"/api/v1/label/{label}/values", **{"match[]": series}
            )
            assert values, f"{path.name}: variable {variable['name']} has no values"


def test_alert_rules_evaluate_cleanly_and_only_drift_fires(
    monitored: Monitored, traffic: drift.DriftResult
) -> None:
    monitored.prometheus.wait_for('ALERTS{alertname="VocalBabyDataDrift"}')
    groups = monitored.prometheus.get("/api/v1/rules")["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert {rule["name"] for rule in rules} == set(ALERTS)
    assert all(rule["health"] == "ok" for rule in rules), [
        (r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"
    ]
    firing = {r["name"] for r in rules if r["state"] == "firing"}
    assert firing == {"VocalBabyDataDrift"}
