"""The review and annotation web app: a Starlette ASGI app over a catalog and an annotation store.

Routes (JSON unless noted):

- ``GET /``: the page (``web/src/index.html``); ``/static/*`` its scripts, ``/vendor/*`` the
  wavesurfer.js modules vendored in ``web/vendor`` (they ship in the wheel: no npm needed).
- ``GET /api/config``: classes, model version, source, default annotator.
- ``GET /api/recordings?annotator=NAME``: every recording with its model label, weakest
  confidence, the annotators who worked on it, whether they disagree, and NAME's progress.
- ``GET /api/recording/{id}?annotator=NAME``: the model's segments, NAME's latest revision and
  the other annotators' latest revisions.
- ``GET /api/audio/{id}``: the audio file.
- ``PUT /api/annotation/{id}``: store NAME's next revision; 409 when ``base_revision`` is stale.
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import asdict, fields
from functools import lru_cache
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from vocalbaby.annotation import agreement
from vocalbaby.annotation.catalog import Catalog, Recording
from vocalbaby.annotation.store import (
    AnnotatedSegment,
    AnnotationError,
    AnnotationStore,
    ConflictError,
    Revision,
    check_annotator,
)
from vocalbaby.labels import CLASSES

WEB = Path(__file__).with_name("web")
VENDOR = WEB / "vendor" / "wavesurfer.js"
SEGMENT_FIELDS = {f.name for f in fields(AnnotatedSegment)}
MAX_BODY_BYTES = 2 * 1024 * 1024


def error(status: int, kind: str, message: str, **extra: object) -> JSONResponse:
    """A JSON error body: ``{"error": kind, "message": ..., **extra}``."""
    return JSONResponse({"error": kind, "message": message, **extra}, status_code=status)


class Annotator:
    """Request handlers bound to one catalog and one store."""

    def __init__(self, catalog: Catalog, store: AnnotationStore, default_annotator: str) -> None:
        self.catalog = catalog
        self.store = store
        self.default_annotator = default_annotator
        self._load = lru_cache(maxsize=4096)(store.load)  # revisions never change once written

    def latest_by_annotator(self) -> dict[str, dict[str, Revision]]:
        """recording id -> annotator -> latest revision, from one listing of the store."""
        found: dict[str, dict[str, Revision]] = {}
        for (rec, who), number in self.store.index().items():
            if rec in self.catalog.recordings:
                found.setdefault(rec, {})[who] = self._load(rec, who, number)
        return found

    def recording(self, request: Request) -> Recording | None:
        return self.catalog.recordings.get(request.path_params["id"])

    async def config(self, request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "classes": list(CLASSES),
                "model_version": self.catalog.model_version,
                "source": self.catalog.source,
                "default_annotator": self.default_annotator,
            }
        )

    def recordings(self, request: Request) -> Response:
        who = request.query_params.get("annotator", "")
        latest = self.latest_by_annotator()
        items = [_list_item(r, latest.get(r.id, {}), who) for r in self.catalog.recordings.values()]
        usable = [i for i in items if not i["error"]]
        return JSONResponse(
            {
                "recordings": items,
                "reviewed": sum(bool(i["reviewed"]) for i in usable),
                "total": len(usable),
            }
        )

    def detail(self, request: Request) -> Response:
        rec = self.recording(request)
        if rec is None:
            return error(404, "not_found", f"no recording {request.path_params['id']!r}")
        who = request.query_params.get("annotator", "")
        annotations = self.latest_by_annotator().get(rec.id, {})
        mine = annotations.pop(who, None)
        return JSONResponse(
            {
                "id": rec.id,
                "duration_s": rec.duration_s,
                "error": rec.error,
                "label": rec.label,
                "probabilities": rec.probabilities,
                "model_version": self.catalog.model_version,
                "suggestions": [asdict(s) for s in rec.suggestions],
                "mine": asdict(mine) if mine else None,
                "others": [asdict(r) for r in annotations.values()],
            }
        )

    def audio(self, request: Request) -> Response:
        rec = self.recording(request)
        if rec is None:
            return error(404, "not_found", f"no recording {request.path_params['id']!r}")
        if rec.error or not Path(rec.uri).is_file():
            return error(422, "invalid_audio", f"{rec.id}: {rec.error or 'file not found'}")
        media = mimetypes.guess_type(rec.uri)[0] or "application/octet-stream"
        return FileResponse(rec.uri, media_type=media)

    async def save(self, request: Request) -> Response:
        rec = self.recording(request)
        if rec is None:
            return error(404, "not_found", f"no recording {request.path_params['id']!r}")
        if rec.error:
            return error(422, "invalid_audio", f"{rec.id} cannot be annotated: {rec.error}")
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return error(413, "too_large", f"annotation larger than {MAX_BODY_BYTES} bytes")
        try:
            draft, base = _draft(rec, body, self.catalog.model_version)
            stored = await run_in_threadpool(self.store.save, draft, base)
        except AnnotationError as exc:
            return error(400, "invalid_annotation", str(exc))
        except ConflictError as exc:
            current = exc.current
            return error(
                409,
                "conflict",
                str(exc),
                current={
                    "revision": current.revision,
                    "annotator": current.annotator,
                    "saved_at": current.saved_at,
                },
            )
        return JSONResponse({"revision": stored.revision, "saved_at": stored.saved_at})


def _list_item(rec: Recording, annotations: dict[str, Revision], who: str) -> dict[str, object]:
    mine = annotations.get(who)
    return {
        "id": rec.id,
        "duration_s": rec.duration_s,
        "error": rec.error,
        "label": rec.label,
        "suggested_labels": sorted({s.suggested_label for s in rec.suggestions} - {None}),
        "confidence": rec.confidence,
        "segments": len(rec.suggestions),
        "annotators": sorted(annotations),
        "reviewed": bool(mine and mine.reviewed),
        "revision": mine.revision if mine else 0,
        "disagreement": agreement.disagrees(list(annotations.values())),
    }


def _draft(rec: Recording, body: bytes, model_version: str | None) -> tuple[Revision, int]:
    """Parse and check a save request into an unsaved revision and its base revision."""
    try:
        payload = json.loads(body)
        annotator = check_annotator(str(payload["annotator"]))
        base = payload["base_revision"]
        raw_segments = payload["segments"]
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as exc:
        raise AnnotationError(f"body is not a JSON object ({exc})") from exc
    except KeyError as exc:
        raise AnnotationError(f"missing field {exc}") from exc
    if not isinstance(base, int) or base < 0:
        raise AnnotationError("base_revision must be a whole number >= 0")
    if not isinstance(raw_segments, list) or not raw_segments:
        raise AnnotationError("segments must be a non-empty list")
    segments = tuple(_segment(i, s, annotator) for i, s in enumerate(raw_segments))
    draft = Revision(
        recording_id=rec.id,
        annotator=annotator,
        revision=0,
        saved_at="",
        audio_uri=rec.uri,
        segments=segments,
        model_version=model_version,
        reviewed=bool(payload.get("reviewed", False)),
        action=str(payload.get("action", "edit"))[:32],
        recording={**rec.meta, "duration_s": rec.duration_s},
    )
    return draft, base


def _segment(index: int, raw: object, annotator: str) -> AnnotatedSegment:
    if not isinstance(raw, dict) or not {"start_s", "end_s"} <= raw.keys():
        raise AnnotationError(f"segment {index}: needs start_s and end_s")
    unknown = raw.keys() - SEGMENT_FIELDS
    if unknown:
        raise AnnotationError(f"segment {index}: unknown field(s) {sorted(unknown)}")
    try:
        segment = AnnotatedSegment(
            **{**raw, "start_s": float(raw["start_s"]), "end_s": float(raw["end_s"])}
        )
    except (TypeError, ValueError) as exc:
        raise AnnotationError(f"segment {index}: {exc}") from exc
    if segment.labelled_by not in {None, annotator}:
        raise AnnotationError(f"segment {index}: labelled_by must be you ({annotator}) or empty")
    return segment


def create_app(catalog: Catalog, store: AnnotationStore, default_annotator: str = "") -> Starlette:
    """The ASGI app of the review page."""
    handlers = Annotator(catalog, store, default_annotator)
    index = WEB / "src" / "index.html"
    return Starlette(
        routes=[
            Route("/", lambda request: FileResponse(index)),
            Route("/api/config", handlers.config),
            Route("/api/recordings", handlers.recordings),
            Route("/api/recording/{id:path}", handlers.detail),
            Route("/api/audio/{id:path}", handlers.audio),
            Route("/api/annotation/{id:path}", handlers.save, methods=["PUT"]),
            Mount("/static", StaticFiles(directory=WEB / "src"), name="static"),
            Mount("/vendor", StaticFiles(directory=VENDOR), name="vendor"),
        ]
    )
