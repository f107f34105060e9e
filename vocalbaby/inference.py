"""Classify recordings: a single clip, or a timeline of windows for a long recording.

The service and the ``vocalbaby predict`` command both call :func:`analyze_many`, so a file gets
the same result wherever it is classified, through the same feature and model code as training
(:func:`vocalbaby.features.extract_one`, :meth:`vocalbaby.model.ModelBundle.predict_proba`).

- A recording no longer than one window (default :data:`vocalbaby.audio.CLIP_DURATION_S`, the
  training clip length, plus :data:`SINGLE_CLIP_TOLERANCE_S`) is classified as one clip, silent
  or not: the training data holds quiet clips too.
- A longer recording is cut by :func:`vocalbaby.audio.windows`; silent windows are marked and not
  classified. The file label is the most frequent label among the classified windows (majority
  vote; a tie goes to the label with the higher mean probability), the file probabilities are the
  mean of those windows' probabilities, and the summary gives each label's share of the classified
  windows. A recording whose windows are all silent has no label (``None``).

Features of every window of every file in one call are extracted together with
:func:`vocalbaby.features.extract_batch`, so long files and batches use all cores.

>>> analysis = analyze(audio.load("recording.wav"), ModelBundle.load("model"))  # doctest: +SKIP
>>> analysis.prediction.to_dict()["label"]  # doctest: +SKIP
'crying'
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from vocalbaby import audio, features
from vocalbaby.model import ModelBundle

SINGLE_CLIP_TOLERANCE_S = 0.05

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Segment:
    """One classified (or silent, or failed) stretch of a recording."""

    start_s: float
    end_s: float
    silent: bool = False
    label: str | None = None
    probabilities: dict[str, float] | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class Summary:
    """How a long recording's windows were classified; ``shares`` is over classified windows."""

    segments: int
    silent: int
    classified: int
    shares: dict[str, float]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class Prediction:
    """The result for one file; ``segments`` always holds at least one entry.

    A single clip has one segment spanning the file and ``timeline`` false.
    """

    file: str
    label: str | None
    probabilities: dict[str, float] | None
    duration_s: float
    segments: list[Segment]
    timeline: bool
    summary: Summary | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form; segments and summary only for a timeline."""
        out: dict[str, object] = {
            "file": self.file,
            "label": self.label,
            "probabilities": self.probabilities,
            "duration_s": round(self.duration_s, 4),
        }
        if self.timeline:
            out["segments"] = [s.to_dict() for s in self.segments]
            out["summary"] = self.summary.to_dict() if self.summary else None
        return out

    @property
    def error(self) -> str | None:
        """Why a single clip could not be classified (``None`` when it was, or for a timeline)."""
        return None if self.timeline else self.segments[0].error


@dataclass(frozen=True)
class Analysis:
    """A prediction plus the model input and output of each classified segment.

    ``features`` (88 named columns) and ``probabilities`` (one column per class) are indexed by
    the position of the segment in ``prediction.segments``.
    """

    prediction: Prediction
    features: pd.DataFrame
    probabilities: pd.DataFrame = field(repr=False)


def plan(recording: audio.Audio, window_s: float, hop_s: float) -> tuple[list[audio.Window], bool]:
    """The windows to classify and whether they form a timeline (else: one whole-file clip)."""
    if recording.duration_s <= window_s + SINGLE_CLIP_TOLERANCE_S:
        whole = audio.Window(0.0, recording.duration_s, recording.samples, silent=False)
        return [whole], False
    return audio.windows(recording, window_s, hop_s), True


def extract_features(
    signals: dict[Hashable, np.ndarray],
    workers: int | None = None,
    progress: Progress | None = None,
    deadline: float | None = None,
    feature_set: str = features.DEFAULT_FEATURE_SET,
) -> features.ExtractionResult:
    """Features (of ``feature_set``) of many signals at once; one signal is done in the calling
    thread (no pool)."""
    if len(signals) != 1:
        return features.extract_batch(signals, workers, progress, deadline, feature_set)
    ((key, samples),) = signals.items()
    names = list(features.feature_names(feature_set))
    try:
        row = features.extract_one(samples, feature_set)
    except ValueError as exc:
        empty = pd.DataFrame(columns=names, dtype=np.float32)
        return features.ExtractionResult(empty, {key: str(exc)})
    frame = pd.DataFrame(row[np.newaxis], index=pd.Index([key], name="key"), columns=names)
    if progress:
        progress(1, 1)
    return features.ExtractionResult(frame)


def analyze_many(
    recordings: Sequence[audio.Audio],
    bundle: ModelBundle,
    window_s: float = audio.CLIP_DURATION_S,
    hop_s: float = audio.CLIP_DURATION_S,
    workers: int | None = None,
    progress: Progress | None = None,
    deadline: float | None = None,
) -> list[Analysis]:
    """Classify many recordings with one feature batch and one model call.

    Features are of the bundle's feature set. Each recording's windows are one recording for
    a bundle that normalises per recording
    (:mod:`vocalbaby.normalisation`); a recording of one window is normalised on its own.

    ``progress(done, total)`` counts feature extractions (non-silent windows). Past
    ``deadline`` (:func:`time.monotonic`) the work stops with
    :class:`vocalbaby.features.DeadlineExceeded`.
    """
    plans = [plan(r, window_s, hop_s) for r in recordings]
    keys = [
        (i, j)
        for i, (windows, _) in enumerate(plans)
        for j, w in enumerate(windows)
        if not w.silent
    ]
    signals = {k: plans[i][0][j].samples for k, (i, j) in enumerate(keys)}
    extracted = extract_features(signals, workers, progress, deadline, bundle.feature_set)
    table = extracted.features
    owner = np.array([keys[k][0] for k in table.index], dtype=int)
    proba = (
        bundle.predict_proba(table, recordings=owner)
        if len(table)
        else pd.DataFrame(index=table.index, columns=bundle.classes, dtype=np.float32)
    )
    segment = pd.Index([keys[k][1] for k in table.index], dtype=int, name="segment")
    table, proba = table.set_axis(segment, axis=0), proba.set_axis(segment, axis=0)
    failures: dict[int, dict[int, str]] = {}
    for k, reason in extracted.failures.items():
        failures.setdefault(keys[k][0], {})[keys[k][1]] = reason
    return [
        _assemble(
            recording, windows, timeline, table[owner == i], proba[owner == i], failures.get(i, {})
        )
        for i, (recording, (windows, timeline)) in enumerate(zip(recordings, plans, strict=True))
    ]


def analyze(
    recording: audio.Audio,
    bundle: ModelBundle,
    window_s: float = audio.CLIP_DURATION_S,
    hop_s: float = audio.CLIP_DURATION_S,
    workers: int | None = None,
) -> Analysis:
    """Classify one recording (see :func:`analyze_many`)."""
    return analyze_many([recording], bundle, window_s, hop_s, workers)[0]


PREDICT_CHUNK = 32


def predict_files(
    paths: Sequence[str | os.PathLike[str]],
    bundle: ModelBundle,
    window_s: float = audio.CLIP_DURATION_S,
    hop_s: float = audio.CLIP_DURATION_S,
    workers: int | None = None,
    progress: Progress | None = None,
) -> tuple[dict[str, Prediction], dict[str, str]]:
    """Classify files in chunks of :data:`PREDICT_CHUNK` (bounded memory for long lists).

    Returns predictions and unreadable files (reason), both keyed by the path as given;
    ``progress(done, total)`` counts files.
    """
    predictions: dict[str, Prediction] = {}
    unreadable: dict[str, str] = {}
    for start in range(0, len(paths), PREDICT_CHUNK):
        chunk, loaded = paths[start : start + PREDICT_CHUNK], {}
        for path in chunk:
            try:
                loaded[str(path)] = audio.load(path)
            except audio.AudioError as exc:
                unreadable[str(path)] = exc.reason
        analyses = analyze_many(list(loaded.values()), bundle, window_s, hop_s, workers)
        predictions |= {k: a.prediction for k, a in zip(loaded, analyses, strict=True)}
        if progress:
            progress(min(start + PREDICT_CHUNK, len(paths)), len(paths))
    return predictions, unreadable


def _assemble(
    recording: audio.Audio,
    windows: list[audio.Window],
    timeline: bool,
    table: pd.DataFrame,
    proba: pd.DataFrame,
    failures: dict[int, str],
) -> Analysis:
    classes = [str(c) for c in proba.columns]
    rows = dict(zip(proba.index, proba.to_numpy(dtype=np.float64), strict=True))
    segments = [_segment(w, classes, rows.get(j), failures.get(j)) for j, w in enumerate(windows)]
    label, probabilities = _file_label(classes, proba.to_numpy(dtype=np.float64))
    summary = _summary(segments, classes) if timeline else None
    prediction = Prediction(
        recording.name, label, probabilities, recording.duration_s, segments, timeline, summary
    )
    return Analysis(prediction, table, proba)


def _segment(
    window: audio.Window, classes: list[str], proba: np.ndarray | None, error: str | None
) -> Segment:
    start, end, silent = round(window.start_s, 4), round(window.end_s, 4), bool(window.silent)
    if proba is None:
        return Segment(start, end, silent, error=error)
    return Segment(start, end, silent, classes[int(proba.argmax())], _as_dict(classes, proba))


def _file_label(
    classes: list[str], proba: np.ndarray
) -> tuple[str | None, dict[str, float] | None]:
    """Majority label of the classified segments (ties: higher mean probability), mean proba."""
    if not len(proba):
        return None, None
    mean = proba.mean(axis=0)
    votes = np.bincount(proba.argmax(axis=1), minlength=len(classes))
    tied_mean = np.where(votes == votes.max(), mean, -np.inf)
    return classes[int(tied_mean.argmax())], _as_dict(classes, mean)


def _summary(segments: list[Segment], classes: list[str]) -> Summary:
    labels = [s.label for s in segments if s.label is not None]
    shares = {c: (labels.count(c) / len(labels) if labels else 0.0) for c in classes}
    silent = sum(s.silent for s in segments)
    return Summary(len(segments), silent, len(labels), shares)


def _as_dict(classes: list[str], values: np.ndarray) -> dict[str, float]:
    return {c: round(float(v), 6) for c, v in zip(classes, values, strict=True)}
