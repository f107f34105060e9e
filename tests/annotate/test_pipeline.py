"""Annotations back into training: the annotated_clips asset, its agreement check, the sensor,
and raw_clips reading the export next to the configured dataset."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import (
    DagsterInstance,
    DefaultSensorStatus,
    SensorResult,
    SkipReason,
    build_sensor_context,
)
from typer.testing import CliRunner

from tests.annotate.conftest import LONG_RECORDING
from tests.pipeline.conftest import INGESTION, check_results, metadata, run_pipeline
from vocalbaby import dataset
from vocalbaby.annotation.store import AnnotatedSegment, AnnotationStore, Revision
from vocalbaby_assets.definitions import build_definitions
from vocalbaby_assets.resources import VocalBabySettings
from vocalbaby_assets.sensors import annotations_sensor
from vocalbaby_cli.pipeline import app as pipeline

LABELS = {
    "alice": ["crying", "junk", "crying", "laughing"],
    "bob": ["junk", "crying", "laughing", "crying"],  # disagrees on every clip: kappa < 0
}


def annotate(store: AnnotationStore, audio_uri: str, who: str, labels: list[str]) -> None:
    segments = tuple(
        AnnotatedSegment(i * 0.4, i * 0.4 + 0.4, label, "junk", None, "model", who, "t")
        for i, label in enumerate(labels)
    )
    draft = Revision(
        LONG_RECORDING, who, 0, "", audio_uri, segments, "m", recording={"duration_s": 1.6}
    )
    latest = store.latest(LONG_RECORDING, who)
    store.save(draft, latest.revision if latest else 0)


@pytest.fixture
def settings(demo_dataset: Path, tmp_path: Path) -> VocalBabySettings:
    return VocalBabySettings(
        dataset_uri=str(demo_dataset), artifacts_uri=str(tmp_path / "artifacts")
    )


def test_the_sensor_requests_one_export_per_new_state_of_the_store(
    settings: VocalBabySettings, review_folder: Path
) -> None:
    store = AnnotationStore(settings.locations.annotations)
    instance = DagsterInstance.ephemeral()

    def tick(cursor: str | None) -> SensorResult | SkipReason:
        context = build_sensor_context(
            instance=instance, cursor=cursor, resources={"settings": settings}
        )
        return annotations_sensor(context)

    assert isinstance(tick(None), SkipReason)
    annotate(store, str(review_folder / LONG_RECORDING), "alice", LABELS["alice"])
    first = tick(None)
    assert isinstance(first, SensorResult) and len(first.run_requests) == 1
    assert isinstance(tick(first.cursor), SkipReason)  # nothing new
    annotate(store, str(review_folder / LONG_RECORDING), "alice", ["junk"] * 4)
    second = tick(first.cursor)
    assert isinstance(second, SensorResult)
    assert second.run_requests[0].run_key != first.run_requests[0].run_key
    sensor = build_definitions().get_sensor_def("annotations_sensor")
    assert sensor.default_status == DefaultSensorStatus.RUNNING
    assert sensor.job_name == "annotations_job"


def test_annotated_clips_join_the_training_data_with_agreement_metadata(
    settings: VocalBabySettings, review_folder: Path, demo_dataset: Path
) -> None:
    store = AnnotationStore(settings.locations.annotations)
    for who, labels in LABELS.items():
        annotate(store, str(review_folder / LONG_RECORDING), who, labels)

    result = run_pipeline(settings, selection=[*INGESTION, "data_splits"])

    assert result.success
    exported = metadata(result, "annotated_clips")
    assert exported["clips"] == 4 and exported["recordings"] == 1
    assert exported["min_kappa"] < 0 and "alice" in exported["agreement"]
    assert exported["corrected_model_labels"] == 3  # bob saved last: 3 of his 4 labels are not junk
    check = check_results(result)["annotator_agreement"]
    assert not check.passed and check.severity.value == "WARN"
    assert check.description == "low agreement: alice/bob kappa -0.60"
    raw = result.output_for_node("raw_clips")
    base = dataset.read(demo_dataset)
    annotated = raw[raw["clip_id"].str.startswith("ann_")]
    assert len(raw) == len(base) + 4 and metadata(result, "raw_clips")["annotated_clips"] == 4
    assert annotated["label"].tolist() == LABELS["bob"]
    assert annotated["error"].isna().all()
    splits = result.output_for_node("data_splits").set_index("clip_id")
    assert splits.loc[annotated["clip_id"], "split"].nunique() == 1  # one recording, one split


def test_without_annotations_raw_clips_is_the_dataset_alone(
    settings: VocalBabySettings, demo_dataset: Path
) -> None:
    result = run_pipeline(settings, selection=INGESTION)

    assert result.success
    assert metadata(result, "annotated_clips")["clips"] == 0
    assert len(result.output_for_node("raw_clips")) == len(dataset.read(demo_dataset))


def test_the_train_command_reads_annotations_where_the_environment_says(
    review_folder: Path, demo_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``vocalbaby-pipeline train`` keeps every setting of the environment (it once rebuilt the
    settings from four fields and read ``<artifacts>/annotations`` whatever was configured)."""
    elsewhere = tmp_path / "lab-annotations"  # not under the artifacts folder
    annotate(
        AnnotationStore(str(elsewhere)),
        str(review_folder / LONG_RECORDING),
        "alice",
        LABELS["alice"],
    )
    artifacts = tmp_path / "artifacts"
    monkeypatch.setenv("VOCALBABY_ANNOTATIONS_URI", str(elsewhere))
    monkeypatch.setenv("VOCALBABY_DATASET_URI", str(demo_dataset))
    monkeypatch.setenv("VOCALBABY_ARTIFACTS_URI", str(artifacts))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)

    result = CliRunner().invoke(pipeline, ["train", "--select", "annotated_clips"])

    assert result.exit_code == 0, result.output
    exported = dataset.read(artifacts / "annotated_clips")
    assert exported["label"].tolist() == LABELS["alice"]
    unknown = CliRunner().invoke(pipeline, ["train", "--select", "no_such_asset"])
    assert unknown.exit_code == 2 and "unknown asset(s) ['no_such_asset']" in unknown.output
