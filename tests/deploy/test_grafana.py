"""deploy/grafana: provisioning and dashboards are structurally valid (no Grafana server here;
tests/deploy/test_monitoring_live.py runs every panel's query against a live Prometheus)."""

from __future__ import annotations

import json
import re

import yaml

from tests.deploy.tools import GRAFANA

PANEL_TOPICS = {
    "request rate": "vocalbaby_requests_total",
    "latency": "vocalbaby_request_latency_seconds_bucket",
    "error rate": 'status=~"5..',
    "drift score": "vocalbaby_drift_score",
    "model version": "vocalbaby_model_info",
    "label mix": "vocalbaby_predictions_total",
}


def datasource_uids() -> set[str]:
    """The uids of the provisioned datasources."""
    uids = set()
    for path in (GRAFANA / "provisioning" / "datasources").glob("*.yml"):
        uids |= {d["uid"] for d in yaml.safe_load(path.read_text())["datasources"]}
    return uids


def dashboards() -> dict[str, dict]:
    """Every dashboard JSON by file name."""
    return {p.name: json.loads(p.read_text()) for p in (GRAFANA / "dashboards").glob("*.json")}


def test_provisioning_points_at_the_dashboards_folder() -> None:
    (provider,) = yaml.safe_load(
        (GRAFANA / "provisioning" / "dashboards" / "vocalbaby.yml").read_text()
    )["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    assert datasource_uids() == {"vocalbaby-prometheus"}


def test_dashboards_have_unique_ids_and_known_datasources() -> None:
    found = dashboards()
    assert found
    uids = [d["uid"] for d in found.values()]
    assert len(set(uids)) == len(uids)
    known = datasource_uids()
    for name, dashboard in found.items():
        ids = [p["id"] for p in dashboard["panels"]]
        assert len(set(ids)) == len(ids), f"{name}: duplicate panel ids"
        for panel in dashboard["panels"]:
            refs = [t["refId"] for t in panel["targets"]]
            assert len(set(refs)) == len(refs), f"{name}: {panel['title']} repeats a refId"
            for source in [panel["datasource"], *(t["datasource"] for t in panel["targets"])]:
                assert source["uid"] in known, f"{name}: {panel['title']} uses {source}"
        for variable in dashboard["templating"]["list"]:
            assert variable["datasource"]["uid"] in known


def test_panels_do_not_overlap() -> None:
    for name, dashboard in dashboards().items():
        cells: dict[tuple[int, int], str] = {}
        for panel in dashboard["panels"]:
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24, f"{name}: {panel['title']} is wider than the grid"
            for x in range(grid["x"], grid["x"] + grid["w"]):
                for y in range(grid["y"], grid["y"] + grid["h"]):
                    assert (x, y) not in cells, f"{name}: {panel['title']} overlaps {cells[x, y]}"
                    cells[x, y] = panel["title"]


def test_the_service_dashboard_covers_every_topic() -> None:
    expressions = [
        t["expr"] for p in dashboards()["vocalbaby.json"]["panels"] for t in p["targets"]
    ]
    for topic, needle in PANEL_TOPICS.items():
        assert any(needle in e for e in expressions), f"no panel for {topic}"
    quantiles = {q for e in expressions for q in re.findall(r"histogram_quantile\((0\.\d+)", e)}
    assert quantiles == {"0.5", "0.95", "0.99"}


def test_variables_used_in_queries_are_defined() -> None:
    for name, dashboard in dashboards().items():
        defined = {v["name"] for v in dashboard["templating"]["list"]}
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                used = set(re.findall(r"\$\{?(\w+)", target["expr"])) - {"__rate_interval"}
                assert used <= defined, f"{name}: {panel['title']} uses {used - defined}"
