"""Static hash shards of a manifest: every clip belongs to one shard, fixed by its audio hash.

Feature extraction runs per shard (one Dagster partition each), so identical audio always lands
in the same shard and adding clips never moves the others.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping

import pandas as pd

ENV = "VOCALBABY_FEATURE_SHARDS"
DEFAULT_COUNT = 4


def count(env: Mapping[str, str] = os.environ) -> int:
    """How many shards (``VOCALBABY_FEATURE_SHARDS``, default 4); a positive integer."""
    value = env.get(ENV, str(DEFAULT_COUNT))
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{ENV} must be a positive integer, not {value!r}")
    return int(value)


def keys(shards: int) -> list[str]:
    """The shard names, ``shard-0`` .. ``shard-<n-1>``."""
    return [f"shard-{i}" for i in range(shards)]


def of(clips: pd.DataFrame, shards: int) -> pd.Series:
    """The shard name of each clip: from its ``sha256`` audio hash, or from its ``clip_id`` when
    it has none (unreadable audio)."""
    digests = [
        digest if isinstance(digest, str) else hashlib.sha256(str(clip).encode()).hexdigest()
        for digest, clip in zip(clips["sha256"], clips["clip_id"], strict=True)
    ]
    return pd.Series(
        [f"shard-{int(d[:15], 16) % shards}" for d in digests], index=clips.index, dtype=object
    )
