"""The append-only feature cache: parts per batch, resume after a partial run, concurrent parts."""

from concurrent.futures import ThreadPoolExecutor

import pandas as pd

from tests.audio_files import tone, write_wav
from vocalbaby import feature_cache, features, storage


def _clips(folder, count: int) -> dict[str, str]:
    """sha-like key -> wav path for ``count`` distinct tones."""
    return {
        f"sha{i:03d}": str(write_wav(folder / f"c{i}.wav", tone(0.4, 180.0 + 37 * i)))
        for i in range(count)
    }


def _parts(uri: str) -> list[str]:
    return [k for k in storage.list_keys(uri) if k.endswith(feature_cache.PART_SUFFIX)]


def test_each_batch_is_one_part_and_a_second_call_extracts_nothing(tmp_path) -> None:
    sources = _clips(tmp_path / "audio", 7)
    uri = str(tmp_path / "cache")
    table, result = feature_cache.extract_missing(uri, sources, batch_clips=3)
    assert len(result.features) == 7 and len(_parts(uri)) == 3  # 3 + 3 + 1
    assert list(table.index) == list(sources)
    expected = features.extract_files(sources).features
    pd.testing.assert_frame_equal(table, expected.loc[table.index], check_names=False)
    again, second = feature_cache.extract_missing(uri, sources, batch_clips=3)
    assert len(second.features) == 0 and len(_parts(uri)) == 3
    pd.testing.assert_frame_equal(again, table)


def test_a_partial_cache_is_completed_without_extracting_twice(tmp_path) -> None:
    sources = _clips(tmp_path / "audio", 6)
    uri = str(tmp_path / "cache")
    first = dict(list(sources.items())[:4])  # as if a run died after its first batches
    feature_cache.extract_missing(uri, first, batch_clips=2)
    table, result = feature_cache.extract_missing(uri, sources, batch_clips=2)
    assert sorted(result.features.index) == ["sha004", "sha005"]
    rows = sum(len(pd.read_parquet(part)) for part in _parts(uri))
    assert rows == 6 and list(table.index) == list(sources)


def test_failed_clips_are_reported_and_not_cached(tmp_path) -> None:
    sources = _clips(tmp_path / "audio", 2)
    sources["bad"] = str(write_wav(tmp_path / "audio" / "tiny.wav", tone(0.02)))
    uri = str(tmp_path / "cache")
    table, result = feature_cache.extract_missing(uri, sources)
    assert "too short" in result.failures["bad"]
    assert "bad" not in table.index and "bad" not in feature_cache.load(uri).index
    _, again = feature_cache.extract_missing(uri, sources)
    assert list(again.failures) == ["bad"]  # tried again, not remembered as done


def test_concurrent_writers_keep_every_part_and_load_keeps_one_row_per_hash(tmp_path) -> None:
    uri = str(tmp_path / "cache")
    names = list(features.feature_names())
    frames = [
        pd.DataFrame([[float(i)] * len(names)], index=[f"sha{i % 5}"], columns=names)
        for i in range(40)
    ]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda frame: feature_cache.append(uri, frame), frames))
    assert len(_parts(uri)) == 40
    cache = feature_cache.load(uri)
    assert sorted(cache.index) == [f"sha{i}" for i in range(5)]
    assert cache.index.name == "sha256"
