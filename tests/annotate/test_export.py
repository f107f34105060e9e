"""Agreement (Cohen's kappa over matched segments) and the export to a training dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sklearn.metrics import cohen_kappa_score
from typer.testing import CliRunner

from vocalbaby import audio, dataset
from vocalbaby.annotation import agreement
from vocalbaby.annotation.export import write_dataset
from vocalbaby.annotation.store import AnnotatedSegment, AnnotationStore, Revision
from vocalbaby_cli.app import app

RATE = audio.SAMPLE_RATE


def seg(
    start: float, end: float, label: str | None, who: str | None = "x", suggested: str | None = None
) -> AnnotatedSegment:
    return AnnotatedSegment(
        start, end, label, suggested, None, "model", who, "2026-11-22T00:00:00Z" if who else None
    )


def save(store: AnnotationStore, rec: str, who: str, audio_uri: str, segments, **meta) -> Revision:
    segments = tuple(
        AnnotatedSegment(**{**s.__dict__, "labelled_by": who if s.labelled_by else None})
        for s in segments
    )
    draft = Revision(
        rec, who, 0, "", audio_uri, segments, "model-7", recording={"duration_s": 1.6, **meta}
    )
    latest = store.latest(rec, who)
    return store.save(draft, latest.revision if latest else 0)


def test_kappa_matches_sklearn_on_matched_segments_even_with_moved_boundaries() -> None:
    a_labels = ["crying", "crying", "junk", "laughing", "junk", "canonical"]
    b_labels = ["crying", "junk", "junk", "laughing", "junk", "non_canonical"]
    a = tuple(seg(i * 0.4, i * 0.4 + 0.4, lab) for i, lab in enumerate(a_labels))
    b = tuple(seg(i * 0.4 + 0.05, i * 0.4 + 0.42, lab) for i, lab in enumerate(b_labels))  # moved
    unconfirmed = seg(3.0, 3.4, "junk", who=None)
    revs = [
        Revision("r", "ann", 1, "t", "u", (*a, unconfirmed)),
        Revision("r", "bob", 1, "t", "u", (*b, unconfirmed)),
    ]

    (pair,) = agreement.pairwise(revs)

    assert (pair.first, pair.second, pair.items) == ("ann", "bob", 6)
    assert pair.kappa == pytest.approx(cohen_kappa_score(a_labels, b_labels))
    assert pair.agreement == pytest.approx(4 / 6)
    assert agreement.disagrees(revs)
    assert not agreement.disagrees([revs[0], Revision("r", "cy", 1, "t", "u", a)])


def test_segments_that_barely_overlap_are_not_the_same_item() -> None:
    assert agreement.matches([seg(0.0, 0.4, "junk")], [seg(0.3, 0.7, "junk")]) == []


def test_export_writes_confirmed_segments_as_a_dataset(tmp_path: Path, recording_file: str) -> None:
    store = AnnotationStore(str(tmp_path / "store"))
    save(
        store,
        "day1/rec.wav",
        "alice",
        recording_file,
        [
            seg(0.0, 0.4, "crying", suggested="junk"),
            seg(0.4, 0.9, "junk", suggested="junk"),  # one window, as the service cuts it
            seg(0.9, 1.2, "laughing", who=None, suggested="laughing"),  # not confirmed: left out
            seg(1.2, 1.23, "junk"),  # 30 ms: too short for a clip
        ],
        child_id="child-7",
        age_months="11",
    )

    result = write_dataset(store, str(tmp_path / "out"))

    manifest = dataset.read(tmp_path / "out")
    assert manifest["label"].tolist() == ["crying", "junk"]
    assert manifest["child_id"].tolist() == ["child-7", "child-7"]
    assert manifest["age_months"].tolist() == [11, 11]
    assert manifest["corpus"].unique().tolist() == ["annotations"]
    clip = audio.load(manifest["uri"][1])
    assert clip.duration_s == pytest.approx(0.4, abs=1e-3)
    original = audio.load(recording_file).samples[int(0.4 * RATE) : int(0.8 * RATE)]
    np.testing.assert_allclose(clip.samples, original, atol=1 / 2**15)
    assert result.corrected == 1
    assert result.skipped == [
        {"recording": "day1/rec.wav", "start_s": 1.2, "reason": "shorter than 50 ms"}
    ]
    assert result.manifest["annotator"].unique().tolist() == ["alice"]
    assert result.manifest["model_version"].unique().tolist() == ["model-7"]


def test_a_long_segment_is_cut_into_windows_as_the_service_cuts_it(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    samples = np.concatenate(
        [0.1 * rng.standard_normal(int(1.2 * RATE)), np.zeros(int(0.4 * RATE))]
    )
    sf.write(tmp_path / "long.wav", samples.astype(np.float32), RATE)
    store = AnnotationStore(str(tmp_path / "store"))
    save(store, "long.wav", "alice", str(tmp_path / "long.wav"), [seg(0.0, 1.6, "crying")])

    result = write_dataset(store, str(tmp_path / "out"))

    manifest = dataset.read(tmp_path / "out")
    assert result.manifest[["start_s", "end_s"]].values.tolist() == [
        [0.0, 0.4],
        [0.4, 0.8],
        [0.8, 1.2],
    ]
    assert manifest["label"].unique().tolist() == ["crying"]
    assert [audio.load(u).duration_s for u in manifest["uri"]] == pytest.approx([0.4] * 3)
    assert manifest["clip_id"].is_unique
    assert result.skipped == [
        {
            "recording": "long.wav",
            "start_s": 1.2,
            "reason": "silent window (the service does not classify it)",
        }
    ]


def test_policies_for_recordings_with_several_annotators(
    tmp_path: Path, recording_file: str
) -> None:
    store = AnnotationStore(str(tmp_path / "store"))
    save(
        store, "rec.wav", "alice", recording_file, [seg(0.0, 0.4, "crying"), seg(0.4, 0.8, "junk")]
    )
    save(
        store,
        "rec.wav",
        "bob",
        recording_file,
        [seg(0.0, 0.4, "crying"), seg(0.4, 0.8, "laughing")],
    )

    latest = write_dataset(store, str(tmp_path / "latest"), "latest")
    consensus = write_dataset(store, str(tmp_path / "consensus"), "consensus")

    assert latest.manifest["label"].tolist() == ["crying", "laughing"]  # bob saved last
    assert latest.manifest["child_id"].unique().tolist() == [
        "rec.wav"
    ]  # the recording is the group
    assert consensus.manifest["label"].tolist() == ["crying"]
    assert consensus.skipped[0]["reason"] == "annotators disagree"
    (pair,) = consensus.agreement
    assert (pair.items, pair.agreement) == (2, 0.5)


def test_a_recording_whose_audio_vanished_is_skipped_with_the_reason(tmp_path: Path) -> None:
    store = AnnotationStore(str(tmp_path / "store"))
    save(store, "gone.wav", "alice", str(tmp_path / "gone.wav"), [seg(0.0, 0.4, "junk")])

    result = write_dataset(store, str(tmp_path / "out"))

    assert result.manifest.empty
    assert result.skipped == [
        {
            "recording": "gone.wav",
            "start_s": None,
            "reason": f"audio {tmp_path / 'gone.wav'}: file not found",
        }
    ]


def test_export_annotations_command_prints_counts_and_kappa(
    tmp_path: Path, recording_file: str
) -> None:
    store = AnnotationStore(str(tmp_path / "store"))
    for who, labels in (
        ("alice", ["crying", "junk", "junk"]),
        ("bob", ["crying", "junk", "laughing"]),
    ):
        save(
            store,
            "rec.wav",
            who,
            recording_file,
            [seg(i * 0.4, i * 0.4 + 0.4, lab) for i, lab in enumerate(labels)],
        )

    result = CliRunner().invoke(
        app, ["export-annotations", str(tmp_path / "out"), "--store", str(tmp_path / "store")]
    )

    assert result.exit_code == 0, result.output
    assert "wrote 3 clip(s) from 1 recording(s)" in result.output
    kappa = cohen_kappa_score(["crying", "junk", "junk"], ["crying", "junk", "laughing"])
    assert (
        f"agreement alice vs bob: kappa {kappa:.3f} over 3 item(s) (66.7% identical)"
        in result.output
    )
    bad = CliRunner().invoke(app, ["export-annotations", str(tmp_path / "x"), "--policy", "vote"])
    assert bad.exit_code == 2 and "latest" in bad.output


COLLIDING_NAMES = ["a b.wav", "a_b.wav", "a.b.wav", "x/y.wav", "x_y.wav"]


def test_recordings_whose_names_slug_alike_get_distinct_clip_ids(
    recording_file: str, tmp_path: Path
) -> None:
    store = AnnotationStore(str(tmp_path / "store"))
    for name in COLLIDING_NAMES:
        save(store, name, "ann", recording_file, (seg(0.0, 0.4, "junk"),))

    result = write_dataset(store, str(tmp_path / "out"))

    exported = dataset.read(tmp_path / "out")  # refuses duplicate clip ids
    assert len(exported) == len(COLLIDING_NAMES) == exported["clip_id"].nunique()
    assert sorted(result.manifest["recording"]) == sorted(COLLIDING_NAMES)
    assert len(list((tmp_path / "out" / "audio").glob("*.wav"))) == len(COLLIDING_NAMES)


def test_a_stored_revision_that_fails_the_checks_is_skipped_not_fatal(
    recording_file: str, tmp_path: Path
) -> None:
    store = AnnotationStore(str(tmp_path / "store"))
    save(store, "good.wav", "ann", recording_file, (seg(0.0, 0.4, "junk"),))
    bad = Revision(
        "bad.wav", "ann", 1, "t", recording_file, (seg(0.0, 0.4, "junk", suggested={"a": 1}),)
    )
    folder = tmp_path / "store" / "bad.wav" / "@ann"
    folder.mkdir(parents=True)
    (folder / "000001.json").write_bytes(bad.to_json())  # as the old app stored it

    result = CliRunner().invoke(
        app, ["export-annotations", str(tmp_path / "out"), "--store", str(tmp_path / "store")]
    )

    assert result.exit_code == 0, result.output
    assert "wrote 1 clip(s) from 1 recording(s)" in result.output
    assert "skipped: bad.wav" in result.output and "suggested_label" in result.output
