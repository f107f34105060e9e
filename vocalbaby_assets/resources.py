"""Resources: where the dataset and artifacts live, and which IO manager stores asset values.

``VOCALBABY_ENV=local`` (default): values pickled under ``<artifacts>/dagster``.
``VOCALBABY_ENV=prod``: dagster-aws ``S3PickleIOManager`` under the ``s3://`` artifacts URI,
using ``AWS_ENDPOINT_URL_S3`` when set (S3-compatible servers).
"""

from __future__ import annotations

import os
from pathlib import Path

from dagster import ConfigurableResource, FilesystemIOManager, IOManagerDefinition
from dagster_aws.s3 import S3PickleIOManager, S3Resource
from pydantic import Field

from vocalbaby import dataset, storage


class VocalBabySettings(ConfigurableResource):
    """Dataset and artifacts locations (local folders or ``s3://`` prefixes)."""

    dataset_uri: str | None = Field(
        default=None,
        description="BabbleCor-style dataset (folder or s3:// prefix). Empty: synthetic demo set.",
    )
    artifacts_uri: str = Field(default="artifacts", description="Models, caches, reports.")
    demo_clips: int = Field(default=1500, description="Clips in the generated synthetic demo set.")
    demo_seed: int = Field(default=0, description="Seed of the synthetic demo set.")
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

    @property
    def is_demo(self) -> bool:
        """Whether the pipeline runs on the generated synthetic demo set."""
        return not self.dataset_uri

    def resolved_dataset_uri(self) -> str:
        """The dataset to read, generating the synthetic demo set on first use."""
        if self.dataset_uri:
            return self.dataset_uri
        out = storage.join(self.artifacts_uri, f"demo-data-{self.demo_clips}-{self.demo_seed}")
        if storage.is_s3(out):
            raise ValueError("set dataset_uri: the demo set is generated into a local folder only")
        if not Path(out, dataset.METADATA_FILE).exists():
            dataset.demo(out, clips=self.demo_clips, seed=self.demo_seed)
        return out

    def path(self, *parts: str) -> str:
        """A location under the artifacts URI."""
        return storage.join(self.artifacts_uri, *parts)

    def prediction_log(self) -> str:
        """Where the service logs its predictions (features, label, timestamp)."""
        return self.prediction_log_uri or self.path("prediction_log")

    def annotations(self) -> str:
        """Where people's annotations are stored."""
        return self.annotations_uri or self.path("annotations")

    def annotated_clips(self) -> str:
        """Where the ``annotated_clips`` asset exports them as a dataset."""
        return self.path("annotated_clips")

    def study_storage(self) -> str | None:
        """Where Optuna keeps the study: configured RDB, else SQLite beside local artifacts."""
        if self.optuna_storage:
            return self.optuna_storage
        if storage.is_s3(self.artifacts_uri):
            return None
        Path(self.artifacts_uri).mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{Path(self.artifacts_uri).resolve() / 'optuna.db'}"


def settings_from_env() -> VocalBabySettings:
    """Settings from ``VOCALBABY_*`` environment variables."""
    return VocalBabySettings(
        dataset_uri=os.environ.get("VOCALBABY_DATASET_URI") or None,
        artifacts_uri=os.environ.get("VOCALBABY_ARTIFACTS_URI", "artifacts"),
        optuna_storage=os.environ.get("VOCALBABY_OPTUNA_STORAGE") or None,
        prediction_log_uri=os.environ.get("VOCALBABY_PREDICTION_LOG_URI") or None,
        pushgateway_url=os.environ.get("VOCALBABY_PUSHGATEWAY_URL") or None,
        annotations_uri=os.environ.get("VOCALBABY_ANNOTATIONS_URI") or None,
    )


def io_manager_for(settings: VocalBabySettings, env: str | None = None) -> IOManagerDefinition:
    """Filesystem IO manager locally; S3 pickle IO manager in production."""
    env = env or os.environ.get("VOCALBABY_ENV", "local")
    if env == "prod":
        if not storage.is_s3(settings.artifacts_uri):
            raise ValueError("VOCALBABY_ENV=prod needs VOCALBABY_ARTIFACTS_URI=s3://bucket/prefix")
        bucket, prefix = storage.split_s3(settings.artifacts_uri)
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        return S3PickleIOManager(
            s3_resource=S3Resource(endpoint_url=endpoint),
            s3_bucket=bucket,
            s3_prefix=storage.join(prefix or "vocalbaby", "dagster").strip("/"),
        )
    if env != "local":
        raise ValueError(f"VOCALBABY_ENV must be 'local' or 'prod', not {env!r}")
    return FilesystemIOManager(base_dir=str(Path(settings.artifacts_uri, "dagster").resolve()))
