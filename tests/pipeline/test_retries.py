"""Steps retry an S3 outage with backoff, and fail at once on anything else."""

import logging

import pytest
from dagster import RetryRequested

from tests.pipeline.conftest import INGESTION, run_pipeline
from vocalbaby.storage import StorageUnavailable
from vocalbaby_assets import retries
from vocalbaby_assets.resources import VocalBabySettings


def _events(result, kind: str, step: str) -> list:
    return [e for e in result.all_events if e.event_type_value == kind and e.step_key == step]


def test_backoff_doubles_up_to_a_minute() -> None:
    assert [retries.outage_delay(n) for n in range(7)] == [2, 4, 8, 16, 32, 60, 60]


def test_unreachable_s3_is_retried_then_fails_naming_the_endpoint(
    tmp_path, monkeypatch, closed_endpoint: str
) -> None:
    monkeypatch.setattr(retries, "OUTAGE_RETRIES", 2)
    monkeypatch.setattr(retries, "FIRST_DELAY_S", 0.05)
    settings = VocalBabySettings(
        dataset_uri="s3://vb-data/babble", artifacts_uri=str(tmp_path / "artifacts")
    )
    result = run_pipeline(settings, selection=INGESTION)
    assert not result.success
    assert len(_events(result, "STEP_UP_FOR_RETRY", "raw_clips")) == 2
    (failure,) = _events(result, "STEP_FAILURE", "raw_clips")
    assert f"S3 unreachable at {closed_endpoint} while reading s3://vb-data/babble" in str(
        failure.step_failure_data.error
    )


def test_other_errors_are_not_retried(tmp_path) -> None:
    settings = VocalBabySettings(
        dataset_uri=str(tmp_path / "no-such-dataset"), artifacts_uri=str(tmp_path / "artifacts")
    )
    result = run_pipeline(settings, selection=INGESTION)
    assert not result.success
    assert _events(result, "STEP_UP_FOR_RETRY", "raw_clips") == []
    assert len(_events(result, "STEP_FAILURE", "raw_clips")) == 1


@pytest.mark.parametrize("retry_number", [0, 3])
def test_the_warning_says_which_attempt_and_how_long(retry_number, caplog) -> None:
    log = logging.getLogger("test-retries")
    with (
        caplog.at_level(logging.WARNING),
        pytest.raises(RetryRequested) as raised,
        retries.retried_on_outage(retry_number, log),
    ):
        raise StorageUnavailable("S3 unreachable at http://x while reading s3://b/k")
    assert raised.value.seconds_to_wait == retries.outage_delay(retry_number)
    assert f"attempt {retry_number + 1} of {retries.OUTAGE_RETRIES + 1}" in caplog.text
