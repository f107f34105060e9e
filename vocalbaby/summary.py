"""The numbers papers report, per recording or per child (and age): counts and minutes per class,
volubility and the canonical babbling ratio with bootstrap intervals.

Input is a table of labelled segments (``recording, child_id, age_months, recording_s, start_s,
end_s, label``) from the model's prelabels (:func:`segments_from_catalog`) or people's confirmed
annotations (:func:`segments_from_store`). Touching segments of one class (the model's 400 ms
windows) are merged into one vocalization before counting.

- ``vocalizations``: infant vocalizations (every class but ``junk``); ``vocalizations_per_min``
  divides by the recorded minutes.
- ``volubility_per_min``: speech-like vocalizations (canonical + non-canonical) per minute.
- ``cbr``: canonical / (canonical + non-canonical), with a 95 % percentile bootstrap interval:
  recordings are resampled (per child), then vocalizations within each resampled recording.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from vocalbaby.annotation.catalog import Catalog
from vocalbaby.annotation.export import chosen_segments, readable_revisions
from vocalbaby.annotation.store import AnnotationStore, Revision
from vocalbaby.labels import CLASSES

By = Literal["recording", "child"]
SEGMENT_COLUMNS = [
    "recording",
    "child_id",
    "age_months",
    "recording_s",
    "start_s",
    "end_s",
    "label",
]
INFANT = [c for c in CLASSES if c != "junk"]
SPEECH_LIKE = ["canonical", "non_canonical"]
MERGE_GAP_S = 0.01
DEFAULT_RESAMPLES = 2000
CONFIDENCE = 0.95


def segments_from_catalog(catalog: Catalog) -> pd.DataFrame:
    """The model's segments of every classified recording (prelabels need no audio; silent
    windows come with no label)."""
    rows = [
        _row(rec.id, rec.meta, rec.duration_s, s.start_s, s.end_s, s.label)
        for rec in list(catalog.recordings.values())  # a snapshot: uploads add recordings
        if rec.duration_s
        for s in rec.suggestions
    ]
    return pd.DataFrame(rows, columns=SEGMENT_COLUMNS)


def segments_from_store(store: AnnotationStore) -> pd.DataFrame:
    """People's confirmed segments in a store (the annotation saved last wins, as in export)."""
    return segments_from_revisions(readable_revisions(store)[0])


def segments_from_revisions(revisions: list[Revision]) -> pd.DataFrame:
    """Confirmed segments of the latest revision of each recording among ``revisions``."""
    by_recording: dict[str, list[Revision]] = {}
    for rev in revisions:
        by_recording.setdefault(rev.recording_id, []).append(rev)
    rows = []
    for group in by_recording.values():
        latest, kept, _ = chosen_segments(group, "latest")
        duration = latest.recording.get("duration_s")
        meta = latest.recording
        rows += [
            _row(latest.recording_id, meta, duration, s.start_s, s.end_s, s.label) for s in kept
        ]
    return pd.DataFrame(rows, columns=SEGMENT_COLUMNS)


def _row(
    recording: str,
    meta: dict[str, object],
    duration: object,
    start: float,
    end: float,
    label: str | None,
) -> dict[str, object]:
    age = pd.to_numeric(meta.get("age_months"), errors="coerce")
    return {
        "recording": recording,
        "child_id": str(meta.get("child_id") or recording),
        "age_months": age,
        "recording_s": float(duration) if duration is not None else np.nan,
        "start_s": start,
        "end_s": end,
        "label": label,
    }


def vocalizations(segments: pd.DataFrame) -> pd.DataFrame:
    """Touching segments of one class in one recording merged into one row each."""
    labelled = segments.dropna(subset=["label"]).sort_values(["recording", "start_s"])
    if labelled.empty:
        return labelled
    previous = labelled.groupby("recording")[["end_s", "label"]].shift()
    starts_new = (labelled["label"] != previous["label"]) | (
        labelled["start_s"] - previous["end_s"] > MERGE_GAP_S
    )
    run = starts_new.cumsum()
    return labelled.groupby(run, sort=False).agg(
        recording=("recording", "first"),
        child_id=("child_id", "first"),
        age_months=("age_months", "first"),
        recording_s=("recording_s", "first"),
        start_s=("start_s", "first"),
        end_s=("end_s", "last"),
        label=("label", "first"),
    )


def summarize(
    segments: pd.DataFrame, by: By, resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> pd.DataFrame:
    """One row per recording, or per child and age (age blank when unknown)."""
    if by not in ("recording", "child"):
        raise ValueError(f"by must be 'recording' or 'child', not {by!r}")
    events = vocalizations(segments)
    events = events.assign(minutes=(events["end_s"] - events["start_s"]) / 60)
    per_rec = _per_recording(segments, events)
    keys = (
        ["recording", "child_id", "age_months"] if by == "recording" else ["child_id", "age_months"]
    )
    rng = np.random.default_rng(seed)
    rows = []
    for key, group in per_rec.groupby(keys, dropna=False, sort=True):
        row = dict(zip(keys, key, strict=True))
        row["recordings"] = len(group)
        row["recorded_min"] = group["recorded_min"].sum()
        for c in CLASSES:
            row[f"count_{c}"] = int(group[f"count_{c}"].sum())
            row[f"minutes_{c}"] = group[f"minutes_{c}"].sum()
        row["vocalizations"] = sum(row[f"count_{c}"] for c in INFANT)
        speech = sum(row[f"count_{c}"] for c in SPEECH_LIKE)
        minutes = row["recorded_min"]
        row["vocalizations_per_min"] = row["vocalizations"] / minutes if minutes else np.nan
        row["volubility_per_min"] = speech / minutes if minutes else np.nan
        row["cbr"] = row["count_canonical"] / speech if speech else np.nan
        low, high = cbr_interval(
            group["count_canonical"].to_numpy(),
            group["count_non_canonical"].to_numpy(),
            rng,
            resamples,
        )
        rows.append(row | {"cbr_low": low, "cbr_high": high})
    return pd.DataFrame(rows).round(4)


def _per_recording(segments: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Counts and minutes per class for every recording (zeros where a class is absent)."""
    recordings = segments.groupby("recording").agg(
        child_id=("child_id", "first"),
        age_months=("age_months", "first"),
        recorded_min=("recording_s", lambda s: s.iloc[0] / 60),
    )
    by_class = events.groupby(["recording", "label"])["minutes"].agg(["size", "sum"])
    counts = by_class["size"].unstack(fill_value=0) if len(events) else pd.DataFrame()
    minutes = by_class["sum"].unstack(fill_value=0.0) if len(events) else pd.DataFrame()
    counts = counts.reindex(index=recordings.index, columns=list(CLASSES), fill_value=0)
    minutes = minutes.reindex(index=recordings.index, columns=list(CLASSES), fill_value=0.0)
    return (
        recordings.join(counts.add_prefix("count_"))
        .join(minutes.add_prefix("minutes_"))
        .reset_index()
    )


def cbr_interval(
    canonical: np.ndarray, non_canonical: np.ndarray, rng: np.random.Generator, resamples: int
) -> tuple[float, float]:
    """95 % percentile interval of the pooled CBR: recordings resampled with replacement, then
    each resampled recording's vocalizations (a binomial draw at its own ratio)."""
    speech = canonical + non_canonical
    if speech.sum() == 0 or resamples < 1:
        return np.nan, np.nan
    picks = rng.integers(0, len(speech), size=(resamples, len(speech)))
    ratio = np.divide(canonical, speech, out=np.zeros(len(speech)), where=speech > 0)
    drawn = rng.binomial(speech[picks], ratio[picks])
    totals = speech[picks].sum(axis=1)
    ok = totals > 0
    estimates = drawn.sum(axis=1)[ok] / totals[ok]
    tail = (1 - CONFIDENCE) / 2 * 100
    return float(np.percentile(estimates, tail)), float(np.percentile(estimates, 100 - tail))
