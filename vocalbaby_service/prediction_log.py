"""The prediction log: every classified clip or segment with its features, for drift monitoring.

Each row holds the 88 features (float32, as the model saw them), ``label``, one probability column
per class, and the columns the service adds: ``file``, ``start_s``, ``end_s`` (null for
``/predict_features`` rows), ``model_version``, ``timestamp`` (UTC), ``request_id``, ``endpoint``.

Requests hand over :class:`Records` (plain arrays: cheap) to an in-memory buffer; a background
thread builds the table and writes it as parquet under the log URI (a folder or an ``s3://``
prefix): ``<uri>/date=YYYY-MM-DD/<UTC timestamp>-<uuid>.parquet``, one file per flush. Requests
never wait for storage:

- a flush happens when ``batch_rows`` rows are buffered or ``interval_s`` seconds have passed;
- when ``capacity_rows`` rows are already waiting (storage slow or down), new rows are dropped and
  counted (``on_drop``) instead of blocking the request or growing memory without bound;
- a batch that cannot be written is logged, counted (``on_error``) and dropped;
- :meth:`PredictionLog.close` (the service's shutdown hook) writes what is buffered, so a clean
  stop loses nothing. A killed process loses at most the unflushed buffer.
"""

from __future__ import annotations

import io
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from vocalbaby import storage
from vocalbaby.inference import Analysis

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
    labels: Sequence[str]
    columns: Mapping[str, object]

    def __len__(self) -> int:
        return len(self.labels)

    @classmethod
    def of_analyses(cls, analyses: Sequence[Analysis], **columns: object) -> Records:
        """The classified clips and segments of some analyses, with file and start/end times."""
        segments = [
            (a.prediction.file, a.prediction.segments[j])
            for a in analyses
            for j in a.features.index
        ]
        return cls(
            features=np.vstack([a.features.to_numpy(np.float32) for a in analyses]),
            probabilities=np.vstack([a.probabilities.to_numpy(np.float32) for a in analyses]),
            labels=[s.label for _, s in segments],
            columns={
                "file": [f for f, _ in segments],
                "start_s": [s.start_s for _, s in segments],
                "end_s": [s.end_s for _, s in segments],
                **columns,
            },
        )


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


def to_parquet(frame: pd.DataFrame) -> bytes:
    """Parquet bytes of a frame (index dropped)."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


class PredictionLog:
    """A bounded, batched, asynchronous parquet writer (see the module docstring)."""

    def __init__(
        self,
        uri: str,
        feature_names: Sequence[str],
        classes: Sequence[str],
        batch_rows: int = 1000,
        interval_s: float = 30.0,
        capacity_rows: int = 100_000,
        on_write: RowCounter = _ignore,
        on_drop: RowCounter = _ignore,
        on_error: RowCounter = _ignore,
    ) -> None:
        self.uri = uri
        self.feature_names, self.classes = list(feature_names), list(classes)
        self.batch_rows, self.interval_s, self.capacity_rows = batch_rows, interval_s, capacity_rows
        self._on_write, self._on_drop, self._on_error = on_write, on_drop, on_error
        self._pending: list[Records] = []
        self._rows = 0
        self._closed = False
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    def append(self, records: Records) -> bool:
        """Queue rows for writing; ``False`` (and counted as dropped) when the buffer is full."""
        with self._wake:
            if self._closed or self._rows + len(records) > self.capacity_rows:
                self._on_drop(len(records))
                return False
            self._pending.append(records)
            self._rows += len(records)
            if self._rows >= self.batch_rows:
                self._wake.notify()
        return True

    def close(self, timeout_s: float = 30.0) -> None:
        """Stop accepting rows, write what is buffered and stop the writer thread."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout_s)

    def _take(self) -> list[Records]:
        with self._wake:
            batch, self._pending, self._rows = self._pending, [], 0
        return batch

    def _run(self) -> None:
        deadline = time.monotonic() + self.interval_s
        while True:
            with self._wake:
                self._wake.wait_for(
                    lambda: self._closed or self._rows >= self.batch_rows,
                    timeout=max(0.0, deadline - time.monotonic()),
                )
                closed = self._closed
            self._write(self._take())
            deadline = time.monotonic() + self.interval_s
            if closed:
                return

    def _write(self, batch: list[Records]) -> None:
        if not any(len(r) for r in batch):
            return
        rows = sum(len(r) for r in batch)
        uri = batch_uri(self.uri, datetime.now(UTC))
        try:
            storage.write_bytes(uri, to_parquet(table(batch, self.feature_names, self.classes)))
        except Exception:
            logger.exception("prediction log: could not write %d rows to %s", rows, uri)
            self._on_error(rows)
        else:
            self._on_write(rows)
