"""Drift alarms calibrated on the unit production sees: one child's clips of one day.

A reference of 30 synthetic children and 20 children it has never seen (another seed): days of
a new child must rarely alarm, while a new recording channel still does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vocalbaby import dataset, drift, synthetic

DAYS_PER_CHILD = 12


@pytest.fixture(scope="module")
def populations(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    root = tmp_path_factory.mktemp("calibration")
    reference = dataset.read(synthetic.generate(root / "reference", clips=900, seed=0))
    new = dataset.read(synthetic.generate(root / "new", clips=600, seed=1))
    return {
        "reference": drift.manifest_features(reference),
        "new children": drift.manifest_features(new),
        "new children, new channel": drift.manifest_features(
            new, lambda clip, s: drift.channel_shift(s, -20, 10, drift.clip_rng(clip))
        ),
    }


def _days(table: pd.DataFrame, seed: int = 0) -> list[pd.DataFrame]:
    """Days of single children: random subsets of 20-60 of one child's clips."""
    rng = np.random.default_rng(seed)
    days = []
    for _, rows in table.groupby("child_id"):
        for size in rng.integers(20, 61, DAYS_PER_CHILD):
            days.append(rows.sample(min(int(size), len(rows)), random_state=rng))
    return days


def _alarm_rates(
    reference: pd.DataFrame, days: list[pd.DataFrame], config: drift.DriftConfig
) -> tuple[float, float]:
    results = [drift.compare(reference, day, config, report=False) for day in days]
    return (
        float(np.mean([r.dataset_drift for r in results])),
        float(np.mean([bool(r.label_drift) for r in results])),
    )


def test_days_of_new_children_rarely_alarm_and_a_new_channel_still_does(
    populations: dict[str, pd.DataFrame],
) -> None:
    reference = populations["reference"]
    calibration = drift.calibrate(reference, quantile=0.95)
    assert calibration.children == 30 and calibration.batches == 30 * 6
    calibrated = drift.DriftConfig(calibration=calibration)
    days = _days(populations["new children"])
    assert len(days) >= 200

    # Calibrated at 5 %: 240 days give a binomial standard error of 1.4 points, so 8 % is the
    # upper end of what a well-calibrated alarm shows here.
    features, labels = _alarm_rates(reference, days, calibrated)
    assert features <= 0.08, f"{features:.1%} of ordinary days of new children alarm"
    assert labels <= 0.08, f"{labels:.1%} of ordinary days alarm on labels"
    uncalibrated, _ = _alarm_rates(reference, days, drift.DriftConfig())
    assert uncalibrated > 2 * features, "thresholds drawn across children alarm on single ones"

    shifted = _days(populations["new children, new channel"])
    detected, _ = _alarm_rates(reference, shifted, calibrated)
    assert detected >= 0.5, f"only {detected:.0%} of days through a new channel alarm"


def test_calibration_round_trips_and_needs_enough_children(
    populations: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    reference = populations["reference"]
    calibration = drift.calibrate(reference, quantile=0.9)
    assert drift.Calibration.from_dict(calibration.to_dict()) == calibration
    assert set(calibration.feature_thresholds) == set(reference.columns[:88])
    few = reference[reference["child_id"].isin(reference["child_id"].unique()[:5])]
    with pytest.raises(ValueError, match="5 children in the reference"):
        drift.calibrate(few)
