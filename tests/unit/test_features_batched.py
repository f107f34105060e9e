"""The batched extractor (pruned config, chunked tasks) gives what per-clip openSMILE gives."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import opensmile
import pandas as pd
import pytest

from tests.audio_files import tone, write_bad_clips, write_wav
from vocalbaby import audio, dataset, features, smile_config, synthetic


def _per_clip(signals: dict[str, np.ndarray], feature_set: str = "eGeMAPSv02") -> pd.DataFrame:
    """The reference: a fresh ``opensmile.Smile`` call per signal (opensmile's full config)."""
    smile = opensmile.Smile(features.FEATURE_SETS[feature_set], features.FEATURE_LEVEL)
    rows = [smile(s, 16_000)[0, :, 0] for s in signals.values()]
    return pd.DataFrame(
        rows, index=list(signals), columns=list(features.feature_names(feature_set))
    )


def _assert_identical(signals: dict[str, np.ndarray]) -> None:
    """Batched features equal per-clip ones bit for bit (so also within 1e-4 std per feature)."""
    batched = features.extract(signals)
    reference = _per_clip(signals)
    deviation = features.deviation(reference, batched)
    worst = deviation.sort_values(ascending=False).head(5).to_dict()
    assert (deviation <= 1e-4).all(), f"max |diff| / std per feature, worst: {worst}"
    np.testing.assert_array_equal(batched.to_numpy(), reference.to_numpy(np.float32))


def test_parity_on_every_real_dev_clip(real_dev: Path) -> None:
    manifest = dataset.read(real_dev)
    signals = {row.clip_id: audio.load(row.uri).samples for row in manifest.itertuples()}
    assert len(signals) == 700
    _assert_identical(signals)


def test_parity_on_demo_clips(tmp_path: Path) -> None:
    manifest = dataset.read(synthetic.generate(tmp_path / "demo", clips=100, seed=3))
    _assert_identical({row.clip_id: audio.load(row.uri).samples for row in manifest.itertuples()})


def test_parity_on_signals_of_varied_length() -> None:
    """Pipeline clips and tails of long recordings are not 0.4 s; silence and noise are edges."""
    rng = np.random.default_rng(7)
    signals = {f"tone{s}": tone(s, 180 + 100 * s) for s in (0.15, 0.25, 0.4, 0.61, 1.0, 2.3, 5.0)}
    signals["silence"] = np.zeros(6400, dtype=np.float32)
    signals["noise"] = (0.2 * rng.standard_normal(9600)).astype(np.float32)
    signals["clipped"] = np.clip(tone(0.4) * 5, -1, 1)
    _assert_identical(signals)


@pytest.mark.parametrize("feature_set", sorted(features.FEATURE_SETS))
def test_pruned_config_only_drops_components_that_feed_no_functional(feature_set: str) -> None:
    smile = opensmile.Smile(features.FEATURE_SETS[feature_set], features.FEATURE_LEVEL)
    dead = smile_config.dead_components(smile_config.flatten(Path(smile.config_path)), "func")
    assert dead and not any(name.endswith(("functionals", "leq")) for name in dead)
    full, pruned = features._Engine(feature_set, pruned=False), features._Engine(feature_set)
    for signal in (tone(0.4, 300.0), tone(1.7, 520.0)):
        np.testing.assert_array_equal(pruned(signal), full(signal))
        full.reset()
        pruned.reset()


def test_keys_and_order_are_kept_and_short_signals_fail_alone() -> None:
    signals: dict[object, np.ndarray] = {
        ("rec", 3): tone(0.4, 330.0),
        "tiny": tone(0.02),
        7: tone(0.8, 250.0),
        "empty": np.zeros(0, dtype=np.float32),
        "stereo": np.zeros((2, 6400), dtype=np.float32),
    }
    signals |= {f"clip{i}": tone(0.4, 150.0 + 37 * i) for i in range(40)}
    result = features.extract_batch(dict(reversed(signals.items())))
    ok = [k for k in reversed(signals) if k not in {"tiny", "empty", "stereo"}]
    assert list(result.features.index) == ok
    assert "too short" in result.failures["tiny"]
    assert (
        "non-empty 1-D" in result.failures["empty"]
        and "shape (2, 6400)" in result.failures["stereo"]
    )
    alone = {k: features.extract_one(signals[k]) for k in ok[:3]}
    for key, row in alone.items():
        np.testing.assert_array_equal(result.features.loc[[key]].to_numpy()[0], row)


def test_progress_counts_every_signal_of_every_chunk() -> None:
    seen: list[tuple[int, int]] = []
    features.extract([tone(0.4, 200.0 + i) for i in range(100)], progress=lambda *p: seen.append(p))
    assert seen == [(i, 100) for i in range(1, 101)]


def test_a_batch_stops_at_its_deadline() -> None:
    signals = [tone(0.4, 200.0 + i) for i in range(2000)]  # about 20 s of work
    started = time.monotonic()
    with pytest.raises(features.DeadlineExceeded, match="of 2000 signals done"):
        features.extract_batch(signals, deadline=started + 0.3)
    assert time.monotonic() - started < 1.5  # a chunk in flight stops within one signal


def test_chunks_are_bounded_and_small_calls_use_every_thread(monkeypatch) -> None:
    sizes: list[int] = []
    threads: set[str] = set()
    run_chunk = features._run_chunk

    def recording(chunk, work, deadline):
        sizes.append(len(chunk))
        return run_chunk(chunk, work, deadline)

    def work(item: int) -> np.ndarray:
        threads.add(threading.current_thread().name)
        time.sleep(0.005)
        return np.zeros(88, dtype=np.float32)

    monkeypatch.setattr(features, "_run_chunk", recording)
    result = features._run(dict.fromkeys(range(1000), 0), work, None, None)
    assert len(result.features) == 1000 and max(sizes) == features.BATCH_SIGNALS
    sizes.clear()
    threads.clear()
    features._run(dict.fromkeys(range(6), 0), work, None, None)
    assert max(sizes) == 1 and len(threads) == min(6, features.extraction_threads())
    assert features.engine_pool().created <= features.extraction_threads()


def test_engines_made_at_once_share_one_pruned_config(monkeypatch) -> None:
    """Regression: the first engines of a process, made by several threads at once, each made
    a temporary folder; all but one were removed while in use (FileNotFoundError)."""
    monkeypatch.setattr(smile_config, "_workdir", [])
    with ThreadPoolExecutor(max_workers=6) as threads:
        engines = list(threads.map(lambda _: features._Engine(), range(6)))
    assert len(smile_config._workdir) == 1
    assert all(engine(tone()).shape == (88,) for engine in engines)


def test_files_are_decoded_in_chunks_and_bad_ones_fail_alone(tmp_path: Path) -> None:
    expected = write_bad_clips(tmp_path / "bad")
    sources = {name: tmp_path / "bad" / name for name in expected}
    good = {f"ok{i}": tone(0.4 + 0.1 * i, 200.0 + 50 * i) for i in range(10)}
    sources |= {key: write_wav(tmp_path / f"{key}.wav", s) for key, s in good.items()}
    result = features.extract_files(sources)
    assert sorted(result.failures) == sorted(expected)
    for name, reason in expected.items():
        assert reason in result.failures[name]
    assert list(result.features.index) == list(good)
    for key in good:
        decoded = audio.load(sources[key]).samples
        np.testing.assert_array_equal(result.features.loc[key], features.extract_one(decoded))
