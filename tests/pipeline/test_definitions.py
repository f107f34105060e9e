"""The code location is built when Dagster loads it, not when its module is imported."""

import os
import subprocess
import sys

import pytest

from vocalbaby_assets import definitions
from vocalbaby_assets.resources import settings_from_env


def test_importing_the_code_location_reads_no_settings(tmp_path) -> None:
    """``VOCALBABY_ENV=prod vocalbaby-pipeline train --artifacts s3://…`` imports this module
    before its option applies: the import must not demand ``VOCALBABY_ARTIFACTS_URI``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOCALBABY_")}
    probe = "import vocalbaby_assets.definitions as d; print(len(d.ASSETS))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={**env, "VOCALBABY_ENV": "prod"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout) == len(definitions.ASSETS)


def test_prod_builds_with_s3_artifacts_from_a_command_and_refuses_without_them(
    monkeypatch,
) -> None:
    monkeypatch.setenv("VOCALBABY_ENV", "prod")
    monkeypatch.delenv("VOCALBABY_ARTIFACTS_URI", raising=False)
    settings = settings_from_env(artifacts_uri="s3://bucket/prefix")
    job = definitions.build_definitions(settings, "prod").resolve_job_def("train_job")
    assert job.name == "train_job"
    with pytest.raises(ValueError, match="VOCALBABY_ENV=prod needs VOCALBABY_ARTIFACTS_URI"):
        definitions.defs()
