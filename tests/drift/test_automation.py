"""The prediction-log sensor and the nightly schedule, evaluated against a real instance."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pandas as pd
import pytest
from dagster import (
    DagsterInstance,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    SensorResult,
    SkipReason,
    build_schedule_context,
    build_sensor_context,
    instance_for_test,
)

from tests.drift.helpers import write_log
from vocalbaby_assets.assets.drift import log_days
from vocalbaby_assets.definitions import build_definitions
from vocalbaby_assets.resources import VocalBabySettings
from vocalbaby_assets.schedules import nightly_drift
from vocalbaby_assets.sensors import prediction_log_sensor


@pytest.fixture
def instance() -> Iterator[DagsterInstance]:
    """A persistent instance in a temporary folder (schedule contexts need one)."""
    with instance_for_test() as instance:
        yield instance


def _tick(instance: DagsterInstance, settings: VocalBabySettings, cursor: str | None):
    """Evaluate the sensor once and apply its partition requests, as the daemon does."""
    context = build_sensor_context(
        instance=instance, cursor=cursor, resources={"settings": settings}
    )
    result = prediction_log_sensor(context)
    if isinstance(result, SensorResult):
        for request in result.dynamic_partitions_requests:
            instance.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)
    return result


def test_sensor_adds_a_partition_per_new_day_and_runs_days_with_new_files(
    tmp_path, instance: DagsterInstance, reference: pd.DataFrame
) -> None:
    settings = VocalBabySettings(artifacts_uri=str(tmp_path))
    log = settings.locations.prediction_log
    assert isinstance(_tick(instance, settings, None), SkipReason)  # no log yet

    write_log(log, "2026-11-01", reference.head(20), batches=2)
    first = _tick(instance, settings, None)
    assert [r.partition_key for r in first.run_requests] == ["2026-11-01"]
    assert first.dynamic_partitions_requests[0].partition_keys == ["2026-11-01"]
    assert json.loads(first.cursor) == {"2026-11-01": 2}
    assert isinstance(_tick(instance, settings, first.cursor), SkipReason)  # nothing new

    write_log(log, "2026-11-01", reference.head(5), batches=1)  # a late batch
    write_log(log, "2026-11-02", reference.head(5), batches=1)
    second = _tick(instance, settings, first.cursor)
    assert [r.partition_key for r in second.run_requests] == ["2026-11-01", "2026-11-02"]
    assert [r.run_key for r in second.run_requests] == ["2026-11-01:3", "2026-11-02:1"]
    assert second.dynamic_partitions_requests[0].partition_keys == ["2026-11-02"]  # not re-added
    assert instance.get_dynamic_partitions(log_days.name) == ["2026-11-01", "2026-11-02"]


def test_nightly_schedule_runs_yesterday_when_it_has_predictions(
    instance: DagsterInstance,
) -> None:
    tonight = datetime(2026, 11, 2, 0, 30, tzinfo=UTC)
    context = build_schedule_context(instance=instance, scheduled_execution_time=tonight)
    assert isinstance(nightly_drift(context), SkipReason)
    instance.add_dynamic_partitions(log_days.name, ["2026-11-01"])
    request = nightly_drift(context)
    assert isinstance(request, RunRequest) and request.partition_key == "2026-11-01"


def test_schedule_and_sensor_load_and_run_by_default() -> None:
    schedule = build_definitions().get_schedule_def("nightly_drift")
    sensor = build_definitions().get_sensor_def("prediction_log_sensor")
    assert schedule.cron_schedule == "30 0 * * *" and schedule.execution_timezone == "UTC"
    assert schedule.default_status == DefaultScheduleStatus.RUNNING
    assert sensor.default_status == DefaultSensorStatus.RUNNING
    assert schedule.job_name == sensor.job_name == "drift_job"
