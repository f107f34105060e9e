"""The model card: what a registry (the BentoML store) keeps about a model, built in one place.

The ``bento_model`` asset, ``vocalbaby-pipeline register`` (the release) and the test and
benchmark rigs all register through :func:`build`, so the service's ``/model_info`` shows the same
keys however a model got into the store. A model that was never evaluated says so
(``evaluated: false``) instead of leaving the metrics out.

>>> evaluation = json.loads(Path("evaluation.json").read_text())  # doctest: +SKIP
>>> card = build(bundle, evaluation)  # doctest: +SKIP
>>> sorted(card) == sorted(KEYS)  # doctest: +SKIP
True
"""

from __future__ import annotations

from collections.abc import Mapping

from vocalbaby.model import ModelBundle

MODEL_NAME = "vocalbaby"  # the model's name in the BentoML store
KEYS = (
    "version",
    "created",
    "source",
    "classes",
    "feature_names",
    "feature_config",
    "params",
    "temperature",
    "dataset_uri",
    "dataset_hash",
    "synthetic_demo_data",
    "git_commit",
    "packages",
    "evaluated",
    "metrics",
    "per_class_recall",
    "intervals",
    "baselines_uar",
    "gate",
)
METRICS = ("uar", "macro_f1", "accuracy", "n")


def build(
    bundle: ModelBundle, evaluation: Mapping[str, object] | None = None, source: str | None = None
) -> dict[str, object]:
    """The card of ``bundle``: its provenance, and its test-split evaluation when there is one.

    ``evaluation`` is the ``model_evaluation`` asset's value (or its ``evaluation.json``);
    ``source`` says where the bundle was read from (a folder or ``s3://`` prefix). Every key of
    :data:`KEYS` is always present; an unknown value is an empty string or mapping (BentoML's
    metadata has no null).
    """
    meta = bundle.metadata
    card: dict[str, object] = {
        "version": bundle.version,
        "created": str(meta.get("created") or ""),
        "source": source or "",
        "classes": list(bundle.classes),
        "feature_names": list(bundle.feature_names),
        "feature_config": dict(bundle.feature_config),
        "params": dict(meta.get("params") or {}),
        "temperature": float(bundle.temperature),
        "dataset_uri": str(meta.get("dataset_uri") or ""),
        "dataset_hash": str(meta.get("dataset_hash") or ""),
        "synthetic_demo_data": bool(meta.get("synthetic_demo_data", False)),
        "git_commit": str(meta.get("git_commit") or ""),
        "packages": dict(meta.get("packages") or {}),
        "evaluated": evaluation is not None,
        "metrics": {},
        "per_class_recall": {},
        "intervals": {},
        "baselines_uar": {},
        "gate": {},
    }
    if evaluation is not None:
        result = evaluation["metrics"]
        gate = evaluation["gate"]
        found = result.get("intervals") or {}
        card |= {
            "metrics": {k: result[k] for k in METRICS},
            "per_class_recall": {c: m["recall"] for c, m in result["per_class"].items()},
            "intervals": {
                k: found[k] for k in ("uar", "macro_f1", "level", "n_groups") if k in found
            },
            "baselines_uar": {k: v["uar"] for k, v in evaluation.get("baselines", {}).items()},
            "gate": {"passed": bool(gate["passed"]), "reasons": list(gate["reasons"])},
        }
    return _without_nulls(card)


def _without_nulls(value: object) -> object:
    """``value`` with every ``None`` inside it replaced by an empty string."""
    if isinstance(value, Mapping):
        return {k: _without_nulls(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_without_nulls(v) for v in value]
    return "" if value is None else value
