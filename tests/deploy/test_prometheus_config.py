"""deploy/prometheus: promtool checks the configuration and runs the alert rules' unit tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from tests.deploy.tools import PROMETHEUS, binary

ALERTS = {
    "VocalBabyServiceDown",
    "VocalBabyNoReplicas",
    "VocalBabyHighErrorRate",
    "VocalBabyHighRejectionRate",
    "VocalBabyHighLatencyP95",
    "VocalBabyPredictionLogBehind",
    "VocalBabyDataDrift",
    "VocalBabyDriftReportStale",
}


def _promtool(*args: str) -> str:
    result = subprocess.run(
        [binary("promtool"), *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, f"promtool {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result.stdout


def test_promtool_accepts_the_configuration_and_its_rules(tmp_path: Path) -> None:
    """Checked as the monitoring host has it: with the token file its boot script writes."""
    root = tmp_path / "prometheus"
    shutil.copytree(PROMETHEUS, root)
    config = yaml.safe_load((root / "prometheus.yml").read_text())
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "vocalbaby"]
    token_file = root / job["authorization"]["credentials_file"]
    token_file.parent.mkdir(exist_ok=True)
    token_file.write_text("a-token-the-boot-script-fetched")
    out = _promtool("check", "config", str(root / "prometheus.yml"))
    assert f"SUCCESS: {len(ALERTS)} rules found" in out


def test_alert_rules_pass_their_unit_tests() -> None:
    _promtool("test", "rules", str(PROMETHEUS / "tests" / "vocalbaby_test.yml"))


def test_every_alert_has_a_unit_test_and_a_severity() -> None:
    groups = yaml.safe_load((PROMETHEUS / "rules" / "vocalbaby.yml").read_text())["groups"]
    rules = {r["alert"]: r for g in groups for r in g["rules"]}
    assert set(rules) == ALERTS
    assert all(r["labels"]["severity"] in {"warning", "critical"} for r in rules.values())
    tests = yaml.safe_load((PROMETHEUS / "tests" / "vocalbaby_test.yml").read_text())["tests"]
    firing = {
        case["alertname"]
        for test in tests
        for case in test.get("alert_rule_test", [])
        if case["exp_alerts"]
    }
    assert firing == ALERTS


def test_scrape_jobs_cover_the_service_and_the_pushgateway() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"vocalbaby", "pushgateway"}
    assert jobs["pushgateway"]["honor_labels"] is True
    for job in jobs.values():
        (target_file,) = job["file_sd_configs"][0]["files"]
        assert (PROMETHEUS / target_file).is_file()
