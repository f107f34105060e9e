"""The studio's feature explorer: eGeMAPS features of the model-labelled windows of the session's
recordings, as per-class distributions of one feature and a 2-D PCA projection of all 88.

At most :data:`PER_RECORDING` windows of a recording and :data:`MAX_WINDOWS` in all are used
(evenly spaced), so a day-long recording cannot exhaust memory; the table is computed on first
use and again only when recordings were added.

- ``GET /api/features``: the feature names and how many windows the table holds.
- ``GET /api/features/distribution?feature=NAME``: histogram and quartiles per class.
- ``GET /api/features/pca``: one point per window (recording, start_s, end_s, label, x, y) and
  the variance the two components explain.
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vocalbaby import audio, feature_stats, features, inference
from vocalbaby.annotation.catalog import Catalog, Recording

PER_RECORDING = 300
MAX_WINDOWS = 1500
INDEX = ["recording", "start_s", "end_s", "label"]


class Explorer:
    """Feature table of the catalog's labelled windows, computed lazily and cached."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._lock = threading.Lock()
        self._key: tuple[str, ...] = ()
        self._table: pd.DataFrame | None = None

    def table(self) -> pd.DataFrame:
        """Rows: windows (:data:`INDEX` columns, then the 88 features)."""
        recordings = [
            r
            for r in list(self.catalog.recordings.values())
            if not r.error and any(s.suggested_label for s in r.suggestions)
        ]
        key = tuple(r.id for r in recordings)
        with self._lock:
            if self._table is None or key != self._key:
                self._table, self._key = _windows_table(recordings), key
            return self._table

    async def names(self, request: Request) -> Response:
        table = await run_in_threadpool(self.table)
        return JSONResponse({"features": list(features.feature_names()), "windows": len(table)})

    async def distribution(self, request: Request) -> Response:
        name = request.query_params.get("feature", "")
        if name not in features.feature_names():
            return JSONResponse(
                {"error": "bad_request", "message": f"feature: unknown {name[:80]!r}"},
                status_code=400,
            )
        table = await run_in_threadpool(self.table)
        found = feature_stats.distribution(table[name], table["label"].tolist())
        return JSONResponse({"feature": name, **found})

    async def pca(self, request: Request) -> Response:
        table = await run_in_threadpool(self.table)
        coords, explained = feature_stats.pca_2d(table[list(features.feature_names())])
        points = table[INDEX].assign(x=coords[:, 0].round(4), y=coords[:, 1].round(4))
        return JSONResponse({"explained": explained, "points": points.to_dict("records")})


def _windows_table(recordings: list[Recording]) -> pd.DataFrame:
    """Evenly spaced labelled windows of each recording with their features (see module)."""
    budget = max(1, MAX_WINDOWS // max(1, len(recordings)))
    rows, signals = [], {}
    for rec in recordings:
        labelled = [s for s in rec.suggestions if s.suggested_label]
        take = min(len(labelled), PER_RECORDING, budget)
        picked = [labelled[int(i)] for i in np.linspace(0, len(labelled) - 1, take)]
        try:
            sound = audio.load(rec.uri)
        except audio.AudioError:
            continue
        rate = sound.sample_rate
        for segment in picked:
            samples = sound.samples[round(segment.start_s * rate) : round(segment.end_s * rate)]
            signals[len(rows)] = samples
            rows.append((rec.id, segment.start_s, segment.end_s, segment.suggested_label))
    extracted = inference.extract_features(signals)
    index = pd.DataFrame(rows, columns=INDEX)
    table = extracted.features.set_axis(list(extracted.features.index), axis=0)
    return index.join(table, how="inner").reset_index(drop=True)  # failed windows left out
