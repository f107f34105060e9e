"""Where VocalBaby keeps its files: every default location, defined once.

Each is a local folder or an ``s3://`` prefix. Environment variables (defaults in brackets):

- ``VOCALBABY_ARTIFACTS_URI`` [``artifacts``]: models, caches, reports, the Optuna study;
- ``VOCALBABY_ANNOTATIONS_URI`` [``<artifacts>/annotations``]: the annotation store;
- ``VOCALBABY_PREDICTION_LOG_URI`` [``<artifacts>/prediction_log``]: the service's prediction
  log, the input of drift monitoring.

The command line and the pipeline's settings resource both resolve them here, so a variable
set for one is honoured by the other.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from vocalbaby import storage

ARTIFACTS_ENV = "VOCALBABY_ARTIFACTS_URI"
ANNOTATIONS_ENV = "VOCALBABY_ANNOTATIONS_URI"
PREDICTION_LOG_ENV = "VOCALBABY_PREDICTION_LOG_URI"
DEFAULT_ARTIFACTS = "artifacts"


@dataclass(frozen=True)
class Locations:
    """Resolved locations; build with :meth:`of` or :meth:`from_env`."""

    artifacts: str
    annotations: str
    prediction_log: str

    @classmethod
    def of(
        cls,
        artifacts: str | None = None,
        annotations: str | None = None,
        prediction_log: str | None = None,
    ) -> Locations:
        """The given locations, with the defaults for those left out (``None`` or empty)."""
        root = artifacts or DEFAULT_ARTIFACTS
        return cls(
            root,
            annotations or storage.join(root, "annotations"),
            prediction_log or storage.join(root, "prediction_log"),
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Locations:
        """The locations the ``VOCALBABY_*_URI`` variables name, with defaults."""
        return cls.of(env.get(ARTIFACTS_ENV), env.get(ANNOTATIONS_ENV), env.get(PREDICTION_LOG_ENV))

    def path(self, *parts: str) -> str:
        """A location under the artifacts root."""
        return storage.join(self.artifacts, *parts)

    @property
    def models(self) -> str:
        """Trained model bundles and the ``latest.json`` pointer to the current one."""
        return self.path("models")

    @property
    def reports(self) -> str:
        """The pipeline's HTML/CSV/JSON reports (model comparison, learning curve, evaluation)."""
        return self.path("reports")

    @property
    def annotated_clips(self) -> str:
        """The export of the annotation store as a dataset (the ``annotated_clips`` asset)."""
        return self.path("annotated_clips")
