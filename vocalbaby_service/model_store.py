"""The VocalBaby model in the BentoML model store: register a bundle, load it back by tag.

The stored model's folder holds the bundle's files (see :mod:`vocalbaby.model`), so serving
loads exactly what the pipeline trained and evaluated.
"""

from __future__ import annotations

import bentoml

from vocalbaby.model import ModelBundle

MODEL_NAME = "vocalbaby"


def register(
    bundle: ModelBundle, metadata: dict[str, object], labels: dict[str, str] | None = None
) -> str:
    """Save ``bundle`` as a new version of :data:`MODEL_NAME`; return its tag string."""
    with bentoml.models.create(MODEL_NAME, metadata=metadata, labels=labels or {}) as stored:
        bundle.save(stored.path)
    return str(stored.tag)


def load(tag: str = f"{MODEL_NAME}:latest") -> tuple[ModelBundle, bentoml.Model]:
    """The bundle stored under ``tag`` and its BentoML model entry (for tag and metadata)."""
    stored = bentoml.models.get(tag)
    return ModelBundle.load(stored.path), stored
