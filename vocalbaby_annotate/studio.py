"""The studio's routes beyond review: uploads classified through a bounded job queue, the summary
numbers (JSON or CSV), and lab-format exports of a recording or of all of them.

- ``POST /api/upload?name=FILE&child_id=&age_months=``: the raw audio as the body (wav, flac,
  ogg; at most :data:`MAX_UPLOAD_BYTES`, refused while it streams); 202 with the job.
- ``GET /api/jobs``: every remembered job (queued with its position, running, done, failed).
- ``GET /api/summary?by=child|recording&source=model|annotations[&format=csv]``.
- ``GET /api/export/{id}?format=textgrid|eaf|rttm|csv``: the model's tier and every annotator's
  confirmed tier of one recording; ``GET /api/export-all?format=rttm|csv``: every recording.
"""

from __future__ import annotations

import math
import re
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import cast

import pandas as pd
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vocalbaby import summary
from vocalbaby.annotation import catalog, formats
from vocalbaby.annotation.catalog import Catalog, Recording
from vocalbaby.annotation.store import Revision
from vocalbaby.dataset import AUDIO_SUFFIXES
from vocalbaby.model import ModelBundle
from vocalbaby_annotate import security
from vocalbaby_annotate.jobs import Job, JobQueue, QueueFull

MAX_UPLOAD_BYTES = 1024 * 1024 * 1024
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.()-]{0,119}")
CHILD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
MAX_AGE_MONTHS = 240
FORMATS = {"textgrid": ".TextGrid", "eaf": ".eaf", "rttm": ".rttm", "csv": ".csv"}
MEDIA = {".TextGrid": "text/plain", ".eaf": "application/xml", ".rttm": "text/plain"}


def _error(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse({"error": kind, "message": message}, status_code=status)


class Studio:
    """Upload, summary and export handlers over the review app's catalog and annotations."""

    def __init__(
        self,
        catalog: Catalog,
        latest: Callable[[], dict[str, dict[str, Revision]]],
        uploads: Path | None,
        bundle: ModelBundle | None,
        max_pending: int = 8,
    ) -> None:
        self.catalog = catalog
        self.latest = latest  # () -> recording id -> annotator -> latest revision
        self.uploads = uploads
        self.bundle = bundle
        self._lock = threading.Lock()
        self.queue = JobQueue(self._classify, max_pending)

    def _classify(self, job: Job) -> str:
        path = Path(job.file)
        entry = catalog.classify(path, path.name, self.bundle, job.meta)
        with self._lock:
            self.catalog.recordings[entry.id] = entry
        if entry.error:
            raise ValueError(entry.error)
        return entry.id

    async def upload(self, request: Request) -> Response:
        if self.uploads is None:
            return _error(403, "uploads_disabled", "start the studio with --uploads DIR to upload")
        name = request.query_params.get("name", "")
        if not NAME.fullmatch(name) or Path(name).suffix.lower() not in AUDIO_SUFFIXES:
            return _error(
                415, "unsupported", "name: a plain file name ending in .wav, .flac or .ogg"
            )
        try:
            meta = _upload_meta(request.query_params)
        except ValueError as exc:
            return _error(400, "invalid_metadata", str(exc))
        target = self.uploads / name
        if name in self.catalog.recordings or target.exists():
            return _error(409, "exists", f"{name}: a recording of that name is already here")
        if self.queue.full():
            return _error(429, "busy", "too many uploads are waiting to be classified; retry")
        partial = target.with_name(f".{name}.part")
        try:
            await _stream_to(request, partial, MAX_UPLOAD_BYTES)
            partial.rename(target)
            job = self.queue.submit(str(target), meta)
        except security.BodyError as exc:
            partial.unlink(missing_ok=True)
            response = _error(
                exc.status, "too_large" if exc.status == 413 else "bad_upload", str(exc)
            )
            response.headers["Connection"] = "close"
            return response
        except QueueFull as exc:
            target.unlink(missing_ok=True)
            return _error(429, "busy", str(exc))
        return JSONResponse(job.to_dict(), status_code=202)

    async def jobs(self, request: Request) -> Response:
        return JSONResponse({"jobs": self.queue.jobs()})

    async def summary(self, request: Request) -> Response:
        by = request.query_params.get("by", "child")
        source = request.query_params.get("source", "model")
        if by not in {"child", "recording"} or source not in {"model", "annotations"}:
            return _error(
                400, "bad_request", "by: child or recording; source: model or annotations"
            )
        table = await run_in_threadpool(self._summary, by, source)
        if request.query_params.get("format") == "csv":
            return Response(
                table.to_csv(index=False),
                media_type="text/csv",
                headers={
                    "Content-Disposition": f'attachment; filename="summary-{by}-{source}.csv"'
                },
            )
        rows = [{k: _plain(v) for k, v in row.items()} for row in table.to_dict("records")]
        return JSONResponse({"by": by, "source": source, "rows": rows})

    def _summary(self, by: str, source: str) -> pd.DataFrame:
        if source == "model":
            segments = summary.segments_from_catalog(self.catalog)
        else:
            latest = self.latest()
            revisions = [r for by_who in latest.values() for r in by_who.values()]
            segments = summary.segments_from_revisions(revisions)
        if segments.empty:
            return pd.DataFrame()
        return summary.summarize(segments, cast(summary.By, by))

    async def export(self, request: Request) -> Response:
        rec = self.catalog.recordings.get(request.path_params["id"])
        if rec is None:
            return _error(404, "not_found", f"no recording {request.path_params['id']!r}")
        suffix = FORMATS.get(request.query_params.get("format", ""))
        if suffix is None:
            return _error(400, "bad_request", f"format: one of {', '.join(FORMATS)}")
        timeline = _timeline(rec, self.latest().get(rec.id, {}))
        return await run_in_threadpool(_download, [timeline], Path(rec.id).stem, suffix)

    async def export_all(self, request: Request) -> Response:
        suffix = FORMATS.get(request.query_params.get("format", ""))
        if suffix not in {".rttm", ".csv"}:
            return _error(
                400, "bad_request", "format: rttm or csv (one file per recording: TextGrid, eaf)"
            )
        latest = self.latest()
        timelines = [
            _timeline(r, latest.get(r.id, {}))
            for r in list(self.catalog.recordings.values())
            if not r.error
        ]
        return await run_in_threadpool(_download, timelines, "recordings", suffix)


def _upload_meta(params: QueryParams) -> dict[str, object]:
    meta: dict[str, object] = {}
    child = params.get("child_id", "")
    if child:
        if not CHILD.fullmatch(child):
            raise ValueError("child_id: 1-64 letters, digits, '_', '.' or '-'")
        meta["child_id"] = child
    age = params.get("age_months", "")
    if age:
        try:
            value = float(age)
        except ValueError:
            value = math.nan
        if not 0 <= value <= MAX_AGE_MONTHS:
            raise ValueError(f"age_months: a number of months from 0 to {MAX_AGE_MONTHS}")
        meta["age_months"] = value
    return meta


async def _stream_to(request: Request, path: Path, limit: int) -> None:
    """Write the body to ``path`` chunk by chunk, refused (413) once it passes ``limit``."""
    with path.open("wb") as out:
        async for chunk in security.stream(request, limit):
            out.write(chunk)
    if path.stat().st_size == 0:
        raise security.BodyError(400, "the upload is empty")


def _timeline(rec: Recording, annotations: dict[str, Revision]) -> formats.Timeline:
    model = [
        formats.Interval(
            s.start_s,
            s.end_s,
            s.suggested_label,
            max(s.suggested_probabilities.values()) if s.suggested_probabilities else None,
        )
        for s in rec.suggestions
        if s.suggested_label
    ]
    duration = rec.duration_s or 0.0
    timeline = formats.Timeline(rec.id, duration, {formats.MODEL_TIER: model} if model else {})
    for revision in annotations.values():
        timeline.tiers |= formats.from_revision(revision, duration).tiers
    return timeline


def _download(timelines: list[formats.Timeline], stem: str, suffix: str) -> Response:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem) or "recording"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{safe}{suffix}"
        formats.write(timelines, path)
        body = path.read_bytes()
    return Response(
        body,
        media_type=MEDIA.get(suffix, "text/csv"),
        headers={"Content-Disposition": f'attachment; filename="{safe}{suffix}"'},
    )


def _plain(value: object) -> object:
    """JSON-safe: NaN becomes null, numpy scalars plain numbers."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value.item() if hasattr(value, "item") else value
