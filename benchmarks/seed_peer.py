"""A peer service built the way the original VocalBaby served, for ``benchmarks/serve.py``.

Per uploaded file: save it to a temporary file, ``opensmile.Smile.process_file`` (a new
openSMILE engine per call), then the model bundle's own imputation and classifier. The same
model as the service (``VOCALBABY_MODEL_TAG`` from ``BENTOML_HOME``), on Starlette and
uvicorn (what FastAPI runs on), one process:

    VOCALBABY_MODEL_TAG=vocalbaby:latest python -m uvicorn benchmarks.seed_peer:app --port 3100
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import opensmile
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from vocalbaby import features
from vocalbaby_service import model_store

BUNDLE, _ = model_store.load(os.environ.get("VOCALBABY_MODEL_TAG") or model_store.DEFAULT_TAG)
SMILE = opensmile.Smile(feature_set=features.FEATURE_SET, feature_level=features.FEATURE_LEVEL)


def classify(name: str, data: bytes) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, Path(name).name or "upload.wav")
        path.write_bytes(data)
        row = SMILE.process_file(str(path))
    proba = BUNDLE.predict_proba(row).to_numpy()[0]
    return {
        "file": name,
        "label": BUNDLE.classes[int(np.argmax(proba))],
        "probabilities": dict(zip(BUNDLE.classes, map(float, proba), strict=True)),
    }


async def predict(request: Request) -> JSONResponse:
    form = await request.form()
    uploads = [(f.filename, await f.read()) for f in form.getlist("files")]
    results = [await run_in_threadpool(classify, name, data) for name, data in uploads]
    return JSONResponse({"results": results})


async def healthz(_: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/predict", predict, methods=["POST"]), Route("/healthz", healthz)])
