import shutil

import pandas as pd
import pytest

from tests.audio_files import tone, write_bad_clips, write_wav
from vocalbaby import dataset


def _dataset(root, rows: list[dict], header: list[str] | None = None):
    root.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(rows)
    frame.to_csv(root / "metadata.csv", index=False, columns=header)
    return root


def test_original_babblecor_column_names_work_unchanged(tmp_path) -> None:
    for name in ("0001_000101.wav", "0001_000102.wav"):
        write_wav(tmp_path / "clips" / name, tone())
    rows = [
        {"clip_ID": "0001_000101.wav", "Answer": "Non-canonical", "child_ID": "0001",
         "age_mo_round": 7, "child_gender": "F", "corpus": "Warlaumont"},
        {"clip_ID": "0001_000102.wav", "Answer": "Crying", "child_ID": "0001",
         "age_mo_round": 7, "child_gender": "F", "corpus": "Warlaumont"},
    ]  # fmt: skip
    manifest = dataset.read(_dataset(tmp_path, rows))
    assert list(manifest.columns) == list(dataset.MANIFEST_COLUMNS)
    assert manifest["label"].tolist() == ["non_canonical", "crying"]
    assert manifest["clip_id"].tolist() == ["0001_000101", "0001_000102"]
    assert manifest["age_months"].tolist() == [7, 7]
    assert manifest["uri"].str.endswith("clips/0001_000101.wav").iloc[0]


def test_demo_dataset_reads_back(demo_dataset) -> None:
    manifest = dataset.read(demo_dataset)
    assert len(manifest) == 300
    assert manifest["child_id"].nunique() >= 6
    assert manifest["uri"].map(lambda u: u.endswith(".wav")).all()


def test_missing_columns_are_named(tmp_path) -> None:
    write_wav(tmp_path / "a.wav", tone())
    with pytest.raises(dataset.DatasetError, match=r"missing column\(s\) label"):
        dataset.read(_dataset(tmp_path, [{"clip_id": "a", "child_id": "c1"}]))


def test_unknown_labels_are_named_with_their_rows(tmp_path) -> None:
    for name in "abc":
        write_wav(tmp_path / f"{name}.wav", tone())
    rows = [{"clip_id": "a", "label": "junk"}, {"clip_id": "b", "label": "babble"},
            {"clip_id": "c", "label": "cry"}]  # fmt: skip
    with pytest.raises(dataset.DatasetError, match="row 1: 'babble'"):
        dataset.read(_dataset(tmp_path, rows))


def test_missing_audio_files_and_duplicate_ids_are_named(tmp_path) -> None:
    write_wav(tmp_path / "a.wav", tone())
    with pytest.raises(dataset.DatasetError, match=r"audio file not found.*'ghost \(ghost\)'"):
        dataset.read(
            _dataset(
                tmp_path, [{"clip_id": "a", "label": "junk"}, {"clip_id": "ghost", "label": "junk"}]
            )
        )
    with pytest.raises(dataset.DatasetError, match=r"duplicate clip ids: \['a'\]"):
        dataset.read(_dataset(tmp_path, [{"clip_id": "a", "label": "junk"}] * 2))


def test_missing_or_unreadable_metadata(tmp_path) -> None:
    with pytest.raises(dataset.DatasetError, match="metadata file not found"):
        dataset.read(tmp_path)
    (tmp_path / "metadata.csv").write_bytes(b"\xff\xfe\x00garbage\x00")
    with pytest.raises(dataset.DatasetError, match=r"metadata\.csv"):
        dataset.read(tmp_path)


def test_inspect_hashes_measures_and_names_every_bad_clip(tmp_path) -> None:
    reasons = write_bad_clips(tmp_path / "audio")
    write_wav(tmp_path / "audio" / "good.wav", tone(0.4, rate=8000), rate=8000)
    rows = [{"clip_id": n.removesuffix(".wav"), "label": "junk"} for n in [*reasons, "good.wav"]]
    manifest = dataset.read(_dataset(tmp_path, rows))
    shutil.rmtree(tmp_path / "audio" / "good.wav", ignore_errors=True)
    inspected = dataset.inspect(manifest).set_index("clip_id")
    good = inspected.loc["good"]
    assert good["error"] is None
    assert (good["sample_rate"], round(good["duration_s"], 3)) == (8000, 0.4)
    assert len(good["sha256"]) == 64
    for name, reason in reasons.items():
        assert reason in inspected.loc[name.removesuffix(".wav"), "error"]
