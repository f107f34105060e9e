"""A feature cache keyed by audio SHA-256, so re-runs only extract new or changed clips."""

from __future__ import annotations

import io

import pandas as pd

from vocalbaby import storage
from vocalbaby.features import extractor_config, feature_names


def cache_uri(root: str) -> str:
    """The cache file for the current openSMILE version and feature set under ``root``."""
    config = extractor_config()
    name = (
        f"{config['feature_set']}-{config['feature_level']}-opensmile{config['opensmile_version']}"
    )
    return storage.join(root, f"{name}.parquet")


def load(uri: str) -> pd.DataFrame:
    """Cached features indexed by sha256 (empty when there is no cache yet)."""
    if not storage.exists(uri):
        return pd.DataFrame(columns=list(feature_names()), index=pd.Index([], name="sha256"))
    return pd.read_parquet(io.BytesIO(storage.read_bytes(uri)))


def save(uri: str, cache: pd.DataFrame) -> None:
    """Write the cache (one row per distinct audio hash)."""
    buffer = io.BytesIO()
    cache[~cache.index.duplicated(keep="last")].to_parquet(buffer)
    storage.write_bytes(uri, buffer.getvalue())
