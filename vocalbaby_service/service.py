"""The VocalBaby HTTP service (BentoML 1.4): classify infant vocalizations in uploaded audio.

Run it with ``bentoml serve vocalbaby_service.service:VocalBaby`` (port 3000), or build a Bento
with ``bentoml build`` (see ``bentofile.yaml``). The service is thin: uploads are parsed and
checked in :mod:`vocalbaby_service.uploads`, audio is decoded by :func:`vocalbaby.audio.load` and
classified by :func:`vocalbaby.inference.analyze_many`, exactly as the CLI and the pipeline do.

Endpoints: ``POST /predict`` (multipart ``files``), ``POST /predict_zip`` (multipart ``file``),
``POST /predict_features`` (JSON ``{"rows": [{feature: value, ...}]}``, adaptive batching),
``GET /model_info``; BentoML's ``/healthz``, ``/livez``, ``/readyz`` and ``/metrics``.
Refused requests get a 4xx JSON body (see :mod:`vocalbaby_service.errors`).

Environment:

- ``VOCALBABY_MODEL_TAG``: model in the BentoML store [``vocalbaby:latest``]; read at import
  time, so ``bentoml build`` packs that model into the Bento.
- ``VOCALBABY_API_TOKEN``: when set, every route except health checks (``/metrics`` included)
  needs ``Authorization: Bearer <token>``; in production (``VOCALBABY_ENV=prod`` or
  ``VOCALBABY_REQUIRE_TOKEN=1``) the service does not start without one of 32 characters or
  more (see :mod:`vocalbaby_service.auth`).
- ``VOCALBABY_CORS_ORIGINS``: comma-separated origins allowed by CORS [CORS off].
- ``VOCALBABY_PREDICTION_LOG_URI``: folder or ``s3://`` prefix of the prediction log [off];
  ``VOCALBABY_PREDICTION_LOG_BATCH_ROWS`` [1000] and ``VOCALBABY_PREDICTION_LOG_INTERVAL_S`` [30]
  set how often it is shipped; rows are spooled to local disk every second first, in
  ``VOCALBABY_PREDICTION_SPOOL_DIR`` [a folder per log URI under the system temp folder], and
  leftover spools of a killed worker are shipped on the next start (see
  :mod:`vocalbaby_service.prediction_log`).
- ``VOCALBABY_MAX_*``: request limits (see :mod:`vocalbaby_service.limits`).

Concurrency: one worker process by default. ``/predict`` and ``/predict_zip`` are async: an
upload is checked in a small thread pool as soon as it has arrived, then waits for one of
``VOCALBABY_MAX_CONCURRENT`` work turns (see :mod:`vocalbaby_service.admission`) and is decoded
and classified in a worker thread (openSMILE and XGBoost release the GIL); every request's
windows go to the one process-wide pool of feature-extraction threads, a few at a time, so a
small request is not held up behind a long one. More processes (a model copy each; measured no
better per CPU second on 2 cores): ``BENTOML_CONFIG_OPTIONS="services.vocalbaby.workers=2"``.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Any

import anyio
import bentoml
import numpy as np
import pandas as pd
from bentoml.validators import ContentType
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from vocalbaby import features, inference, model_card
from vocalbaby.model import ModelBundle
from vocalbaby_service import auth, model_store, telemetry
from vocalbaby_service.admission import Admission
from vocalbaby_service.errors import (
    GENERIC_TYPES,
    RETRY_AFTER_S,
    FileProblem,
    RequestError,
    refuse_files,
)
from vocalbaby_service.limits import Limits
from vocalbaby_service.memory import keep_memory_bounded
from vocalbaby_service.middleware import DEADLINE_KEY, Gatekeeper
from vocalbaby_service.prediction_log import PredictionLog, Records
from vocalbaby_service.row_limit import RowLimit
from vocalbaby_service.schemas import ROW_FEATURE_SET, FeatureRow
from vocalbaby_service.uploads import (
    AudioFiles,
    Upload,
    ZipArchive,
    audio_seconds,
    check_files,
    decode,
    refusal,
    unpack_zip,
)

logger = logging.getLogger(__name__)

MODEL_TAG = os.environ.get("VOCALBABY_MODEL_TAG") or model_store.DEFAULT_TAG
LIMITS = Limits.from_env()
API_TOKEN = auth.api_token()  # first: a production server without a usable token never starts
ENDPOINTS = ("/predict", "/predict_zip", "/predict_features", "/model_info")
MAX_FEATURE_ROWS = 512  # rows of one /predict_features request (413 beyond), and its batch size
TIMEOUT_MARGIN_S = 5  # BentoML's own timeout is later, so the service's deadline answers first
CHECKED_EXTRACTOR_KEYS = ("feature_set", "feature_level", "sample_rate", "num_features")
ADMISSION = Admission(LIMITS.max_concurrent, LIMITS.max_queued, LIMITS.max_audio_in_flight_s)
CHECKS = anyio.CapacityLimiter(4)  # threads checking uploads (cheap: file headers)
JsonAnswer = Annotated[dict[str, Any], ContentType("application/json")]
"""An answer declared JSON: BentoML then takes its media type from the declaration instead of
building the return type's JSON schema again for every response (a tenth of the worker's GIL
time under load)."""
JsonRows = Annotated[list[dict[str, Any]], ContentType("application/json")]
WORK = anyio.CapacityLimiter(LIMITS.max_concurrent)  # threads decoding and classifying


def _http_config() -> dict[str, Any]:
    origins = [o.strip() for o in os.environ.get("VOCALBABY_CORS_ORIGINS", "").split(",")]
    if not any(origins):
        return {}
    cors = {
        "enabled": True,
        "access_control_allow_origins": [o for o in origins if o],
        "access_control_allow_methods": ["GET", "POST", "OPTIONS"],
        "access_control_allow_headers": ["Authorization", "Content-Type"],
    }
    return {"cors": cors}


def _prediction_log(bundle: ModelBundle) -> PredictionLog | None:
    uri = os.environ.get("VOCALBABY_PREDICTION_LOG_URI")
    if not uri:
        return None
    rows = telemetry.get().log_rows
    return PredictionLog(
        uri,
        bundle.feature_names,
        bundle.classes,
        batch_rows=int(os.environ.get("VOCALBABY_PREDICTION_LOG_BATCH_ROWS", "1000")),
        interval_s=float(os.environ.get("VOCALBABY_PREDICTION_LOG_INTERVAL_S", "30")),
        on_accept=rows.labels(outcome="accepted").inc,
        on_write=rows.labels(outcome="written").inc,
        on_drop=rows.labels(outcome="dropped").inc,
        on_error=rows.labels(outcome="failed").inc,
    )


def _check_extractor(bundle: ModelBundle) -> None:
    """Refuse to serve a model trained on features this server would compute differently."""
    serving = features.extractor_config(bundle.feature_set)
    differ = [k for k in CHECKED_EXTRACTOR_KEYS if bundle.feature_config.get(k) != serving[k]]
    if differ or list(bundle.feature_names) != list(features.feature_names(bundle.feature_set)):
        raise RuntimeError(
            f"model features do not match this server's extractor ({differ or 'feature names'}): "
            f"model {bundle.feature_config}, server {serving}"
        )


def _checked(uploads: list[Upload], max_files: int) -> tuple[list[Upload], float]:
    """The uploads after every check that needs no decoding, and their audio seconds."""
    check_files(uploads, max_files)
    return uploads, audio_seconds(uploads, LIMITS)


def _request_id(ctx: bentoml.Context) -> str:
    """BentoML's request id (the ``X-BentoML-Request-ID`` response header), or a new one."""
    span_id = ctx.request.scope.get("request_id")
    return format(span_id, "016x") if span_id else uuid.uuid4().hex


async def _model_info(_: Request) -> JSONResponse:
    return JSONResponse(bentoml.get_current_service().model_info())


@bentoml.service(
    name="vocalbaby",
    workers=1,
    threads=LIMITS.max_concurrent,
    traffic={"timeout": LIMITS.request_timeout_s + TIMEOUT_MARGIN_S},
    http=_http_config(),
)
class VocalBaby:
    """Infant vocalization classifier: canonical, non_canonical, crying, laughing, junk."""

    model_ref = bentoml.models.BentoModel(MODEL_TAG)  # declares the model: packed by `build`

    def __init__(self) -> None:
        keep_memory_bounded()  # see vocalbaby_service.memory
        self.bundle, self.stored = model_store.load(MODEL_TAG)
        _check_extractor(self.bundle)
        if self.bundle.booster is not None:
            self.bundle.booster.set_param({"nthread": 1})  # requests already run in parallel
        meta = self.stored.info.metadata
        self.version = str(
            meta.get("version") or self.bundle.metadata.get("version") or self.stored.tag.version
        )
        self.metrics = telemetry.get()
        self.metrics.model_info.labels(
            version=self.version,
            tag=str(self.stored.tag),
            feature_set=str(self.bundle.feature_config.get("feature_set")),
        ).set(1)
        self.log = _prediction_log(self.bundle)
        logger.info("serving model %s (version %s)", self.stored.tag, self.version)

    @bentoml.api(input_spec=AudioFiles)
    async def predict(self, files: list[Upload], ctx: bentoml.Context) -> JsonAnswer:
        """Classify audio files (multipart field ``files``; wav, flac or ogg; any rate)."""
        return await self._answer(ctx, "predict", lambda: _checked(files, LIMITS.max_files))

    @bentoml.api(input_spec=ZipArchive)
    async def predict_zip(self, file: Upload, ctx: bentoml.Context) -> JsonAnswer:
        """Classify every audio file in a ZIP archive (multipart field ``file``)."""
        return await self._answer(
            ctx, "predict_zip", lambda: _checked(unpack_zip(file, LIMITS), LIMITS.max_zip_members)
        )

    @bentoml.api(batchable=True, max_batch_size=MAX_FEATURE_ROWS, max_latency_ms=1000)
    def predict_features(self, rows: list[FeatureRow]) -> JsonRows:  # type: ignore[valid-type]
        """Classify rows of the 88 named eGeMAPS features: a label and probabilities each.

        Rows from several requests are batched together, so for a model that normalises per
        recording each row is a recording of its own (uploads to ``/predict``: one file, one
        recording). A model trained on another feature set refuses them (409): it takes audio."""
        if self.bundle.feature_set != ROW_FEATURE_SET:
            raise RequestError(
                HTTPStatus.CONFLICT,
                GENERIC_TYPES[HTTPStatus.CONFLICT],  # batched: BentoML keeps only the message
                f"this model computes {self.bundle.feature_set} features; /predict_features "
                f"takes {ROW_FEATURE_SET} rows only: send the audio to /predict or /predict_zip",
            )
        if not rows:
            return []
        table = pd.DataFrame(
            [row.model_dump(by_alias=True) for row in rows],
            columns=list(features.feature_names(ROW_FEATURE_SET)),
            dtype=float,
        )
        proba = self.bundle.predict_proba(table)
        labels = [str(label) for label in proba.idxmax(axis=1)]
        no_file = {**dict.fromkeys(("file", "start_s", "end_s")), "silent": False}
        records = Records(
            features=table.to_numpy(np.float32),
            probabilities=proba.to_numpy(np.float32),
            labels=labels,
            columns={**no_file, **self._context(None, "predict_features")},
        )
        self._record(records)
        return [
            {
                "label": label,
                "probabilities": dict(zip(self.bundle.classes, map(float, p), strict=True)),
            }
            for label, p in zip(labels, proba.to_numpy(), strict=True)
        ]

    def model_info(self) -> dict[str, Any]:
        """The model being served: tag, version, metrics, what it was trained on (its model
        family, corpora, whether only synthetic demo data, its leave-one-corpus-out figure),
        classes, features, extractor."""
        meta = self.stored.info.metadata
        return {
            "tag": str(self.stored.tag),
            "version": self.version,
            "created": self.stored.info.creation_time.isoformat(),
            "metrics": meta.get("metrics", {}),
            "metadata": meta,
            "training_data": model_card.training_data(meta),
            "classes": self.bundle.classes,
            "feature_names": self.bundle.feature_names,
            "extractor_config": self.bundle.feature_config,
        }

    @bentoml.on_shutdown
    def flush_prediction_log(self) -> None:
        """Ship the buffered and spooled prediction-log rows before the process exits."""
        if self.log:
            self.log.close()

    async def _answer(
        self,
        ctx: bentoml.Context,
        endpoint: str,
        check: Callable[[], tuple[list[Upload], float]],
    ) -> dict[str, Any]:
        """Check the upload (the parser's refusal first, then ``check``: files and headers,
        giving the audio seconds), wait for a work turn, classify; a :class:`RequestError`
        becomes its status and JSON body. Checks never wait behind other requests' work."""
        try:
            refusal(ctx.request)
            uploads, seconds = await anyio.to_thread.run_sync(check, limiter=CHECKS)
            scope = ctx.request.scope
            deadline = scope.get(DEADLINE_KEY) or time.monotonic() + LIMITS.request_timeout_s
            async with ADMISSION.turn(seconds, deadline):
                analyses = await anyio.to_thread.run_sync(
                    self._classify, uploads, deadline, limiter=WORK
                )
            return self._respond(analyses, ctx, endpoint)
        except RequestError as exc:
            self.metrics.errors.labels(error_type=exc.error_type).inc()
            ctx.response.status_code = exc.error_code
            if exc.retry_after_s is not None:
                ctx.response.headers["Retry-After"] = str(exc.retry_after_s)
            return exc.body()

    def _classify(self, uploads: list[Upload], deadline: float) -> list[inference.Analysis]:
        """Decode and classify (in a worker thread), stopping at ``deadline``."""
        try:
            return inference.analyze_many(decode(uploads, LIMITS), self.bundle, deadline=deadline)
        except features.DeadlineExceeded as exc:
            raise RequestError(
                HTTPStatus.SERVICE_UNAVAILABLE,
                "deadline_exceeded",
                f"not done within {LIMITS.request_timeout_s:g} s ({exc}); retry later",
                retry_after_s=RETRY_AFTER_S,
            ) from exc

    def _respond(
        self, analyses: list[inference.Analysis], ctx: bentoml.Context, endpoint: str
    ) -> dict[str, Any]:
        refuse_files(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            "feature_extraction_failed",
            "no features could be extracted",
            [
                FileProblem(a.prediction.file, a.prediction.error)
                for a in analyses
                if a.prediction.error
            ],
        )
        request_id = _request_id(ctx)
        self._record(Records.of_analyses(analyses, **self._context(request_id, endpoint)))
        return {
            "model_version": self.version,
            "request_id": request_id,
            "results": [a.prediction.to_dict() for a in analyses],
        }

    def _context(self, request_id: str | None, endpoint: str) -> dict[str, object]:
        """The prediction-log columns that describe the request."""
        return {
            "model_version": self.version,
            "timestamp": datetime.now(UTC),
            "request_id": request_id,
            "endpoint": endpoint,
        }

    def _record(self, records: Records) -> None:
        """Count the predictions and queue them for the prediction log."""
        self.metrics.count_predictions(records.labels, self.version)
        if self.log:
            self.log.append(records)


VocalBaby.add_asgi_middleware(
    Gatekeeper,
    token=API_TOKEN,
    max_body_bytes=LIMITS.max_upload_bytes,
    endpoints=ENDPOINTS,
    admission=ADMISSION,
    timeout_s=LIMITS.request_timeout_s,
)
VocalBaby.add_asgi_middleware(RowLimit, path="/predict_features", max_rows=MAX_FEATURE_ROWS)
VocalBaby.mount_asgi_app(Starlette(routes=[Route("/model_info", _model_info)]), path="/")
