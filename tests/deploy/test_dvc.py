"""``dvc repro`` of the repository's dvc.yaml on a small demo set, with DVC from its own tool
environment (.tools/dvc: DVC pins antlr4 4.9, which breaks Dagster's asset selections)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.deploy.tools import REPO, tool
from vocalbaby.model import ModelBundle
from vocalbaby_cli.pipeline import app

pytestmark = pytest.mark.slow
LINKED = ("vocalbaby", "vocalbaby_cli", "vocalbaby_assets", "vocalbaby_service", ".venv")
SMALL = {
    "demo": {"clips": 200},
    "tuning": {"n_trials": 2, "folds": 2},
    # Gate criteria off: 200 synthetic clips say nothing about a model's quality.
    "gate": {
        "min_uar": 0,
        "min_uar_ci_low": 0,
        "min_class_recall": 0,
        "baseline_margin": -1,
        "bootstrap": 100,
    },
}


def dvc(workdir: Path, *args: str) -> str:
    """Run the isolated DVC in ``workdir``; its output (fails the test on a non-zero exit)."""
    result = subprocess.run(
        [tool("dvc"), *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=900,  # a loaded 2-core machine runs the three stages in minutes
        check=False,
        env={**os.environ, "DVC_NO_ANALYTICS": "1"},
    )
    assert result.returncode == 0, f"dvc {' '.join(args)}:\n{result.stdout}{result.stderr[-5000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def repro(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DVC workspace holding the repository's dvc.yaml and code, reproduced on small params."""
    workdir = tmp_path_factory.mktemp("dvc")
    for name in LINKED:
        (workdir / name).symlink_to(REPO / name)
    (workdir / "dvc.yaml").write_text((REPO / "dvc.yaml").read_text())
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    for section, values in SMALL.items():
        params[section].update(values)
    (workdir / "params.yaml").write_text(yaml.safe_dump(params))
    dvc(workdir, "init", "--no-scm", "--quiet")
    dvc(workdir, "repro")
    return workdir


def test_repro_runs_every_stage_and_locks_its_outputs(repro: Path) -> None:
    lock = yaml.safe_load((repro / "dvc.lock").read_text())["stages"]
    assert set(lock) == {"demo_data", "features", "train"}
    for name, stage in lock.items():
        assert stage["outs"] and all(out.get("md5") for out in stage["outs"]), name
    assert lock["train"]["params"]["params.yaml"]["tuning"]["n_trials"] == 2
    assert "Data and pipelines are up to date" in dvc(repro, "status")


def test_repro_produces_an_evaluated_current_model(repro: Path) -> None:
    models = repro / "artifacts" / "dvc" / "models"
    bundle = Path(json.loads((models / "latest.json").read_text())["uri"])
    bundle = bundle if bundle.is_absolute() else repro / bundle
    classifier = {"xgboost": "booster.json", "linear_svm": "linear.json"}
    assert (bundle / classifier[ModelBundle.load(bundle).family]).is_file()
    evaluation = json.loads((bundle / "evaluation.json").read_text())
    assert evaluation["gate"]["passed"] and 0 <= evaluation["metrics"]["uar"] <= 1


def test_the_release_command_registers_the_current_model(
    repro: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bentoml

    from vocalbaby import model_card

    monkeypatch.chdir(repro)  # latest.json holds a path relative to the workspace
    result = CliRunner().invoke(app, ["register", "artifacts/dvc/models"])
    assert result.exit_code == 0, result.output
    tag = result.output.strip().splitlines()[-1]
    assert tag.startswith("vocalbaby:")
    card = bentoml.models.get(tag).info.metadata
    assert set(card) == set(model_card.KEYS)
    assert card["evaluated"] and card["gate"]["passed"]
