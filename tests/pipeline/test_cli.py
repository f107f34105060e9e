"""The ``vocalbaby`` command on a model the pipeline trained."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vocalbaby_cli.app import app

runner = CliRunner()


def test_evaluate_prints_uar_per_class_metrics_and_confusion_matrix(trained, demo_dataset) -> None:
    settings, result = trained
    models = str(Path(settings.artifacts_uri, "models"))
    out = runner.invoke(
        app, ["evaluate", "--dataset", str(demo_dataset), "--model", models, "--json"]
    )
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    assert report["model_version"] == result.output_for_node("model_evaluation")["model_version"]
    assert report["n"] == 300
    assert set(report["per_class"]) == {"canonical", "non_canonical", "crying", "laughing", "junk"}
    assert sum(map(sum, report["confusion_matrix"])) == 300
    assert report["uar"] > 0.6
    training_data = report["training_data"]
    assert training_data["synthetic_demo_data_only"] is True
    corpora = training_data["corpora"]  # those of the train + valid children
    assert corpora and set(corpora) <= {"synth-A", "synth-B", "synth-C"}
    loco = training_data["leave_one_corpus_out"]
    assert loco["held_out"] == loco["synthetic_held_out"] == ["synth-A", "synth-B", "synth-C"]
    text = runner.invoke(app, ["evaluate", "--dataset", str(demo_dataset), "--model", models])
    assert "UAR" in text.stdout and "confusion matrix" in text.stdout
    assert f"Trained on: {', '.join(corpora)} (SYNTHETIC demo data only" in text.stdout
    assert f"Leave-one-corpus-out UAR {loco['pooled_uar']['estimate']:.3f}" in text.stdout


def test_evaluate_uses_the_current_model_from_the_artifacts_folder(
    trained, real_dev, monkeypatch
) -> None:
    settings, _ = trained
    monkeypatch.setenv("VOCALBABY_ARTIFACTS_URI", settings.artifacts_uri)
    out = runner.invoke(app, ["evaluate", "--dataset", str(real_dev), "--json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    assert report["n"] == 700
    assert report["per_class"]["crying"]["support"] == 489


def test_evaluate_without_a_model_says_why(tmp_path, demo_dataset) -> None:
    out = runner.invoke(app, ["evaluate", "--dataset", str(demo_dataset), "--model", str(tmp_path)])
    assert out.exit_code == 2
    text = " ".join(out.output.replace("│", " ").split())  # undo the error panel's wrapping
    assert "not a model bundle" in text and "make demo" in text


def test_demo_data_command_is_deterministic(tmp_path) -> None:
    for name in ("a", "b"):
        out = runner.invoke(
            app, ["demo-data", str(tmp_path / name), "--clips", "120", "--seed", "4"]
        )
        assert out.exit_code == 0, out.output
    a, b = (sorted((tmp_path / n / "audio").iterdir()) for n in ("a", "b"))
    assert len(a) == 120
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]


@pytest.mark.parametrize("command", [[], ["evaluate"], ["demo-data"]])
def test_help_is_available(command) -> None:
    out = runner.invoke(app, [*command, "--help"])
    assert out.exit_code == 0
    assert "Usage" in out.output
