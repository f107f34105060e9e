"""The model a command uses: a given bundle or models folder, else the current model."""

from __future__ import annotations

import typer

from vocalbaby.locations import Locations
from vocalbaby.model import ModelBundle, ModelError


def load_model(model: str | None) -> ModelBundle:
    """Load a bundle folder, a models folder (its ``latest.json``) or the current model
    (``$VOCALBABY_ARTIFACTS_URI/models``); a usage error names what is missing."""
    try:
        return ModelBundle.load(model or Locations.from_env().models)
    except ModelError as exc:
        raise typer.BadParameter(
            f"{exc}. Train one first (`make demo`) or pass --model PATH.", param_hint="--model"
        ) from exc


def optional_model(model: str | None) -> ModelBundle | None:
    """Like :func:`load_model`, but without a model (and none asked for) ``None``."""
    if model:
        return load_model(model)
    try:
        return ModelBundle.load(Locations.from_env().models)
    except ModelError as exc:
        typer.echo(f"no model ({exc}): segments come unlabelled", err=True)
        return None
