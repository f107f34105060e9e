"""The served model, loaded by tag from the BentoML model store.

A stored model's folder holds a model bundle's files (:mod:`vocalbaby.model`), so serving loads
exactly what the pipeline trained, evaluated and registered (``vocalbaby_assets``' ``bento_model``
asset, or ``vocalbaby-pipeline register``); its metadata is the model card
(:mod:`vocalbaby.model_card`).
"""

from __future__ import annotations

import bentoml

from vocalbaby.model import ModelBundle
from vocalbaby.model_card import MODEL_NAME

DEFAULT_TAG = f"{MODEL_NAME}:latest"


def load(tag: str = DEFAULT_TAG) -> tuple[ModelBundle, bentoml.Model]:
    """The bundle stored under ``tag`` and its BentoML model entry (for tag and metadata)."""
    stored = bentoml.models.get(tag)
    return ModelBundle.load(stored.path), stored
