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
    "model_family",
    "params",
    "temperature",
    "dataset_uri",
    "dataset_hash",
    "synthetic_demo_data",
    "trained_corpora",
    "generalisation",
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
    ``source`` says where the bundle was read from (a folder or ``s3://`` prefix).
    ``generalisation`` is the leave-one-corpus-out headline the bundle was trained with
    (:func:`vocalbaby.generalisation.headline`), empty for a bundle trained without it. Every key of
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
        "model_family": bundle.family,
        "params": dict(meta.get("params") or {}),
        "temperature": float(bundle.temperature),
        "dataset_uri": str(meta.get("dataset_uri") or ""),
        "dataset_hash": str(meta.get("dataset_hash") or ""),
        "synthetic_demo_data": bool(meta.get("synthetic_demo_data", False)),
        "trained_corpora": list(meta.get("trained_corpora") or []),
        "generalisation": dict(meta.get("generalisation") or {}),
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


def training_data(meta: Mapping[str, object]) -> dict[str, object]:
    """What a model learned from, as users are told (``/model_info``, ``vocalbaby evaluate``):
    its model family, its corpora, whether they were only the SYNTHETIC demo set, and its
    recipe's leave-one-corpus-out figure (empty when none was measured). ``meta`` is a bundle's
    metadata or its model card."""
    return {
        "model_family": str(meta.get("model_family") or "xgboost"),
        "corpora": list(meta.get("trained_corpora") or []),
        "synthetic_demo_data_only": bool(meta.get("synthetic_demo_data", False)),
        "leave_one_corpus_out": dict(meta.get("generalisation") or {}),
    }


def describe_training_data(meta: Mapping[str, object]) -> str:
    """:func:`training_data` as three lines of text."""
    found = training_data(meta)
    corpora = ", ".join(found["corpora"]) or "unknown corpora"
    synthetic = (
        " (SYNTHETIC demo data only: a pipeline demo, not a model of real infant audio)"
        if found["synthetic_demo_data_only"]
        else ""
    )
    head = f"Trained on: {corpora}{synthetic}\nModel family: {found['model_family']}"
    loco = found["leave_one_corpus_out"]
    if not loco.get("pooled_uar"):
        return f"{head}\nLeave-one-corpus-out: not measured"
    uar = loco["pooled_uar"]
    level = round(100 * float(loco.get("level") or 0.95))
    text = (
        f"Leave-one-corpus-out UAR {uar['estimate']:.3f} ({level}% CI {uar['low']:.3f}-"
        f"{uar['high']:.3f}) over held-out {', '.join(loco.get('held_out') or [])}"
    )
    difference = loco.get("vs_compare_recipe")
    if difference:
        text += f"; minus the ComParE recipe: {difference['estimate']:+.3f}"
    worst = loco.get("lowest_real_recall")
    if worst:
        text += (
            f"; lowest real-corpus recall: {worst['class']} {worst['recall']:.2f} "
            f"on {worst['corpus']}"
        )
    return f"{head}\n{text}"
