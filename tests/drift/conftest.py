"""Features of the demo set, of the same clips through another channel, of real recordings."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from vocalbaby import dataset, drift, splits


@pytest.fixture(scope="session")
def demo_features(demo_dataset: Path) -> pd.DataFrame:
    """Features, label, child and split (as ``data_splits`` makes it) of the 300 demo clips."""
    table = drift.manifest_features(dataset.read(demo_dataset))
    return table.assign(split=splits.split(table.reset_index()).split.to_numpy())


@pytest.fixture(scope="session")
def reference(demo_features: pd.DataFrame) -> pd.DataFrame:
    """The train split: what ``reference_features`` holds."""
    return demo_features[demo_features["split"] == "train"]


@pytest.fixture(scope="session")
def shifted_features(demo_dataset: Path, demo_features: pd.DataFrame) -> pd.DataFrame:
    """The demo clips through another channel: 20 dB quieter, noise at 10 dB SNR.

    Calibrated thresholds tolerate what differs between children (each synthetic child has its
    own room, microphone and gain), so the shift must exceed that spread to be drift.
    """
    table = drift.manifest_features(
        dataset.read(demo_dataset),
        lambda clip, s: drift.channel_shift(s, -20, 10, drift.clip_rng(clip)),
    )
    return table.assign(split=demo_features["split"])


@pytest.fixture(scope="session")
def real_features(real_dev: Path) -> pd.DataFrame:
    """Features of 100 of the real crying and junk recordings."""
    return drift.manifest_features(dataset.read(real_dev).sample(100, random_state=0))
