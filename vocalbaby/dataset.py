"""Reading a BabbleCor-style dataset: ``metadata.csv`` plus audio, in a folder or an S3 prefix.

Columns: ``clip_id`` (or ``path``) and ``label``; optional ``child_id``, ``age_months``,
``gender``, ``corpus``. The original BabbleCor/VocalBaby names are accepted as aliases.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

import pandas as pd

from vocalbaby import audio, storage
from vocalbaby.labels import UnknownLabelError, normalize_labels

METADATA_FILE = "metadata.csv"
COLUMN_ALIASES = {
    "clip_ID": "clip_id",
    "Answer": "label",
    "child_ID": "child_id",
    "age_mo_round": "age_months",
    "child_gender": "gender",
}
OPTIONAL_COLUMNS = ("child_id", "age_months", "gender", "corpus")
MANIFEST_COLUMNS = ("clip_id", "uri", "label", *OPTIONAL_COLUMNS)
AUDIO_FOLDERS = ("", "audio", "clips")
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")


class DatasetError(ValueError):
    """A dataset's metadata cannot be used; the message names the file, rows and columns."""


def _read_metadata(root: str) -> pd.DataFrame:
    uri = storage.join(root, METADATA_FILE)
    try:
        raw = storage.read_bytes(uri)
    except FileNotFoundError as exc:
        raise DatasetError(f"{uri}: metadata file not found") from exc
    try:
        return pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DatasetError(f"{uri}: not a readable CSV file ({exc})") from exc


def _audio_index(root: str) -> dict[str, str]:
    """Relative POSIX path -> full URI of every file under the dataset root."""
    prefix = str(root).rstrip("/") + "/"
    index = {}
    for uri in storage.list_keys(root):
        rel = uri[len(prefix) :] if storage.is_s3(root) else Path(uri).relative_to(root).as_posix()
        index[rel] = uri
    return index


def _locate(name: str, index: dict[str, str]) -> str | None:
    candidates = [name] if PurePosixPath(name).suffix else [name + s for s in AUDIO_SUFFIXES]
    for folder in AUDIO_FOLDERS:
        for candidate in candidates:
            rel = f"{folder}/{candidate}" if folder else candidate
            if rel in index:
                return index[rel]
    return None


def read(root: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and validate a dataset's metadata into a manifest (one row per clip).

    The manifest has the columns of :data:`MANIFEST_COLUMNS`; ``uri`` is the audio file's full
    path or S3 URI. Raises :class:`DatasetError` for a missing file, missing columns, unknown
    labels, duplicate clip ids, or clips whose audio file does not exist (all rows are named).
    """
    root = str(root)
    uri = storage.join(root, METADATA_FILE)
    frame = _read_metadata(root).rename(columns=COLUMN_ALIASES)
    frame.columns = [c.strip() for c in frame.columns]
    missing = [c for c in ("label",) if c not in frame.columns]
    if "clip_id" not in frame.columns and "path" not in frame.columns:
        missing.insert(0, "clip_id (or path)")
    if missing:
        raise DatasetError(
            f"{uri}: missing column(s) {', '.join(missing)}; found {', '.join(frame.columns)}"
        )
    if frame.empty:
        raise DatasetError(f"{uri}: no rows")
    names = frame["path"] if "path" in frame.columns else frame["clip_id"]
    if "clip_id" not in frame.columns:
        frame["clip_id"] = [PurePosixPath(p).stem for p in names]
    frame["clip_id"] = [
        PurePosixPath(c).stem if PurePosixPath(c).suffix else c for c in frame["clip_id"]
    ]
    try:
        frame["label"] = normalize_labels(frame["label"])
    except UnknownLabelError as exc:
        raise DatasetError(f"{uri}: {exc} (rows counted from 0 after the header)") from exc
    _check_unique(frame, uri)
    index = _audio_index(root)
    frame["uri"] = [_locate(str(n).strip(), index) for n in names]
    lost = frame["uri"].isna()
    if lost.any():
        absent = [
            f"{c} ({n})" for c, n in zip(frame.loc[lost, "clip_id"], names[lost], strict=True)
        ]
        raise DatasetError(f"{uri}: audio file not found for {len(absent)} clip(s): {absent[:20]}")
    for column in OPTIONAL_COLUMNS:
        if column not in frame.columns:
            frame[column] = pd.NA
    frame["age_months"] = pd.to_numeric(frame["age_months"].replace("", pd.NA), errors="coerce")
    for column in ("child_id", "gender", "corpus"):
        frame[column] = frame[column].replace("", pd.NA)
    return frame[list(MANIFEST_COLUMNS)].reset_index(drop=True)


def empty_manifest() -> pd.DataFrame:
    """A manifest with :data:`MANIFEST_COLUMNS` and no rows."""
    return pd.DataFrame({column: pd.Series(dtype=object) for column in MANIFEST_COLUMNS})


def _check_unique(frame: pd.DataFrame, uri: str) -> None:
    duplicated = frame.loc[frame["clip_id"].duplicated(keep=False), "clip_id"].unique().tolist()
    if duplicated:
        raise DatasetError(f"{uri}: duplicate clip ids: {duplicated[:20]}")


def inspect_clip(uri: str) -> dict[str, object]:
    """Hash, decode and measure one clip; ``error`` holds the reason when it cannot be used."""
    info: dict[str, object] = {"sha256": None, "duration_s": None, "sample_rate": None}
    try:
        data = storage.read_bytes(uri)
        info["sha256"] = hashlib.sha256(data).hexdigest()
        clip = audio.load(data, name=uri)
    except (FileNotFoundError, audio.AudioError) as exc:
        info["error"] = exc.reason if isinstance(exc, audio.AudioError) else "file not found"
        return info
    info.update(duration_s=clip.duration_s, sample_rate=clip.original_rate, error=None)
    return info


def inspect(
    manifest: pd.DataFrame, workers: int = 8, progress: Callable[[int, int], None] | None = None
) -> pd.DataFrame:
    """The manifest plus ``sha256``, ``duration_s``, ``sample_rate`` and ``error`` per clip."""
    rows = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for done, info in enumerate(pool.map(inspect_clip, manifest["uri"]), start=1):
            rows.append(info)
            if progress:
                progress(done, len(manifest))
    extra = pd.DataFrame(rows, index=manifest.index)
    return pd.concat([manifest, extra[["duration_s", "sample_rate", "sha256", "error"]]], axis=1)
