"""Calibration of :mod:`vocalbaby.drift`: false-alarm and detection rates by batch size.

Reference: the train split (as ``data_splits`` makes it) of the 600-clip synthetic demo set.
For every batch size, ``--repeats`` random batches are drawn from each set and compared with
:func:`vocalbaby.drift.compare` (the Evidently tests, without the HTML report):

- no drift: samples of the reference itself; clips of the held-out (valid + test) children;
  a demo set with another seed (all-new children, voices and channels);
- drift: the same clips through :func:`vocalbaby.drift.channel_shift` (gain and/or noise), and
  real recordings (``../shared/data/real-dev``, when present) against the synthetic reference.

Prints one markdown table per measure: the share of batches flagged (``alarm``), the mean
drift share, and the share of batches whose label distribution was flagged.

    .venv/bin/python benchmarks/drift_calibration.py --repeats 200
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from vocalbaby import dataset, drift, splits, synthetic

REAL_DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "real-dev"
SHIFTS = {
    "gain -12 dB": (-12.0, None),
    "gain +6 dB": (6.0, None),
    "noise 30 dB SNR": (0.0, 30.0),
    "noise 20 dB SNR": (0.0, 20.0),
    "gain -6 dB + noise 20 dB": (-6.0, 20.0),
}


def _sets(workdir: Path) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The reference and every named comparison set."""
    demo_manifest = dataset.read(synthetic.generate(workdir / "seed0", clips=600, seed=0))
    demo = drift.manifest_features(demo_manifest)
    split = splits.split(demo.reset_index()).split.set_axis(demo.index)
    reference = demo[split == "train"]
    other_seed = synthetic.generate(workdir / "seed1", clips=600, seed=1)
    sets = {
        "reference sample": reference,
        "held-out children": demo[split != "train"],
        "new synthetic children": drift.manifest_features(dataset.read(other_seed)),
    }
    for name, (gain_db, snr_db) in SHIFTS.items():
        sets[name] = drift.manifest_features(
            demo_manifest,
            lambda clip, s, g=gain_db, n=snr_db: drift.channel_shift(s, g, n, drift.clip_rng(clip)),
        )
    if (REAL_DEV / "metadata.csv").exists():
        sets["real recordings"] = drift.manifest_features(dataset.read(REAL_DEV))
    return reference, sets


def _measure(
    reference: pd.DataFrame, candidates: pd.DataFrame, rows: int, repeats: int, seed: int
) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    results = [
        drift.compare(
            reference,
            candidates.sample(min(rows, len(candidates)), random_state=rng.integers(2**31)),
            report=False,
        )
        for _ in range(repeats)
    ]
    return {
        "alarm": np.mean([r.dataset_drift for r in results]),
        "drift share": np.mean([r.drift_share for r in results]),
        "label alarm": np.mean([bool(r.label_drift) for r in results]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 30, 50, 100, 200])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        reference, sets = _sets(Path(tmp))
    print(f"reference: {len(reference)} train clips; {args.repeats} batches per cell\n")
    cells = {
        (name, rows): _measure(reference, table, rows, args.repeats, seed=rows)
        for name, table in sets.items()
        for rows in args.sizes
    }
    for measure in ("alarm", "drift share", "label alarm"):
        table = pd.Series({k: v[measure] for k, v in cells.items()}).unstack()
        table.columns = [f"{rows} rows" for rows in table.columns]
        print(f"### {measure}\n\n{table.loc[list(sets)].to_markdown(floatfmt='.3f')}\n")


if __name__ == "__main__":
    main()
