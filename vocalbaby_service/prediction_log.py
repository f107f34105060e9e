"""The prediction log: every classified clip or segment with its features, for drift monitoring.

Each row holds the 88 features (float32, as the model saw them), ``label``, one probability column
per class, and the columns the service adds: ``file``, ``start_s``, ``end_s`` (null for
``/predict_features`` rows), ``silent``, ``model_version``, ``timestamp`` (UTC), ``request_id``,
``endpoint``. Silent windows of long recordings are not classified; they are logged with
``silent=True`` and null features, label and probabilities (the drift tests leave them out).

Requests hand over :class:`Records` (plain arrays: cheap) to an in-memory buffer and never wait
for storage. A background thread

- every ``spool_interval_s`` (1 s) appends the buffered rows to this process's spool file and
  fsyncs it (:mod:`vocalbaby_service.spool`; folder: :func:`spool_dir`), so a killed process
  loses at most about a second of rows;
- ships the spooled rows as one parquet file under the log URI (a folder or an ``s3://`` prefix),
  ``<uri>/date=YYYY-MM-DD/<UTC timestamp>-<uuid>.parquet``, when ``batch_rows`` rows are spooled
  or ``interval_s`` seconds have passed, then empties the spool; rows that cannot be written are
  logged, counted (``on_error``) and stay spooled for the next try;
- on start, first ships the spool files that killed processes left behind (at least once: a crash
  between writing the parquet file and emptying the spool ships those rows again).

When ``capacity_rows`` rows are accepted but not yet shipped (storage slow or down), new rows are
dropped and counted (``on_drop``) instead of blocking the request or growing without bound.
Accepted rows are counted by ``on_accept``, shipped ones by ``on_write``.
:meth:`PredictionLog.close` (the service's shutdown hook) ships everything, so a clean stop loses
nothing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from vocalbaby import storage
from vocalbaby.inference import Analysis
from vocalbaby_service.spool import Spool, recover, to_parquet

logger = logging.getLogger(__name__)

RowCounter = Callable[[int], None]


def _ignore(_rows: int) -> None:
    return None


@dataclass(frozen=True)
class Records:
    """Rows to log: features and probabilities (one row each), labels, and other columns.

    A value in ``columns`` is a list or array with one entry per row, or one value for all rows.
    """

    features: np.ndarray
    probabilities: np.ndarray
    labels: Sequence[str | None]
    columns: Mapping[str, object]

    def __len__(self) -> int:
        return len(self.labels)

    @classmethod
    def of_analyses(cls, analyses: Sequence[Analysis], **columns: object) -> Records:
        """The classified and the silent segments of some analyses, with file, start/end times
        and ``silent``; a silent segment has null features, probabilities and label."""
        logged = [(a, _logged_segments(a)) for a in analyses]
        segments = [
            (a.prediction.file, a.prediction.segments[j]) for a, rows in logged for j in rows
        ]
        return cls(
            features=np.vstack([_at(a.features, rows) for a, rows in logged]),
            probabilities=np.vstack([_at(a.probabilities, rows) for a, rows in logged]),
            labels=[s.label for _, s in segments],
            columns={
                "file": [f for f, _ in segments],
                "start_s": [s.start_s for _, s in segments],
                "end_s": [s.end_s for _, s in segments],
                "silent": [s.silent for _, s in segments],
                **columns,
            },
        )


def _at(frame: pd.DataFrame, rows: list[int]) -> np.ndarray:
    """``frame``'s values (float32) at the segment positions ``rows`` (sorted; a superset of
    its index), NaN where it has none: ``frame.reindex(rows)`` without pandas' cost."""
    out = np.full((len(rows), frame.shape[1]), np.nan, dtype=np.float32)
    out[np.searchsorted(rows, frame.index.to_numpy())] = frame.to_numpy(np.float32)
    return out


def _logged_segments(analysis: Analysis) -> list[int]:
    """Positions of the classified and the silent segments (failed ones are not logged)."""
    silent = (j for j, s in enumerate(analysis.prediction.segments) if s.silent)
    return sorted({*analysis.features.index, *silent})


def table(
    batch: Sequence[Records], feature_names: Sequence[str], classes: Sequence[str]
) -> pd.DataFrame:
    """The log table of some records: features, label, probabilities, then the other columns."""
    frame = pd.concat(
        [
            pd.DataFrame(np.vstack([r.features for r in batch]), columns=list(feature_names)),
            pd.DataFrame({"label": [label for r in batch for label in r.labels]}),
            pd.DataFrame(np.vstack([r.probabilities for r in batch]), columns=list(classes)),
        ],
        axis=1,
    )
    names = dict.fromkeys(name for r in batch for name in r.columns)
    return frame.assign(**{name: _column(batch, name) for name in names})


def _column(batch: Sequence[Records], name: str) -> list[object]:
    values: list[object] = []
    for records in batch:
        value = records.columns.get(name)
        values += (
            list(value) if isinstance(value, list | tuple | np.ndarray) else [value] * len(records)
        )
    return values


def batch_uri(root: str, now: datetime) -> str:
    """A new, unique file URI for a batch written at ``now`` (UTC)."""
    name = f"{now:%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex}.parquet"
    return storage.join(root, f"date={now:%Y-%m-%d}", name)


def spool_dir(uri: str) -> Path:
    """The spool folder: ``VOCALBABY_PREDICTION_SPOOL_DIR``, else one per log URI under the
    system's temporary folder (so two logs never ship each other's rows)."""
    configured = os.environ.get("VOCALBABY_PREDICTION_SPOOL_DIR")
    if configured:
        return Path(configured)
    digest = hashlib.sha256(uri.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / "vocalbaby-prediction-spool" / digest


class PredictionLog:
    """A bounded, spooled, asynchronous parquet writer (see the module docstring)."""

    def __init__(
        self,
        uri: str,
        feature_names: Sequence[str],
        classes: Sequence[str],
        batch_rows: int = 1000,
        interval_s: float = 30.0,
        capacity_rows: int = 100_000,
        spool_folder: Path | None = None,
        spool_interval_s: float = 1.0,
        on_accept: RowCounter = _ignore,
        on_write: RowCounter = _ignore,
        on_drop: RowCounter = _ignore,
        on_error: RowCounter = _ignore,
    ) -> None:
        self.uri = uri
        self.feature_names, self.classes = list(feature_names), list(classes)
        self.batch_rows, self.interval_s, self.capacity_rows = batch_rows, interval_s, capacity_rows
        self.spool_interval_s = spool_interval_s
        self._on_accept, self._on_write = on_accept, on_write
        self._on_drop, self._on_error = on_drop, on_error
        self.spool_folder = spool_folder or spool_dir(uri)
        self._spool = Spool(self.spool_folder)
        self._pending: list[Records] = []
        self._rows = 0  # accepted, not yet shipped: buffered in memory or spooled
        self._pending_rows = 0
        self._spooled_rows = 0
        self._closed = False
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    def append(self, records: Records) -> bool:
        """Queue rows for the spool; ``False`` (and counted as dropped) when the log is full."""
        with self._wake:
            if self._closed or self._rows + len(records) > self.capacity_rows:
                self._on_drop(len(records))
                return False
            self._pending.append(records)
            self._rows += len(records)
            self._pending_rows += len(records)
        self._on_accept(len(records))
        return True

    def close(self, timeout_s: float = 30.0) -> None:
        """Stop accepting rows, ship what is buffered and spooled, and stop the writer thread."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout_s)

    def _take(self) -> list[Records]:
        with self._wake:
            batch, self._pending, self._pending_rows = self._pending, [], 0
        return batch

    def _run(self) -> None:
        self._recover()
        ship_at = time.monotonic() + self.interval_s
        while True:
            with self._wake:
                self._wake.wait_for(
                    lambda: self._closed,
                    min(self.spool_interval_s, max(0.0, ship_at - time.monotonic())),
                )
                closed = self._closed
            self._spool_rows(self._take())
            if closed or self._spooled_rows >= self.batch_rows or time.monotonic() >= ship_at:
                self._ship()
                ship_at = time.monotonic() + self.interval_s
            if closed:
                if not self._spooled_rows:
                    self._spool.remove()
                return

    def _spool_rows(self, batch: list[Records]) -> None:
        rows = sum(len(r) for r in batch)
        if not rows:
            return
        try:
            self._spool.append(table(batch, self.feature_names, self.classes))
        except Exception:
            logger.exception("prediction log: could not spool %d rows", rows)
            self._on_error(rows)
            self._forget(rows)
        else:
            self._spooled_rows += rows

    def _ship(self) -> None:
        """Write the spooled rows as one parquet file and empty the spool; on a storage error
        they stay spooled (counted as failed) and are tried again at the next ship."""
        if not self._spooled_rows:
            return
        rows = self._spooled_rows
        try:
            self._write(self._spool.frames())
        except Exception:
            logger.exception("prediction log: could not write %d rows to %s", rows, self.uri)
            self._on_error(rows)
            return
        self._spool.clear()
        self._spooled_rows = 0
        self._forget(rows)
        self._on_write(rows)

    def _recover(self) -> None:
        """Ship the spools that crashed processes left behind (before any new row)."""

        def ship(frames: list[pd.DataFrame]) -> None:
            self._write(frames)
            rows = sum(len(f) for f in frames)
            logger.info("prediction log: recovered %d spooled rows", rows)
            self._on_write(rows)

        try:
            recover(self.spool_folder, self._spool.path, ship)
        except Exception:
            logger.exception("prediction log: could not recover %s", self.spool_folder)

    def _forget(self, rows: int) -> None:
        with self._wake:
            self._rows -= rows

    def _write(self, frames: list[pd.DataFrame]) -> None:
        frame = pd.concat(frames, ignore_index=True)
        storage.write_bytes(batch_uri(self.uri, datetime.now(UTC)), to_parquet(frame))
