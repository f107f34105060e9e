"""The studio's model page: the current model's card, evaluation and the history of models.

``GET /api/model`` reads the bundle the studio classifies with and the ``evaluation.json`` the
pipeline writes beside it: version, training corpora, test-split metrics with their bootstrap
intervals, per-class figures, the confusion matrix, calibration, baselines and the gate; and the
other bundles of the same models folder (version, created, UAR and interval, gate), newest first;
and the learning curve of the latest pipeline run (``learning_curve.json`` in the reports folder):
pooled out-of-fold UAR with its interval per model and share of training children.
"""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vocalbaby import model_card, storage
from vocalbaby.model import BUNDLE_FILE, LATEST_POINTER, ModelBundle, resolve

EVALUATION_FILE = "evaluation.json"
LEARNING_CURVE_FILE = "learning_curve.json"
CURVE_COLUMNS = ("model", "fraction", "uar", "uar_low", "uar_high")
TOP_FEATURES = 10


def _json(uri: str) -> dict | None:
    try:
        return json.loads(storage.read_bytes(uri))
    except (FileNotFoundError, ValueError):
        return None


def _models_folder(models_uri: str, bundle_uri: str) -> str:
    """The folder holding every version: the one with ``latest.json``, else the bundle's parent."""
    if storage.exists(storage.join(models_uri, LATEST_POINTER)):
        return models_uri
    return bundle_uri.rstrip("/").rpartition("/")[0]


def history(folder: str, current: str) -> list[dict[str, object]]:
    """Every bundle under ``folder`` (one level down), newest first, with its headline figures."""
    found = []
    prefix = folder.rstrip("/")
    for key in storage.list_keys(folder):
        parent, _, name = key.rpartition("/")
        if name != BUNDLE_FILE or parent.rpartition("/")[0] != prefix:
            continue
        meta = (_json(key) or {}).get("metadata", {})
        evaluation = _json(storage.join(parent, EVALUATION_FILE)) or {}
        metrics = evaluation.get("metrics", {})
        interval = (metrics.get("intervals") or {}).get("uar")
        found.append(
            {
                "version": str(meta.get("version", parent.rpartition("/")[2])),
                "created": str(meta.get("created") or ""),
                "dataset_uri": str(meta.get("dataset_uri") or ""),
                "uar": metrics.get("uar"),
                "uar_interval": interval,
                "gate_passed": (evaluation.get("gate") or {}).get("passed"),
                "current": str(meta.get("version")) == current,
            }
        )
    return sorted(found, key=lambda m: (m["created"], m["version"]), reverse=True)


def learning_curve(reports_uri: str | None) -> list[dict[str, object]]:
    """Rows of the latest learning curve (model, fraction, UAR and its interval), or none."""
    rows = _json(storage.join(reports_uri, LEARNING_CURVE_FILE)) if reports_uri else None
    if not isinstance(rows, list):
        return []
    return [{k: row.get(k) for k in CURVE_COLUMNS} for row in rows if isinstance(row, dict)]


def describe(
    bundle: ModelBundle | None, models_uri: str | None, reports_uri: str | None = None
) -> dict[str, object]:
    """Everything the model page shows, or ``available: false`` with the reason."""
    if bundle is None or not models_uri:
        return {
            "available": False,
            "message": "No model: suggestions come unlabelled. Train one (make demo) or start "
            "the studio with --model PATH.",
        }
    bundle_uri = resolve(models_uri)
    evaluation = _json(storage.join(bundle_uri, EVALUATION_FILE))
    card = model_card.build(bundle, evaluation, bundle_uri)
    card.pop("feature_names", None)  # 88 names: the feature explorer lists them
    metrics = (evaluation or {}).get("metrics", {})
    return {
        "available": True,
        "card": card,
        "per_class": metrics.get("per_class", {}),
        "confusion": {
            "labels": metrics.get("labels", []),
            "matrix": metrics.get("confusion_matrix", []),
        },
        "calibration": _calibration((evaluation or {}).get("calibration")),
        "top_features": top_features(bundle),
        "history": history(_models_folder(models_uri, bundle_uri), bundle.version),
        "learning_curve": learning_curve(reports_uri),
    }


def top_features(bundle: ModelBundle, n: int = TOP_FEATURES) -> list[dict[str, object]]:
    """The ``n`` most important features and their share (:meth:`ModelBundle.importance`)."""
    ranked = bundle.importance().head(n)
    return [{"feature": name, "share": round(float(v), 4)} for name, v in ranked.items()]


def _calibration(found: dict | None) -> dict[str, object] | None:
    """Temperature and expected calibration error before and after it (no reliability bins)."""
    if not found:
        return None
    return {k: found.get(k) for k in ("temperature", "ece", "ece_uncalibrated")}


class ModelPage:
    """``GET /api/model`` over the studio's bundle and where it came from."""

    def __init__(
        self, bundle: ModelBundle | None, models_uri: str | None, reports_uri: str | None
    ) -> None:
        self.bundle = bundle
        self.models_uri = models_uri
        self.reports_uri = reports_uri

    async def model(self, request: Request) -> Response:
        found = await run_in_threadpool(describe, self.bundle, self.models_uri, self.reports_uri)
        return JSONResponse(found)
