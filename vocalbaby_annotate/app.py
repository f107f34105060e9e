"""The review and annotation web app: a Starlette ASGI app over a catalog and an annotation store.

Routes (JSON unless noted):

- ``GET /``: the page (``web/src/index.html``); ``/static/*`` its scripts, ``/vendor/*`` the
  wavesurfer.js modules vendored in ``web/vendor`` (they ship in the wheel: no npm needed).
- ``GET /api/config``: classes, model version, source, default annotator (the signed-in one
  with per-annotator accounts), uploads allowed.
- ``GET /api/recordings?annotator=NAME``: every recording with its model label, weakest
  confidence, the annotators who worked on it, whether they disagree, and NAME's progress.
- ``GET /api/recording/{id}?annotator=NAME``: the model's segments, NAME's latest revision and
  the other annotators' latest revisions.
- ``GET /api/audio/{id}``: the audio file.
- ``PUT /api/annotation/{id}``: store NAME's next revision; 409 when ``base_revision`` is stale.
- uploads, classification jobs, summary numbers and lab-format exports:
  :mod:`vocalbaby_annotate.studio`; the model page: :mod:`vocalbaby_annotate.model_page`;
  retraining through Dagster: :mod:`vocalbaby_annotate.retrain`; the feature explorer:
  :mod:`vocalbaby_annotate.explorer`.

Every request passes the Host allow-list and, when a token is set, the token gate
(:mod:`vocalbaby_annotate.security`); bad input gets a 4xx whose message names the field.
"""

from __future__ import annotations

import mimetypes
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from vocalbaby.annotation import agreement, validation
from vocalbaby.annotation.catalog import Catalog, Recording
from vocalbaby.annotation.store import (
    AnnotationError,
    AnnotationStore,
    ConflictError,
    Revision,
    check_annotator,
)
from vocalbaby.labels import CLASSES
from vocalbaby.model import ModelBundle
from vocalbaby.summary import MERGE_GAP_S
from vocalbaby_annotate import security
from vocalbaby_annotate.explorer import Explorer
from vocalbaby_annotate.model_page import ModelPage
from vocalbaby_annotate.retrain import Retrain
from vocalbaby_annotate.studio import Studio

WEB = Path(__file__).with_name("web")
VENDOR = WEB / "vendor" / "wavesurfer.js"
MAX_BODY_BYTES = 2 * 1024 * 1024


def error(status: int, kind: str, message: str, **extra: object) -> JSONResponse:
    """A JSON error body: ``{"error": kind, "message": ..., **extra}``."""
    return JSONResponse({"error": kind, "message": message, **extra}, status_code=status)


class Annotator:
    """Request handlers bound to one catalog and one store."""

    def __init__(
        self, catalog: Catalog, store: AnnotationStore, default_annotator: str, uploads: bool
    ) -> None:
        self.catalog = catalog
        self.uploads = uploads
        self.store = store
        self.default_annotator = default_annotator
        # revisions never change once written; stored files that fail the checks are left out
        self._load = lru_cache(maxsize=4096)(self._checked)

    def _checked(self, recording_id: str, annotator: str, number: int) -> Revision | None:
        try:
            return validation.check_revision(self.store.load(recording_id, annotator, number))
        except (AnnotationError, ValueError, TypeError):
            return None

    def latest_by_annotator(self) -> dict[str, dict[str, Revision]]:
        """recording id -> annotator -> latest revision, from one listing of the store."""
        found: dict[str, dict[str, Revision]] = {}
        for (rec, who), number in self.store.index().items():
            revision = self._load(rec, who, number) if rec in self.catalog.recordings else None
            if revision is not None:
                found.setdefault(rec, {})[who] = revision
        return found

    def recording(self, request: Request) -> Recording | None:
        return self.catalog.recordings.get(request.path_params["id"])

    async def config(self, request: Request) -> JSONResponse:
        who = security.signed_in(request)
        return JSONResponse(
            {
                "classes": list(CLASSES),
                "model_version": self.catalog.model_version,
                "source": self.catalog.source,
                "default_annotator": who or self.default_annotator,
                "signed_in": who,
                "uploads": self.uploads,
            }
        )

    def recordings(self, request: Request) -> Response:
        who = request.query_params.get("annotator", "")
        latest = self.latest_by_annotator()
        recordings = list(self.catalog.recordings.values())  # a snapshot: uploads add recordings
        items = [_list_item(r, latest.get(r.id, {}), who) for r in recordings]
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
        try:
            body = await security.read_body(request, MAX_BODY_BYTES)
        except security.BodyError as exc:
            kind = "too_large" if exc.status == 413 else "bad_request"
            response = error(exc.status, kind, str(exc))
            response.headers["Connection"] = "close"  # do not read the rest of the body
            return response
        try:
            draft, base = _draft(rec, body, self.catalog.model_version)
            who = security.signed_in(request)
            if who is not None and draft.annotator != who:
                message = f"you are signed in as {who}; you cannot save as {draft.annotator}"
                return error(403, "forbidden", message)
            stored = await run_in_threadpool(self.store.save, draft, base)
        except AnnotationError as exc:
            return error(400, "invalid_annotation", str(exc))
        except ConflictError as exc:
            current = exc.current
            return error(
                409,
                "conflict",
                str(exc),
                current=current
                and {
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
        "bands": _bands(rec),
        "annotators": sorted(annotations),
        "reviewed": bool(mine and mine.reviewed),
        "revision": mine.revision if mine else 0,
        "disagreement": agreement.disagrees(list(annotations.values())),
    }


def _bands(rec: Recording) -> list[tuple[float, float, str]]:
    """The model's labels as runs of one class (the timeline strip of the list)."""
    runs: list[tuple[float, float, str]] = []
    for s in rec.suggestions:
        if not s.suggested_label:
            continue
        if runs and runs[-1][2] == s.suggested_label and s.start_s - runs[-1][1] <= MERGE_GAP_S:
            runs[-1] = (runs[-1][0], s.end_s, s.suggested_label)
        else:
            runs.append((s.start_s, s.end_s, s.suggested_label))
    return runs


def _draft(rec: Recording, body: bytes, model_version: str | None) -> tuple[Revision, int]:
    """Parse and check a save request into an unsaved revision and its base revision."""
    payload = validation.parse_json(body)
    missing = sorted({"annotator", "base_revision", "segments"} - payload.keys())
    if missing:
        raise AnnotationError(f"body: missing field(s) {missing}")
    if not isinstance(payload["annotator"], str):
        raise AnnotationError("annotator: must be a string")
    annotator = check_annotator(payload["annotator"])
    base = validation.whole_number(payload["base_revision"], "base_revision")
    segments = validation.segments(payload["segments"])
    for i, segment in enumerate(segments):
        if segment.labelled_by not in {None, annotator}:
            raise AnnotationError(f"segments[{i}].labelled_by: must be you ({annotator}) or empty")
    reviewed = payload.get("reviewed", False)
    if not isinstance(reviewed, bool):
        raise AnnotationError("reviewed: must be true or false")
    draft = Revision(
        recording_id=rec.id,
        annotator=annotator,
        revision=0,
        saved_at="",
        audio_uri=rec.uri,
        segments=segments,
        model_version=model_version,
        reviewed=reviewed,
        action=validation.optional_text(payload.get("action", "edit"), "action") or "edit",
        recording={**rec.meta, "duration_s": rec.duration_s},
    )
    return draft, base


def create_app(
    catalog: Catalog,
    store: AnnotationStore,
    default_annotator: str = "",
    *,
    token: str | None = None,
    accounts: dict[str, str] | None = None,
    hosts: list[str] | None = None,
    bundle: ModelBundle | None = None,
    uploads: Path | None = None,
    models_uri: str | None = None,
    reports_uri: str | None = None,
    dagster_url: str | None = None,
) -> Starlette:
    """The ASGI app of the studio; only ``hosts`` (default: loopback names) may be in the
    ``Host`` header, with a ``token`` (or ``accounts``: token -> annotator) every request needs
    one; uploads are stored in ``uploads``
    (none without it) and classified with ``bundle`` (unlabelled windows without one), read
    from ``models_uri`` (the model page, with the learning curve from ``reports_uri``);
    ``dagster_url`` enables retraining."""
    handlers = Annotator(catalog, store, default_annotator, uploads is not None)
    studio = Studio(catalog, handlers.latest_by_annotator, uploads, bundle)
    page = ModelPage(bundle, models_uri, reports_uri)
    retrain = Retrain(dagster_url)
    explorer = Explorer(catalog)
    index = WEB / "src" / "index.html"
    hosts = hosts or list(security.LOOPBACK_HOSTS)
    middleware = [
        Middleware(TrustedHostMiddleware, allowed_hosts=hosts),
        Middleware(security.OriginCheck),
    ]
    tokens: dict[str, str | None] = {**(accounts or {})}
    if token is not None:
        tokens[token] = None
    if tokens:
        middleware.append(Middleware(security.TokenGate, tokens=tokens))
    return Starlette(
        middleware=middleware,
        routes=[
            Route("/", lambda request: FileResponse(index)),
            Route("/api/config", handlers.config),
            Route("/api/recordings", handlers.recordings),
            Route("/api/recording/{id:path}", handlers.detail),
            Route("/api/audio/{id:path}", handlers.audio),
            Route("/api/annotation/{id:path}", handlers.save, methods=["PUT"]),
            Route("/api/upload", studio.upload, methods=["POST"]),
            Route("/api/jobs", studio.jobs),
            Route("/api/summary", studio.summary),
            Route("/api/export/{id:path}", studio.export),
            Route("/api/export-all", studio.export_all),
            Route("/api/model", page.model),
            Route("/api/retrain", retrain.info),
            Route("/api/retrain", retrain.start, methods=["POST"]),
            Route("/api/retrain/{run_id}", retrain.status),
            Route("/api/features", explorer.names),
            Route("/api/features/distribution", explorer.distribution),
            Route("/api/features/pca", explorer.pca),
            Mount("/static", StaticFiles(directory=WEB / "src"), name="static"),
            Mount("/vendor", StaticFiles(directory=VENDOR), name="vendor"),
        ],
    )
