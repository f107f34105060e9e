"""vocalbaby.annotation.store: append-only revisions, last-writer check, validation, S3."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from vocalbaby.annotation.store import (
    AnnotatedSegment,
    AnnotationError,
    AnnotationStore,
    ConflictError,
    Revision,
    check_annotator,
)


def draft(
    recording: str = "day1/rec.wav", annotator: str = "alice", label: str = "crying"
) -> Revision:
    segments = (
        AnnotatedSegment(0.0, 0.4, label, "junk", {"junk": 0.6}, "model", annotator, "t"),
        AnnotatedSegment(0.4, 0.8),
    )
    return Revision(
        recording, annotator, 0, "", "/data/rec.wav", segments, "m1", recording={"duration_s": 0.8}
    )


def test_each_save_is_a_new_revision_and_nothing_is_overwritten(tmp_path) -> None:
    store = AnnotationStore(str(tmp_path))
    first = store.save(draft(), base_revision=0)
    second = store.save(draft(label="laughing"), base_revision=1)

    assert (first.revision, second.revision) == (1, 2)
    assert store.revisions("day1/rec.wav", "alice") == [1, 2]
    assert store.load("day1/rec.wav", "alice", 1).segments[0].label == "crying"
    assert store.latest("day1/rec.wav", "alice").segments[0].label == "laughing"
    assert store.latest("day1/rec.wav", "bob") is None
    assert store.index() == {("day1/rec.wav", "alice"): 2}
    assert second.saved_at >= first.saved_at and second.model_version == "m1"


def test_a_stale_base_revision_is_refused_naming_who_saved(tmp_path) -> None:
    store = AnnotationStore(str(tmp_path))
    store.save(draft(), 0)
    store.save(draft(label="junk"), 1)

    with pytest.raises(
        ConflictError,
        match=r"saved by alice at .* \(revision 2\) after the revision you edited \(1\)",
    ):
        store.save(draft(label="canonical"), 1)
    assert store.latest("day1/rec.wav", "alice").segments[0].label == "junk"


def test_racing_writers_from_one_revision_exactly_one_wins(tmp_path) -> None:
    store = AnnotationStore(str(tmp_path))
    store.save(draft(), 0)
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def write(i: int) -> None:
        barrier.wait()
        try:
            store.save(draft(label="junk"), 1)
            outcomes.append("saved")
        except ConflictError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 7 + ["saved"]
    assert store.revisions("day1/rec.wav", "alice") == [1, 2]


@pytest.mark.parametrize(
    ("segments", "message"),
    [
        ((AnnotatedSegment(0.0, 0.5), AnnotatedSegment(0.4, 0.8)), "overlaps the previous"),
        ((AnnotatedSegment(0.0, 2.0),), "outside the recording"),
        ((AnnotatedSegment(0.0, 0.4, "shouting"),), "unknown label 'shouting'"),
        ((AnnotatedSegment(0.2, 0.2),), "shorter than 10 ms"),
        ((AnnotatedSegment(0.0, 0.4, origin="magic"),), "unknown origin"),
    ],
)
def test_bad_segments_are_refused_with_the_reason(tmp_path, segments, message) -> None:
    with pytest.raises(AnnotationError, match=message):
        AnnotationStore(str(tmp_path)).save(replace(draft(), segments=segments), 0)


@pytest.mark.parametrize("name", ["", "a b", "../x", "-lead", "x" * 65, "é"])
def test_bad_annotator_names_are_refused(name) -> None:
    with pytest.raises(AnnotationError, match="annotator name"):
        check_annotator(name)


def test_recording_ids_cannot_escape_the_store(tmp_path) -> None:
    with pytest.raises(AnnotationError, match="cannot be stored"):
        AnnotationStore(str(tmp_path)).save(draft(recording="../outside.wav"), 0)


@pytest.mark.integration
def test_the_store_on_s3_keeps_revisions_and_refuses_stale_writes(s3_server, monkeypatch) -> None:
    for key, value in s3_server.env().items():
        monkeypatch.setenv(key, value)
    s3_server.client().create_bucket(Bucket="annotations-test")
    store = AnnotationStore("s3://annotations-test/team")
    store.save(draft(), 0)
    store.save(draft(annotator="bob", label="junk"), 0)

    with pytest.raises(ConflictError):
        store.save(draft(), 0)
    assert store.index() == {("day1/rec.wav", "alice"): 1, ("day1/rec.wav", "bob"): 1}
    assert [r.annotator for r in store.all_latest()] == ["alice", "bob"]
