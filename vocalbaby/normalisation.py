"""Per-recording feature normalisation: each feature centred on its recording's own mean.

A recording's channel (microphone, room, gain) shifts all of its clips' features alike;
subtracting the recording's mean removes that shift and keeps what differs between its clips.
Few clips give a noisy mean, so the centre is shrunk towards the training mean:
``centre = w * recording_mean + (1 - w) * training_mean`` with ``w = n / (n + prior_clips)``
(``n``: the recording's clips with a value), then divided by the training standard deviation.

What a recording is: in training and evaluation, a ``child_id`` group; in serving, one uploaded
file (its windows); a single clip is its own recording, so with ``prior_clips = 0`` it would be
centred on itself and lose everything: keep ``prior_clips`` above 0 when single clips are
served (then a single clip is standardised and scaled by ``prior_clips / (1 + prior_clips)``).
Missing values stay missing (imputed afterwards, in the normalised space).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

METHOD = "recording"


@dataclass(frozen=True)
class RecordingNormalisation:
    """Training mean and standard deviation per feature, and the shrinkage's prior."""

    mean: pd.Series
    scale: pd.Series
    prior_clips: float = 1.0

    @classmethod
    def fit(cls, features: pd.DataFrame, prior_clips: float = 1.0) -> RecordingNormalisation:
        """The statistics of the training ``features``."""
        if prior_clips < 0:
            raise ValueError(f"prior_clips must be >= 0, not {prior_clips}")
        scale = features.std().where(lambda s: s > 0, 1.0).fillna(1.0)
        return cls(features.mean().fillna(0.0), scale, float(prior_clips))

    def apply(
        self, features: pd.DataFrame, recordings: Sequence[Hashable] | pd.Series | None = None
    ) -> pd.DataFrame:
        """``features`` normalised within each recording (``None``: every row is its own), in
        their own column order."""
        unknown = features.columns.difference(self.mean.index)
        if len(unknown):
            raise ValueError(f"no normalisation statistics for {list(unknown)[:10]}")
        frame = features.astype(np.float64)
        mean, scale = self.mean[frame.columns], self.scale[frame.columns]
        keys = np.arange(len(frame)) if recordings is None else np.asarray(recordings, dtype=str)
        grouped = frame.groupby(keys, sort=False)
        count = grouped.transform("count")
        weight = count / (count + self.prior_clips) if self.prior_clips else (count > 0) * 1.0
        centre = (weight * grouped.transform("mean")).fillna(0.0) + (1 - weight) * mean
        return (frame - centre) / scale

    def to_dict(self) -> dict[str, object]:
        """JSON-ready (stored in the model bundle)."""
        return {
            "method": METHOD,
            "prior_clips": self.prior_clips,
            "mean": self.mean.to_dict(),
            "scale": self.scale.to_dict(),
        }

    @classmethod
    def from_dict(cls, stored: dict[str, object]) -> RecordingNormalisation:
        """The normalisation :meth:`to_dict` stored."""
        if stored.get("method") != METHOD:
            raise ValueError(f"unknown normalisation method {stored.get('method')!r}")
        return cls(
            pd.Series(stored["mean"], dtype=np.float64),
            pd.Series(stored["scale"], dtype=np.float64),
            float(stored["prior_clips"]),
        )
