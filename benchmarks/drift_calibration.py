"""Calibration of :mod:`vocalbaby.drift` on the unit production sees: one child's day.

Reference: the train split (as ``data_splits`` makes it) of the SYNTHETIC demo set (seed 0),
with the model recipe's out-of-fold predictions; thresholds from :func:`vocalbaby.drift.calibrate`
(single-child batches of the reference). A model trained on the train split predicts every
batch's labels, as the served model does. Batches are days of one child (random subsets of
``--day-min`` to ``--day-max`` of its clips, ``--days`` per child), of:

- no drift: held-out (valid + test) children of the same set; children of another seed (new
  voices and rooms);
- drift: the new children through :func:`vocalbaby.drift.channel_shift` (gain and/or noise); a
  recorder left running (days of junk only); a crying day; real recordings
  (``../shared/data/real-dev`` when present: days of one corpus, as a new lab's) against the
  synthetic reference.

Prints a markdown table: per batch type, the number of days, the share flagged by the
calibrated feature test, by the uncalibrated one (thresholds drawn across children), the mean
drift share, and the share flagged by the label test.

    .venv/bin/python benchmarks/drift_calibration.py --clips 2000
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from vocalbaby import dataset, drift, features, splits, synthetic, training

REAL_DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "real-dev"
SHIFTS = {
    "gain -12 dB": (-12.0, None),
    "gain +6 dB": (6.0, None),
    "noise 30 dB SNR": (0.0, 30.0),
    "noise 20 dB SNR": (0.0, 20.0),
    "gain -6 dB + noise 20 dB": (-6.0, 20.0),
    "gain -20 dB + noise 10 dB": (-20.0, 10.0),
}


def _days(table: pd.DataFrame, by: str, args: argparse.Namespace) -> list[pd.DataFrame]:
    """Random days of one group (child or corpus): subsets of its rows."""
    rng = np.random.default_rng(args.seed)
    days = []
    for _, rows in table.groupby(by):
        if len(rows) < args.day_min:
            continue
        for size in rng.integers(args.day_min, args.day_max + 1, args.days):
            days.append(rows.sample(min(int(size), len(rows)), random_state=rng))
    return days


def _batches(workdir: Path, args: argparse.Namespace) -> tuple[pd.DataFrame, dict]:
    """The reference (with out-of-fold predictions) and each named list of days (with the
    model's predicted labels)."""
    demo = dataset.read(synthetic.generate(workdir / "seed0", clips=args.clips, seed=0))
    table = drift.manifest_features(demo)
    split = splits.split(table.reset_index(), min_test_clips=30).split.set_axis(table.index)
    names = list(features.feature_names())
    train = table[split == "train"]
    params = training.DEFAULT_PARAMS
    model = training.train(train[names], train["label"], params, n_jobs=2)
    predicted = training.out_of_fold(train[names], train["label"], train["child_id"], params)
    reference = train.assign(predicted=predicted)

    def predict(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(label=model.predict(frame[names]).to_numpy())

    new = dataset.read(synthetic.generate(workdir / "seed1", clips=args.clips, seed=1))
    new_table = drift.manifest_features(new)
    sets = {
        "held-out children of the same set": _days(table[split != "train"], "child_id", args),
        "new children (another seed)": _days(new_table, "child_id", args),
    }
    for name, (gain_db, snr_db) in SHIFTS.items():
        shifted = drift.manifest_features(
            new,
            lambda clip, s, g=gain_db, n=snr_db: drift.channel_shift(s, g, n, drift.clip_rng(clip)),
        )
        sets[f"new children, {name}"] = _days(shifted, "child_id", args)
    for label in ("junk", "crying"):
        only = new_table[new_table["label"] == label]
        sets[f"new children, {label} only"] = _days(only, "child_id", args)
    if (REAL_DEV / "metadata.csv").exists():
        real = drift.manifest_features(dataset.read(REAL_DEV)).join(
            dataset.read(REAL_DEV).set_index("clip_id")["corpus"]
        )
        sets["real recordings (days of one corpus)"] = _days(real, "corpus", args)
    return reference, {name: [predict(day) for day in days] for name, days in sets.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clips", type=int, default=2000, help="clips per synthetic set")
    parser.add_argument("--days", type=int, default=4, help="days drawn per child")
    parser.add_argument("--day-min", type=int, default=20, help="fewest clips in a day")
    parser.add_argument("--day-max", type=int, default=60, help="most clips in a day")
    parser.add_argument("--quantile", type=float, default=0.95)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        reference, sets = _batches(Path(tmp), args)
    calibration = drift.calibrate(reference, quantile=args.quantile)
    calibrated = drift.DriftConfig(calibration=calibration)
    print(
        f"SYNTHETIC reference: {len(reference)} train clips of {calibration.children} children; "
        f"thresholds from {calibration.batches} single-child batches at quantile "
        f"{calibration.quantile} (drift share >= {calibration.drift_share:.3f}, label distance "
        f">= {calibration.label_threshold:.3f})\n"
    )
    rows = {}
    for name, days in sets.items():
        found = [drift.compare(reference, day, calibrated, report=False) for day in days]
        plain = [drift.compare(reference, day, report=False) for day in days]
        rows[name] = {
            "days": len(days),
            "alarm (calibrated)": np.mean([r.dataset_drift for r in found]),
            "alarm (across children)": np.mean([r.dataset_drift for r in plain]),
            "mean drift share": np.mean([r.drift_share for r in found]),
            "label alarm": np.mean([bool(r.label_drift) for r in found]),
        }
    table = pd.DataFrame(rows).T.astype({"days": int})
    print(table.to_markdown(floatfmt=".3f"))


if __name__ == "__main__":
    main()
