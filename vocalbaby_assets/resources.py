"""Resources: where data and artifacts live, the model registry, and the IO manager per
environment.

``resources(settings, env)`` is the one place that picks them: ``VOCALBABY_ENV=local`` (default)
pickles asset values under ``<artifacts>/dagster``; ``VOCALBABY_ENV=prod`` uses dagster-aws'
``S3PickleIOManager`` under the ``s3://`` artifacts URI (``AWS_ENDPOINT_URL_S3`` for
S3-compatible servers), its S3 outages retried (:mod:`vocalbaby_assets.retries`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from dagster import ConfigurableResource, FilesystemIOManager
from dagster_aws.s3 import S3Resource
from pydantic import Field

from vocalbaby import features, locations, storage
from vocalbaby.locations import Locations
from vocalbaby.model import ModelBundle
from vocalbaby.model_card import MODEL_NAME
from vocalbaby_assets.retries import OutageRetryingS3IOManager

ENV_VARIABLE = "VOCALBABY_ENV"
EXPORT_POINTER = "latest.json"  # in a folder of exported models: the latest gated export
ENVIRONMENTS = ("local", "prod")


class VocalBabySettings(ConfigurableResource):
    """Dataset and artifacts locations (local folders or ``s3://`` prefixes)."""

    dataset_uri: str | None = Field(
        default=None,
        description="BabbleCor-style dataset (folder or s3:// prefix). Empty: synthetic demo set.",
    )
    artifacts_uri: str = Field(default="artifacts", description="Models, caches, reports.")
    demo_clips: int = Field(default=2000, description="Clips in the generated synthetic demo set.")
    demo_seed: int = Field(default=0, description="Seed of the synthetic demo set.")
    demo_difficulty: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description="How much the synthetic classes overlap (1: like real recordings).",
    )
    feature_set: Literal["eGeMAPSv02", "ComParE_2016"] = Field(
        default="eGeMAPSv02",
        description="openSMILE functionals the model is trained on (vocalbaby.features."
        "FEATURE_SETS); the bundle records it and serving extracts the same.",
    )
    optuna_storage: str | None = Field(
        default=None,
        description="Optuna RDB URL; default SQLite under a local artifacts folder.",
    )
    prediction_log_uri: str | None = Field(
        default=None,
        description="The service's prediction log (folder or s3:// prefix); "
        "default <artifacts>/prediction_log.",
    )
    annotations_uri: str | None = Field(
        default=None,
        description="Annotation store of `vocalbaby annotate` (folder or s3:// prefix); "
        "default <artifacts>/annotations.",
    )
    pushgateway_url: str | None = Field(
        default=None, description="Prometheus Pushgateway for drift scores; empty: no push."
    )
    io_manager_uri: str | None = Field(
        default=None,
        description="s3:// prefix of the prod IO manager's asset values; default "
        "<artifacts>/dagster.",
    )

    @property
    def is_demo(self) -> bool:
        """Whether the pipeline runs on the generated synthetic demo set."""
        return not self.dataset_uri

    @property
    def locations(self) -> Locations:
        """Every location under (or beside) the artifacts root, defaults resolved."""
        return Locations.of(self.artifacts_uri, self.annotations_uri, self.prediction_log_uri)

    def path(self, *parts: str) -> str:
        """A location under the artifacts URI."""
        return self.locations.path(*parts)

    def synthetic_dataset(self) -> str:
        """Where the ``source_dataset`` asset writes the synthetic demo set."""
        name = f"demo-data-{self.demo_clips}-{self.demo_seed}-d{self.demo_difficulty:g}"
        return self.path(name)

    def study_storage(self) -> str | None:
        """Where Optuna keeps the study: configured RDB, else SQLite beside local artifacts."""
        if self.optuna_storage:
            return self.optuna_storage
        if storage.is_s3(self.artifacts_uri):
            return None
        Path(self.artifacts_uri).mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{Path(self.artifacts_uri).resolve() / 'optuna.db'}"


def settings_from_env(env: Mapping[str, str] = os.environ, **overrides: Any) -> VocalBabySettings:
    """Settings from the ``VOCALBABY_*`` environment variables; ``overrides`` that are not
    ``None`` win (the command line's options). Unset locations keep their defaults under the
    artifacts root (see :mod:`vocalbaby.locations`)."""
    values = {
        "dataset_uri": env.get("VOCALBABY_DATASET_URI") or None,
        "artifacts_uri": env.get(locations.ARTIFACTS_ENV) or locations.DEFAULT_ARTIFACTS,
        "annotations_uri": env.get(locations.ANNOTATIONS_ENV) or None,
        "prediction_log_uri": env.get(locations.PREDICTION_LOG_ENV) or None,
        "optuna_storage": env.get("VOCALBABY_OPTUNA_STORAGE") or None,
        "pushgateway_url": env.get("VOCALBABY_PUSHGATEWAY_URL") or None,
        "io_manager_uri": env.get("VOCALBABY_IO_MANAGER_URI") or None,
        "feature_set": env.get("VOCALBABY_FEATURE_SET") or features.DEFAULT_FEATURE_SET,
    }
    return VocalBabySettings(**values | {k: v for k, v in overrides.items() if v is not None})


class ModelRegistry(ConfigurableResource):
    """The BentoML model store (``$BENTOML_HOME``, default ``~/bentoml``) that gated models are
    registered in; ``bentoml serve`` loads them from there."""

    model_name: str = Field(default=MODEL_NAME, description="Name of the model in the store.")

    def register(self, bundle: ModelBundle, card: dict[str, object], labels: dict[str, str]) -> str:
        """Store ``bundle`` as a new version with ``card`` as its metadata; return its tag."""
        import bentoml  # imported on use: loading the code location does not need it

        with bentoml.models.create(self.model_name, metadata=card, labels=labels) as stored:
            bundle.save(stored.path)
        return str(stored.tag)

    def export(self, tag: str, folder: str) -> str:
        """Write the stored model ``tag`` as one ``.bentomodel`` file into ``folder`` (local or
        ``s3://``) and point ``folder/latest.json`` at it; return the file's URI."""
        import bentoml

        with tempfile.TemporaryDirectory(prefix="vocalbaby-export-") as tmp:
            path = bentoml.models.export_model(tag, str(Path(tmp, "model.bentomodel")))
            uri = storage.join(folder, f"{tag.replace(':', '-')}.bentomodel")
            storage.write_bytes(uri, Path(path).read_bytes())
        storage.write_bytes(
            storage.join(folder, EXPORT_POINTER), json.dumps({"tag": tag, "uri": uri}).encode()
        )
        return uri

    @staticmethod
    def import_export(uri: str) -> str:
        """Import a ``.bentomodel`` file (or the latest export of a folder ``export`` wrote)
        into this process's BentoML store; return its tag."""
        import bentoml

        if not uri.endswith(".bentomodel"):
            uri = json.loads(storage.read_bytes(storage.join(uri, EXPORT_POINTER)))["uri"]
        with tempfile.TemporaryDirectory(prefix="vocalbaby-import-") as tmp:
            path = Path(tmp, "model.bentomodel")
            path.write_bytes(storage.read_bytes(uri))
            return str(bentoml.models.import_model(str(path)).tag)


def environment(env: Mapping[str, str] = os.environ) -> str:
    """``VOCALBABY_ENV`` (``local`` or ``prod``); anything else is an error."""
    name = env.get(ENV_VARIABLE, "local")
    if name not in ENVIRONMENTS:
        raise ValueError(f"{ENV_VARIABLE} must be one of {ENVIRONMENTS}, not {name!r}")
    return name


def resources(settings: VocalBabySettings, env: str = "local") -> dict[str, object]:
    """Every resource of the code location for one environment."""
    if env == "prod":
        if not storage.is_s3(settings.artifacts_uri):
            raise ValueError("VOCALBABY_ENV=prod needs VOCALBABY_ARTIFACTS_URI=s3://bucket/prefix")
        values = settings.io_manager_uri or storage.join(settings.artifacts_uri, "dagster")
        if not storage.is_s3(values):
            raise ValueError("VOCALBABY_IO_MANAGER_URI must be an s3://bucket/prefix")
        bucket, prefix = storage.split_s3(values)
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        io_manager: object = OutageRetryingS3IOManager(
            s3_resource=S3Resource(endpoint_url=endpoint),
            s3_bucket=bucket,
            s3_prefix=prefix.strip("/") or "dagster",
        )
    elif env == "local":
        io_manager = FilesystemIOManager(
            base_dir=str(Path(settings.artifacts_uri, "dagster").resolve())
        )
    else:
        raise ValueError(f"{ENV_VARIABLE} must be one of {ENVIRONMENTS}, not {env!r}")
    return {"settings": settings, "registry": ModelRegistry(), "io_manager": io_manager}
