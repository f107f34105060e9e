import gc
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import opensmile
import pandas as pd
import pytest

from tests.audio_files import tone
from vocalbaby import audio, features


def test_88_named_egemaps_functionals() -> None:
    names = features.feature_names()
    assert len(names) == 88
    assert "F0semitoneFrom27.5Hz_sma3nz_amean" in names
    assert features.extractor_config()["feature_set"] == "eGeMAPSv02"


def test_engine_reuse_matches_opensmile_reference() -> None:
    """The reused, reset engine gives exactly what a fresh opensmile.Smile call gives."""
    smile = opensmile.Smile(
        feature_set=opensmile.FeatureSet.eGeMAPSv02,
        feature_level=opensmile.FeatureLevel.Functionals,
    )
    signals = [tone(0.4, f) for f in (220.0, 440.0, 880.0)] + [tone(1.3, 300.0)]
    for signal in signals * 2:
        expected = smile(signal, 16_000)[0, :, 0]
        np.testing.assert_array_equal(features.extract_one(signal), expected.astype(np.float32))


def test_batch_is_independent_of_thread_count_and_order() -> None:
    signals = {f"clip{i}": tone(0.4, 200.0 + 60 * i) for i in range(12)}
    one = features.extract(signals, workers=1)
    two = features.extract(dict(reversed(signals.items())), workers=2)
    pd.testing.assert_frame_equal(one, two.loc[one.index])


def test_failures_are_reported_never_zeroed() -> None:
    result = features.extract_batch({"ok": tone(0.4), "tiny": tone(0.02)})
    assert list(result.features.index) == ["ok"]
    assert "too short" in result.failures["tiny"]
    with pytest.raises(features.FeatureError, match="tiny"):
        features.extract({"ok": tone(0.4), "tiny": tone(0.02)})


def test_progress_is_reported_for_every_signal() -> None:
    seen = []
    features.extract([tone()] * 5, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(i, 5) for i in range(1, 6)]


def test_real_clips_load_and_give_finite_features(real_dev) -> None:
    meta = pd.read_csv(real_dev / "metadata.csv")
    picks = pd.concat([g.head(10) for _, g in meta.groupby("label")])
    signals = {row.clip_id: audio.load(real_dev / row.path).samples for row in picks.itertuples()}
    table = features.extract(signals)
    assert table.shape == (len(picks), 88)
    assert np.isfinite(table.to_numpy()).all()
    crying = table.loc[picks.loc[picks.label == "crying", "clip_id"]]
    assert crying["F0semitoneFrom27.5Hz_sma3nz_amean"].median() > 0


def _live_engines(feature_set: str = features.DEFAULT_FEATURE_SET) -> int:
    """Engines of ``feature_set`` alive in this process (other tests make other sets' engines)."""
    gc.collect()
    return sum(
        isinstance(o, features._Engine) and o.feature_set == feature_set for o in gc.get_objects()
    )


def test_engines_stay_bounded_under_concurrent_callers() -> None:
    """Four callers, batches and single signals at once, never make more engines than threads
    (before: a new engine whenever none was idle, 237 after 2 x 2 x 400 signals)."""
    signals = [tone(0.4, 200.0 + 10 * i) for i in range(60)]

    def call(n: int) -> int:
        if n % 2:
            return len(features.extract(signals))
        return sum(features.extract_one(s).size > 0 for s in signals)

    with ThreadPoolExecutor(max_workers=4) as callers:
        assert list(callers.map(call, range(4))) == [60] * 4
    threads = features.extraction_threads()
    assert features.engine_pool().created <= threads
    assert _live_engines() <= threads


def test_a_full_pool_makes_borrowers_wait() -> None:
    pool = features.EnginePool(size=1)
    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(pool._take()), daemon=True)
    with pool.borrow() as engine:
        engine(tone())
        waiter.start()
        waiter.join(timeout=0.3)
        assert waiter.is_alive() and not got
    waiter.join(timeout=5)
    assert got == [engine]
    assert pool.created == 1


def test_a_waiting_borrower_is_served_before_a_busy_one_takes_its_engine_back() -> None:
    pool = features.EnginePool(size=1)
    signal = tone()
    done = 0
    served_after: list[int] = []

    def batch() -> None:  # a batch thread: borrows again as soon as it has given back
        nonlocal done
        for _ in range(30):
            with pool.borrow(background=False) as engine:
                engine(signal)
            done += 1

    def single() -> None:
        with pool.borrow() as engine:
            served_after.append(done)
            engine(signal)

    worker = threading.Thread(target=batch)
    worker.start()
    while done < 3:
        time.sleep(0.001)
    single()
    worker.join()

    assert served_after[0] <= done and served_after[0] < 6, served_after  # at most 2 signals later


def test_an_engine_that_cannot_be_reset_is_replaced() -> None:
    pool = features.EnginePool(size=1)
    with pool.borrow():
        pass  # never run: openSMILE refuses to reset it
    replacement = pool._take()
    assert pool.created == 1
    assert replacement(tone()).shape == (88,)


def test_one_executor_serves_every_call() -> None:
    seen: set[str] = set()

    def work(item: int) -> np.ndarray:
        seen.add(threading.current_thread().name)
        return np.zeros(88, dtype=np.float32)

    for _ in range(3):
        features._run(dict.fromkeys(range(8), 0), work, workers=None, progress=None)
    assert seen and all(name.startswith("opensmile") for name in seen)
    assert len(seen) <= features.extraction_threads()
    assert features.executor() is features.executor()


@pytest.mark.parametrize("raw", ["0", "-2", "many"])
def test_bad_thread_setting_is_refused(monkeypatch, raw: str) -> None:
    monkeypatch.setenv(features.THREADS_ENV, raw)
    features.extraction_threads.cache_clear()
    try:
        with pytest.raises(ValueError, match=features.THREADS_ENV):
            features.extraction_threads()
    finally:
        features.extraction_threads.cache_clear()


def test_work_stops_at_the_deadline() -> None:
    started: list[int] = []

    def slow(item: int) -> np.ndarray:
        started.append(item)
        time.sleep(0.05)
        return np.zeros(88, dtype=np.float32)

    with pytest.raises(features.DeadlineExceeded, match="of 200 signals done"):
        features._run(dict.fromkeys(range(200), 0), slow, None, None, time.monotonic() + 0.3)
    assert len(started) < 40
    with pytest.raises(features.DeadlineExceeded):
        features.extract_batch([tone()], deadline=time.monotonic() - 1)


def test_compare_2016_is_selectable_per_call() -> None:
    """ComParE_2016 functionals come from their own bounded pool; eGeMAPSv02 stays the default."""
    names = features.feature_names("ComParE_2016")
    assert len(names) == 6373 and features.feature_names() == features.feature_names("eGeMAPSv02")
    config = features.extractor_config("ComParE_2016")
    assert config["feature_set"] == "ComParE_2016" and config["num_features"] == 6373
    assert features.extractor_config() == features.extractor_config("eGeMAPSv02")
    smile = opensmile.Smile(
        feature_set=opensmile.FeatureSet.ComParE_2016,
        feature_level=opensmile.FeatureLevel.Functionals,
    )
    signals = {"a": tone(0.4, 220.0), "b": tone(1.0, 440.0), "tiny": tone(0.02)}
    result = features.extract_batch(signals, feature_set="ComParE_2016")
    assert list(result.features.columns) == list(names) and list(result.failures) == ["tiny"]
    for key in ("a", "b"):
        expected = smile(signals[key], 16_000)[0, :, 0].astype(np.float32)
        np.testing.assert_array_equal(result.features.loc[key].to_numpy(), expected)
    pool = features.engine_pool("ComParE_2016")
    assert pool is not features.engine_pool() and pool.feature_set == "ComParE_2016"
    assert pool.created <= features.extraction_threads()
    assert features.engine_pool() is features.engine_pool("eGeMAPSv02")


def test_unknown_feature_set_is_refused() -> None:
    for call in (
        lambda: features.feature_names("IS09"),
        lambda: features.extract_one(tone(), feature_set="IS09"),
        lambda: features.extract_batch([tone()], feature_set="IS09"),
    ):
        with pytest.raises(ValueError, match="unknown feature set 'IS09'"):
            call()
