"""Turn confirmed annotations into a training dataset (``metadata.csv`` + audio, as any dataset).

Each confirmed segment becomes 16 kHz mono WAV clips cut from its recording, cut the way the
service cuts a recording (:func:`vocalbaby.inference.plan`): a segment up to one window (plus the
service's tolerance) is one clip; a longer one is cut into 0.4 s windows, and its silent windows,
which the service never classifies, are left out. Each clip has one ``metadata.csv`` row:
``clip_id, label, child_id, age_months, gender, corpus`` plus provenance
(``recording, start_s, end_s, annotator, annotated_at, suggested_label, model_version``).
``vocalbaby.dataset.read(OUT)`` loads the result like any other dataset.

Where several people annotated one recording, ``policy`` decides:

- ``latest``: the annotation saved last wins for the whole recording;
- ``consensus``: the latest annotation's segments, each kept only if every other annotator who
  has the same item (see :mod:`vocalbaby.annotation.agreement`) gave it the same label.

Without a ``child_id`` in the recording's metadata the recording itself is the group, so its
clips never land in two splits.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd
import soundfile as sf

from vocalbaby import audio, dataset, inference, storage
from vocalbaby.annotation import agreement, validation
from vocalbaby.annotation.store import AnnotatedSegment, AnnotationError, AnnotationStore, Revision

Policy = Literal["latest", "consensus"]
COLUMNS = [
    "clip_id",
    "label",
    "child_id",
    "age_months",
    "gender",
    "corpus",
    "recording",
    "start_s",
    "end_s",
    "annotator",
    "annotated_at",
    "suggested_label",
    "model_version",
]
DEFAULT_CORPUS = "annotations"


@dataclass
class ExportResult:
    """The rows written, what was skipped and why, and the annotators' agreement."""

    manifest: pd.DataFrame
    skipped: list[dict[str, object]] = field(default_factory=list)
    agreement: list[agreement.PairAgreement] = field(default_factory=list)
    corrected: int = 0

    def summary(self) -> dict[str, object]:
        """Counts for logs and asset metadata."""
        labels = self.manifest["label"].value_counts().to_dict() if len(self.manifest) else {}
        return {
            "clips": len(self.manifest),
            "recordings": int(self.manifest["recording"].nunique()) if len(self.manifest) else 0,
            "annotators": sorted(set(self.manifest["annotator"])) if len(self.manifest) else [],
            "corrected_model_labels": self.corrected,
            "clips_per_label": labels,
            "skipped": len(self.skipped),
            "agreement": [a.to_dict() for a in self.agreement],
        }


def clip_id(recording_id: str, segment: AnnotatedSegment) -> str:
    """A stable, file-name-safe id for a segment of a recording, unique per recording id: the
    readable slug is followed by a hash of the exact id (``a b.wav`` and ``a_b.wav`` differ)."""
    slug = re.sub(r"[^A-Za-z0-9]+", "_", recording_id).strip("_")[:80]
    digest = hashlib.sha256(recording_id.encode()).hexdigest()[:10]
    start, end = round(segment.start_s * 1000), round(segment.end_s * 1000)
    return f"ann_{slug}_{digest}_{start:07d}_{end:07d}"


def readable_revisions(store: AnnotationStore) -> tuple[list[Revision], list[dict[str, object]]]:
    """Every annotator's latest revision that passes the save checks, and the skipped ones."""
    revisions, skipped = [], []
    for (recording_id, annotator), number in sorted(store.index().items()):
        try:
            revisions.append(validation.check_revision(store.load(recording_id, annotator, number)))
        except (AnnotationError, ValueError, TypeError) as exc:
            reason = f"revision {number} by {annotator} is invalid: {exc}"
            skipped.append({"recording": recording_id, "start_s": None, "reason": reason})
    return revisions, skipped


def chosen_segments(
    revisions: list[Revision], policy: Policy
) -> tuple[Revision, list[AnnotatedSegment], list[dict[str, object]]]:
    """The revision whose boundaries are used, its kept segments and the skipped ones."""
    latest = max(revisions, key=lambda r: (r.saved_at, r.annotator))
    kept = [s for s in latest.segments if s.confirmed]
    if policy == "latest" or len(revisions) == 1:
        return latest, kept, []
    conflicting: set[int] = set()
    for other in revisions:
        if other is not latest:
            pairs = agreement.matches(latest.segments, other.segments)
            conflicting |= {id(x) for x, y in pairs if x.label != y.label}
    skipped = [
        {"recording": latest.recording_id, "start_s": s.start_s, "reason": "annotators disagree"}
        for s in kept
        if id(s) in conflicting
    ]
    return latest, [s for s in kept if id(s) not in conflicting], skipped


def write_dataset(store: AnnotationStore, out: str, policy: Policy = "latest") -> ExportResult:
    """Write every confirmed segment in ``store`` as a dataset under ``out`` (folder or S3)."""
    if policy not in {"latest", "consensus"}:
        raise ValueError(f"policy must be 'latest' or 'consensus', not {policy!r}")
    revisions, skipped = readable_revisions(store)
    by_recording: dict[str, list[Revision]] = {}
    for rev in revisions:
        by_recording.setdefault(rev.recording_id, []).append(rev)
    rows, corrected = [], 0
    for recording_id, group in sorted(by_recording.items()):
        latest, segments, refused = chosen_segments(group, policy)
        skipped += refused
        if not segments:
            continue
        try:
            recording = audio.load(storage.read_bytes(latest.audio_uri), name=latest.audio_uri)
        except (FileNotFoundError, audio.AudioError) as exc:
            why = exc.reason if isinstance(exc, audio.AudioError) else "file not found"
            reason = f"audio {latest.audio_uri}: {why}"
            skipped.append({"recording": recording_id, "start_s": None, "reason": reason})
            continue
        for segment in segments:
            written, refused = _write_clips(out, latest, recording, segment)
            skipped += [
                {"recording": recording_id, "start_s": start, "reason": reason}
                for start, reason in refused
            ]
            rows += written
            corrected += bool(written) and segment.suggested_label not in {None, segment.label}
    manifest = pd.DataFrame(rows, columns=COLUMNS)
    storage.write_bytes(
        storage.join(out, dataset.METADATA_FILE), manifest.to_csv(index=False).encode()
    )
    return ExportResult(manifest, skipped, agreement.pairwise(revisions), corrected)


def _write_clips(
    out: str, rev: Revision, recording: audio.Audio, segment: AnnotatedSegment
) -> tuple[list[dict[str, object]], list[tuple[float, str]]]:
    """Cut and store one segment's clips: their metadata rows, and (start, reason) of each part
    left out."""
    first = round(segment.start_s * recording.sample_rate)
    last = min(round(segment.end_s * recording.sample_rate), len(recording.samples))
    samples = recording.samples[first:last]
    if len(samples) < audio.MIN_DURATION_S * recording.sample_rate:
        return [], [(segment.start_s, f"shorter than {audio.MIN_DURATION_S * 1000:.0f} ms")]
    part = audio.Audio(samples, recording.original_rate, recording.channels, recording.name)
    parts, _ = inference.plan(part, audio.CLIP_DURATION_S, audio.CLIP_DURATION_S)
    rows, refused = [], []
    for window in parts:
        start_s = round(segment.start_s + window.start_s, 4)
        if window.silent:
            refused.append((start_s, "silent window (the service does not classify it)"))
            continue
        clip = replace(segment, start_s=start_s, end_s=round(segment.start_s + window.end_s, 4))
        rows.append(_write_clip(out, rev, clip, window.samples, recording.sample_rate))
    return rows, refused


def _write_clip(
    out: str, rev: Revision, segment: AnnotatedSegment, samples: np.ndarray, rate: int
) -> dict[str, object]:
    """Store one clip; returns its metadata row."""
    name = clip_id(rev.recording_id, segment)
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="WAV", subtype="PCM_16")
    storage.write_bytes(storage.join(out, "audio", f"{name}.wav"), buffer.getvalue())
    meta = rev.recording
    return {
        "clip_id": name,
        "label": segment.label,
        "child_id": meta.get("child_id") or rev.recording_id,
        "age_months": meta.get("age_months"),
        "gender": meta.get("gender"),
        "corpus": meta.get("corpus") or DEFAULT_CORPUS,
        "recording": rev.recording_id,
        "start_s": segment.start_s,
        "end_s": segment.end_s,
        "annotator": segment.labelled_by,
        "annotated_at": segment.labelled_at,
        "suggested_label": segment.suggested_label,
        "model_version": rev.model_version,
    }


def read_export(uri: str) -> pd.DataFrame | None:
    """The manifest of an export (:func:`vocalbaby.dataset.read`), ``None`` if absent or empty."""
    metadata = storage.join(uri, dataset.METADATA_FILE)
    if not storage.exists(metadata) or pd.read_csv(io.BytesIO(storage.read_bytes(metadata))).empty:
        return None
    return dataset.read(uri)
