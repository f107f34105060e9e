"""The recordings an annotation session works on, with the model's suggested segments.

Two sources:

- a **folder** of wav/flac/ogg files, classified on start with the current model (the same
  :func:`vocalbaby.inference.predict_files` as ``vocalbaby predict``); without a model the
  windows come unlabelled;
- a **prelabels file** written by ``vocalbaby predict --out FILE.json|FILE.csv``; audio paths
  in it are resolved as given, then relative to the file's folder.

Unreadable audio stays in the catalog with its error, so the page can list it. A recording's
id is its path relative to the common folder of all files (POSIX separators).
Per-recording metadata (``child_id``, ``age_months``, ``gender``, ``corpus``) comes from a CSV
with a ``path``, ``file`` or ``clip_id`` column, or the folder's own ``metadata.csv``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from vocalbaby import audio, inference
from vocalbaby.annotation.store import AnnotatedSegment
from vocalbaby.dataset import AUDIO_SUFFIXES, METADATA_FILE
from vocalbaby.labels import CLASSES
from vocalbaby.model import ModelBundle

META_COLUMNS = ("child_id", "age_months", "gender", "corpus")
KEY_COLUMNS = ("path", "file", "clip_id")


class CatalogError(ValueError):
    """A source that cannot be opened; the message names the file and the problem."""


@dataclass
class Recording:
    """One file to review: where it is, the model's suggestion, or why it cannot be used."""

    id: str
    uri: str
    duration_s: float | None = None
    label: str | None = None
    probabilities: dict[str, float] | None = None
    suggestions: list[AnnotatedSegment] = field(default_factory=list)
    error: str | None = None
    meta: dict[str, object] = field(default_factory=dict)

    @property
    def confidence(self) -> float | None:
        """The lowest top-class probability among the suggested segments (the weakest spot)."""
        tops = [max(s.suggested_probabilities.values()) for s in self.suggestions if _scored(s)]
        return min(tops) if tops else None


def _scored(segment: AnnotatedSegment) -> bool:
    return bool(segment.suggested_probabilities)


@dataclass
class Catalog:
    """The session's recordings by id, and the model version that suggested their labels."""

    recordings: dict[str, Recording]
    model_version: str | None
    source: str


def audio_files(folder: Path) -> list[Path]:
    """Every wav/flac/ogg file under ``folder``, sorted."""
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES
    )


def from_folder(
    folder: Path,
    bundle: ModelBundle | None,
    metadata: pd.DataFrame | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Catalog:
    """Classify every audio file under ``folder`` (or only window it, without a model)."""
    files = audio_files(folder)
    if not files:
        raise CatalogError(f"{folder}: no wav, flac or ogg files found")
    if metadata is None and (folder / METADATA_FILE).exists():
        metadata = read_metadata(folder / METADATA_FILE)
    if bundle is None:
        predictions, unreadable = _unlabelled(files)
    else:
        predictions, unreadable = inference.predict_files(
            files, bundle, workers=workers, progress=progress
        )
    recordings = {}
    for path in files:
        rec_id = path.relative_to(folder).as_posix()
        recordings[rec_id] = _entry(path, rec_id, predictions, unreadable, metadata)
    return Catalog(recordings, bundle.version if bundle else None, str(folder))


def classify(
    path: Path, rec_id: str, bundle: ModelBundle | None, meta: dict[str, object] | None = None
) -> Recording:
    """One new file as a catalog entry (a studio upload), classified like a folder's files."""
    if bundle is None:
        predictions, unreadable = _unlabelled([path])
    else:
        predictions, unreadable = inference.predict_files([path], bundle)
    entry = _entry(path, rec_id, predictions, unreadable, None)
    entry.meta = dict(meta or {})
    return entry


def _entry(
    path: Path,
    rec_id: str,
    predictions: dict[str, inference.Prediction],
    unreadable: dict[str, str],
    metadata: pd.DataFrame | None,
) -> Recording:
    entry = Recording(rec_id, str(path.resolve()), error=unreadable.get(str(path)))
    if str(path) in predictions:
        _suggest(entry, predictions[str(path)])
    entry.meta = _meta_for(rec_id, metadata)
    return entry


def _unlabelled(files: list[Path]) -> tuple[dict[str, inference.Prediction], dict[str, str]]:
    """Window every file as the model would, with no labels (a session without a model)."""
    predictions, unreadable = {}, {}
    for path in files:
        try:
            recording = audio.load(path)
        except audio.AudioError as exc:
            unreadable[str(path)] = exc.reason
            continue
        windows, timeline = inference.plan(recording, audio.CLIP_DURATION_S, audio.CLIP_DURATION_S)
        segments = [inference.Segment(w.start_s, w.end_s, bool(w.silent)) for w in windows]
        predictions[str(path)] = inference.Prediction(
            str(path), None, None, recording.duration_s, segments, timeline
        )
    return predictions, unreadable


def _suggest(entry: Recording, prediction: inference.Prediction) -> None:
    entry.duration_s = prediction.duration_s
    entry.label, entry.probabilities = prediction.label, prediction.probabilities
    entry.suggestions = [
        AnnotatedSegment(
            round(s.start_s, 4),
            round(s.end_s, 4),
            label=s.label,
            suggested_label=s.label,
            suggested_probabilities=s.probabilities,
        )
        for s in prediction.segments
    ]


def from_prelabels(path: Path, metadata: pd.DataFrame | None = None) -> Catalog:
    """Read the output of ``vocalbaby predict --out FILE.json|FILE.csv``."""
    if not path.is_file():
        raise CatalogError(f"{path}: prelabels file not found")
    if path.suffix.lower() == ".json":
        predictions, errors, version = _read_json(path)
    elif path.suffix.lower() == ".csv":
        predictions, errors, version = _read_csv(path), {}, None
    else:
        raise CatalogError(f"{path}: prelabels must be the .json or .csv of `vocalbaby predict`")
    located = {name: _locate(name, path.parent) for name in [*predictions, *errors]}
    if not located:
        raise CatalogError(f"{path}: holds no results")
    base = Path(os.path.commonpath([p.parent for p in located.values()]))
    recordings = {}
    for name, file in located.items():
        rec_id = file.relative_to(base).as_posix()
        entry = Recording(rec_id, str(file), error=errors.get(name))
        if name in predictions:
            _suggest(entry, predictions[name])
            if not file.is_file():
                entry.error = "file not found"
        entry.meta = _meta_for(rec_id, metadata)
        recordings[rec_id] = entry
    return Catalog(recordings, version, str(path))


def _locate(name: str, folder: Path) -> Path:
    given = Path(name)
    if given.is_file() or given.is_absolute():
        return given.resolve()
    return (folder / given).resolve()


def _read_json(path: Path) -> tuple[dict[str, inference.Prediction], dict[str, str], str | None]:
    try:
        document = json.loads(path.read_text())
        results, errors = document["results"], document.get("errors", [])
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: not a `vocalbaby predict` JSON file ({exc})") from exc
    predictions = {}
    for result in results:
        segments = [inference.Segment(**s) for s in result.get("segments") or []] or [
            inference.Segment(
                0.0, result["duration_s"], False, result["label"], result["probabilities"]
            )
        ]
        predictions[result["file"]] = inference.Prediction(
            result["file"],
            result["label"],
            result["probabilities"],
            result["duration_s"],
            segments,
            True,
        )
    return predictions, {e["file"]: e["reason"] for e in errors}, document.get("model_version")


def _read_csv(path: Path) -> dict[str, inference.Prediction]:
    try:
        table = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: not a readable CSV file ({exc})") from exc
    missing = [c for c in ("file", "start_s", "end_s", "label") if c not in table.columns]
    if missing:
        raise CatalogError(f"{path}: missing column(s) {', '.join(missing)}")
    predictions = {}
    for name, rows in table.groupby("file", sort=False):
        segments = [_csv_segment(row) for row in rows.to_dict("records")]
        duration = float(rows["end_s"].max())
        predictions[str(name)] = inference.Prediction(
            str(name), None, None, duration, segments, True
        )
    return predictions


def _csv_segment(row: dict[str, object]) -> inference.Segment:
    scored = all(pd.notna(row.get(c)) for c in CLASSES)
    label = row["label"] if pd.notna(row["label"]) else None
    return inference.Segment(
        float(row["start_s"]),
        float(row["end_s"]),
        bool(row.get("silent", False)),
        label,
        {c: float(row[c]) for c in CLASSES} if scored else None,
    )


def read_metadata(path: Path) -> pd.DataFrame:
    """Per-recording metadata keyed by a ``path``, ``file`` or ``clip_id`` column."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: not a readable CSV file ({exc})") from exc
    keys = [c for c in KEY_COLUMNS if c in table.columns]
    if not keys:
        raise CatalogError(f"{path}: needs a {', '.join(KEY_COLUMNS)} column to match recordings")
    return table.rename(columns={"child_ID": "child_id", "age_mo_round": "age_months"})


def _meta_for(rec_id: str, metadata: pd.DataFrame | None) -> dict[str, object]:
    """The metadata row whose key matches the recording's path, file name or stem."""
    if metadata is None:
        return {}
    wanted = {rec_id, Path(rec_id).name, Path(rec_id).stem}
    for key in (c for c in KEY_COLUMNS if c in metadata.columns):
        rows = metadata[
            metadata[key].isin(wanted) | metadata[key].map(lambda k: Path(k).name in wanted)
        ]
        if len(rows):
            row = rows.iloc[0]
            return {c: row[c] for c in META_COLUMNS if c in metadata.columns and row[c] != ""}
    return {}
