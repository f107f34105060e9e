"""An append-only feature cache keyed by audio SHA-256, so re-runs only extract new clips.

The cache is a folder (local or ``s3://``) of immutable parquet parts, one per batch of freshly
extracted clips, each published atomically under a unique name (:func:`vocalbaby.storage.create`).
A run killed mid-extraction therefore keeps every batch it finished, and concurrent writers (two
partitions, two runs) never overwrite each other. Reading concatenates the parts; a hash found in
two parts (two writers raced on one clip) keeps one row.
"""

from __future__ import annotations

import io
import secrets
import time
from collections.abc import Callable, Hashable, Mapping

import numpy as np
import pandas as pd

from vocalbaby import audio, storage
from vocalbaby.features import (
    DEFAULT_FEATURE_SET,
    ExtractionResult,
    Progress,
    extract_files,
    extractor_config,
    feature_names,
)

BATCH_CLIPS = 64  # clips per part: what a killed run can lose, and the cost of one more file
PART_SUFFIX = ".parquet"


def cache_uri(root: str, feature_set: str = DEFAULT_FEATURE_SET) -> str:
    """The cache folder for the current openSMILE version and ``feature_set`` under ``root``."""
    config = extractor_config(feature_set)
    name = (
        f"{config['feature_set']}-{config['feature_level']}-opensmile{config['opensmile_version']}"
    )
    return storage.join(root, name)


def load(uri: str, feature_set: str = DEFAULT_FEATURE_SET) -> pd.DataFrame:
    """Cached features indexed by sha256, one row per hash (empty when nothing is cached)."""
    parts = [
        pd.read_parquet(io.BytesIO(storage.read_bytes(key)))
        for key in storage.list_keys(uri)
        if key.endswith(PART_SUFFIX)
    ]
    if not parts:
        columns = list(feature_names(feature_set))
        return pd.DataFrame(columns=columns, index=pd.Index([], name="sha256"))
    cache = pd.concat(parts)
    return cache[~cache.index.duplicated(keep="first")].rename_axis("sha256")


def append(uri: str, features: pd.DataFrame) -> str:
    """Publish ``features`` (indexed by sha256) as a new part of the cache; return its URI."""
    buffer = io.BytesIO()
    features.rename_axis("sha256").to_parquet(buffer)
    part = storage.join(uri, f"part-{time.time_ns()}-{secrets.token_hex(4)}{PART_SUFFIX}")
    storage.create(part, buffer.getvalue())
    return part


def extract_missing(
    uri: str,
    sources: Mapping[Hashable, audio.AudioSource],
    progress: Progress | None = None,
    batch_clips: int = BATCH_CLIPS,
    transform: Callable[[Hashable, np.ndarray], np.ndarray] | None = None,
    feature_set: str = DEFAULT_FEATURE_SET,
) -> tuple[pd.DataFrame, ExtractionResult]:
    """Extract the ``sources`` (sha256 -> audio) not in the cache at ``uri``, appending each
    batch to the cache as soon as it is done.

    With ``transform(key, samples)`` (augmentation) the keys must name the transformed audio
    (e.g. a hash of the audio's sha256 and the transformation), and ``uri`` be a cache of its
    own, so untransformed and transformed features never share a key. ``uri`` must be the
    cache of ``feature_set`` (:func:`cache_uri`).

    Returns the cached features of every source that has them, and what this call extracted
    (its ``failures`` are never cached, so a later run tries those clips again).
    """
    cache = load(uri, feature_set)
    todo = [key for key in sources if key not in cache.index]
    fresh: list[pd.DataFrame] = []
    failures: dict[Hashable, str] = {}
    started = time.perf_counter()
    for start in range(0, len(todo), batch_clips):
        batch = {key: sources[key] for key in todo[start : start + batch_clips]}

        def overall(done: int, _total: int, offset: int = start) -> None:
            if progress:
                progress(offset + done, len(todo))

        result = extract_files(
            batch, progress=overall, transform=transform, feature_set=feature_set
        )
        failures.update(result.failures)
        if len(result.features):
            append(uri, result.features)
            fresh.append(result.features)
    extracted = ExtractionResult(
        pd.concat(fresh).rename_axis("sha256") if fresh else cache.iloc[:0],
        failures,
        time.perf_counter() - started,
    )
    known = [frame for frame in (cache, extracted.features) if len(frame)]
    table = pd.concat(known) if known else cache
    wanted = [key for key in sources if key in table.index]
    return table.loc[wanted], extracted
