"""Schedules: the nightly drift report of the previous (UTC) day, once it is complete."""

from datetime import timedelta

from dagster import (
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)

from vocalbaby_assets.assets.drift import drift_job, log_days


@schedule(
    job=drift_job,
    cron_schedule="30 0 * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="At 00:30 UTC: the drift report of yesterday's complete prediction log.",
)
def nightly_drift(context: ScheduleEvaluationContext) -> RunRequest | SkipReason:
    """Re-runs yesterday's partition with all its files; skips days without predictions."""
    day = (context.scheduled_execution_time - timedelta(days=1)).date().isoformat()
    if not context.instance.has_dynamic_partition(log_days.name, day):
        return SkipReason(f"no prediction log for {day}")
    return RunRequest(partition_key=day, run_key=f"nightly-{day}")
