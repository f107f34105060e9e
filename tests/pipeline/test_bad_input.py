"""Bad datasets give a failed step or a failed blocking check that names the rows and files."""

import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.audio_files import tone, write_bad_clips, write_wav
from tests.pipeline.conftest import (
    FEATURES,
    INGESTION,
    all_metadata,
    check_results,
    metadata,
    run_pipeline,
)
from vocalbaby_assets.resources import VocalBabySettings


def _copy_demo(demo_dataset: Path, out: Path, clips: int = 60) -> pd.DataFrame:
    meta = pd.read_csv(demo_dataset / "metadata.csv").head(clips)
    (out / "audio").mkdir(parents=True)
    for rel in meta["path"]:
        shutil.copy(demo_dataset / rel, out / rel)
    return meta


def _settings(root: Path, tmp_path: Path) -> VocalBabySettings:
    return VocalBabySettings(dataset_uri=str(root), artifacts_uri=str(tmp_path / "artifacts"))


def _step_error(result, step: str) -> str:
    (failure,) = [e for e in result.all_events if e.is_step_failure and e.step_key == step]
    return str(failure.step_failure_data.error)


def test_unreadable_clips_fail_the_blocking_check_by_name(demo_dataset, tmp_path) -> None:
    root = tmp_path / "data"
    meta = _copy_demo(demo_dataset, root)
    reasons = write_bad_clips(root / "audio")
    bad = pd.DataFrame({"clip_id": [n.removesuffix(".wav") for n in reasons], "label": "junk"})
    pd.concat([meta, bad.assign(path=[f"audio/{n}" for n in reasons])]).to_csv(
        root / "metadata.csv", index=False
    )
    result = run_pipeline(_settings(root, tmp_path))
    assert not result.success
    check = check_results(result)["raw_clips_readable"]
    assert not check.passed
    assert check.metadata["unreadable_clips"].value == len(reasons)
    table = check.metadata["files"].value
    for name, reason in reasons.items():
        assert name in table and reason in table
    materialized = {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}
    upstream = {"source_dataset", "annotated_clips", "raw_clips"}  # raw_clips and its inputs
    assert materialized == upstream, "nothing downstream of a failed blocking check"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.assign(label=m["label"].where(m.index != 3, "babble")), "row 3: 'babble'"),
        (lambda m: m.drop(columns="label"), "missing column(s) label"),
        (lambda m: m.assign(path=m["path"].where(m.index != 5, "audio/ghost.wav")), "ghost"),
    ],
    ids=["unknown-label", "missing-column", "missing-file"],
)
def test_bad_metadata_fails_raw_clips_naming_the_problem(
    demo_dataset, tmp_path, edit, message
) -> None:
    root = tmp_path / "data"
    edit(_copy_demo(demo_dataset, root)).to_csv(root / "metadata.csv", index=False)
    result = run_pipeline(_settings(root, tmp_path), selection=INGESTION)
    assert not result.success
    assert message in _step_error(result, "raw_clips")


def test_without_child_ids_the_split_falls_back_loudly(demo_dataset, tmp_path) -> None:
    root = tmp_path / "data"
    _copy_demo(demo_dataset, root).drop(columns="child_id").to_csv(
        root / "metadata.csv", index=False
    )
    result = run_pipeline(_settings(root, tmp_path), selection=[*INGESTION, "data_splits"])
    assert result.success
    meta = metadata(result, "data_splits")
    assert meta["grouped_by_child"] is False
    assert "CLIP-LEVEL SPLIT" in meta["split_warning"]


def test_a_clip_that_fails_extraction_is_named_never_zeroed(demo_dataset, tmp_path) -> None:
    root = tmp_path / "data"
    meta = _copy_demo(demo_dataset, root)
    write_wav(root / "audio" / "blip.wav", tone(0.05))  # decodes, but too short for eGeMAPS
    blip = pd.DataFrame([{"clip_id": "blip", "path": "audio/blip.wav", "label": "junk"}])
    pd.concat([meta, blip]).to_csv(root / "metadata.csv", index=False)
    result = run_pipeline(_settings(root, tmp_path), selection=[*INGESTION, *FEATURES])
    check = check_results(result)["clip_features_complete"]
    assert not check.passed
    assert check.metadata["clips_without_features"].value == ["blip"]
    (failed,) = [
        m["failed_clips"] for m in all_metadata(result, "clip_feature_shards") if m["failed_clips"]
    ]
    assert failed[0]["clip_id"] == "blip" and "too short" in failed[0]["reason"]
    assert "blip" not in result.output_for_node("clip_features").index
