"""Sensors: a drift run for every day of the prediction log that received new files, and an
export of the annotation store whenever people saved new annotations."""

import hashlib
import json

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from vocalbaby import drift
from vocalbaby.annotation.store import AnnotationStore
from vocalbaby_assets.assets.annotations import annotations_job
from vocalbaby_assets.assets.drift import drift_job, log_days
from vocalbaby_assets.resources import VocalBabySettings


@sensor(
    job=drift_job,
    minimum_interval_seconds=600,
    default_status=DefaultSensorStatus.RUNNING,
    description="Adds a partition per new day of the prediction log and runs its drift report.",
)
def prediction_log_sensor(
    context: SensorEvaluationContext, settings: VocalBabySettings
) -> SensorResult | SkipReason:
    """Compares the log's files per day with the cursor (files seen per day).

    A day with more files than last time gets a run (its key names the file count, so a
    re-evaluation never runs it twice); a day that is not yet a partition is added first.
    Counting files, not remembering the newest name, also catches late uploads.
    """
    log = settings.locations.prediction_log
    seen: dict[str, int] = json.loads(context.cursor or "{}")
    counts = {day: len(files) for day, files in drift.log_files(log).items()}
    grown = {day: n for day, n in counts.items() if n > seen.get(day, 0)}
    if not grown:
        return SkipReason(f"no new prediction log files in {log}")
    known = set(context.instance.get_dynamic_partitions(log_days.name))
    new_days = sorted(set(grown) - known)
    return SensorResult(
        run_requests=[RunRequest(partition_key=d, run_key=f"{d}:{n}") for d, n in grown.items()],
        dynamic_partitions_requests=[log_days.build_add_request(new_days)] if new_days else [],
        cursor=json.dumps({**seen, **grown}, sort_keys=True),
    )


@sensor(
    job=annotations_job,
    minimum_interval_seconds=300,
    default_status=DefaultSensorStatus.RUNNING,
    description="Re-exports annotated_clips when people saved new annotations.",
)
def annotations_sensor(
    context: SensorEvaluationContext, settings: VocalBabySettings
) -> SensorResult | SkipReason:
    """The cursor is a digest of every (recording, annotator, latest revision) in the store.

    Any save changes it and requests one run keyed by the digest, so the same state of the
    store is never exported twice; the next training run then includes the new clips.
    """
    index = AnnotationStore(settings.locations.annotations).index()
    if not index:
        return SkipReason(f"no annotations in {settings.locations.annotations}")
    state = json.dumps(sorted((rec, who, n) for (rec, who), n in index.items()))
    digest = hashlib.sha256(state.encode()).hexdigest()[:16]
    if digest == context.cursor:
        return SkipReason("no new annotations since the last export")
    revisions = sum(index.values())
    return SensorResult(
        run_requests=[
            RunRequest(run_key=f"annotations-{digest}", tags={"revisions": str(revisions)})
        ],
        cursor=digest,
    )
