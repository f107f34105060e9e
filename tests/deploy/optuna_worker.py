"""One tuning worker: ``python -m tests.deploy.optuna_worker STORAGE STUDY TRIALS BARRIER``.

Once loaded it writes ``BARRIER/<pid>.ready`` and waits for ``BARRIER/go``, so workers start
tuning together rather than in the order their imports finished. Then it tunes the shared study
on a small synthetic feature table (the same for every worker) with
:func:`vocalbaby.training.tune`, the code the ``tuned_hyperparameters`` asset runs, and prints
``trial N`` for every trial this process finished.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from vocalbaby import training
from vocalbaby.labels import CLASSES


def table(rows: int = 120, seed: int = 0) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Features with a class signal, labels and child groups (deterministic)."""
    rng = np.random.default_rng(seed)
    labels = pd.Series(np.resize(CLASSES, rows), name="label")
    codes = labels.map({c: i for i, c in enumerate(CLASSES)}).to_numpy()
    features = pd.DataFrame(rng.normal(size=(rows, 8)) + codes[:, None] * 0.8).add_prefix("f")
    groups = pd.Series(np.arange(rows) % 6, name="child_id")
    return features, labels, groups


def wait_for_start(barrier: Path, timeout_s: float = 120.0) -> None:
    """Announce this worker is ready, then wait until the test says go."""
    (barrier / f"{os.getpid()}.ready").touch()
    deadline = time.monotonic() + timeout_s
    while not (barrier / "go").exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {barrier / 'go'} after {timeout_s:.0f} s")
        time.sleep(0.05)


def main(storage: str, study: str, trials: int, barrier: Path) -> None:
    features, labels, groups = table()
    wait_for_start(barrier)
    training.tune(
        features,
        labels,
        groups,
        n_trials=trials,
        folds=2,
        storage=storage,
        study_name=study,
        log=lambda line: print(line, flush=True),
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
