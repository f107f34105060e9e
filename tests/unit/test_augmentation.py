"""Training-only audio augmentation: each transformation does what it says, copies are seeded,
noise comes from the training clips only, and copies' features are cached."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import signal

from vocalbaby import augmentation, dataset, storage
from vocalbaby import features as vb_features
from vocalbaby.audio import SAMPLE_RATE
from vocalbaby.augmentation import AugmentationConfig

RNG = np.random.default_rng(0)
TONE = (0.3 * np.sin(2 * np.pi * 440 * np.arange(6400) / SAMPLE_RATE)).astype(np.float32)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def band_energy(x: np.ndarray, low: float, high: float) -> float:
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE)
    return float(spectrum[(freqs >= low) & (freqs < high)].sum())


def test_copies_are_seeded_by_clip_copy_and_config() -> None:
    config = AugmentationConfig(noise_probability=0.0)
    first = augmentation.augment(TONE, sha("a"), 0, config)
    assert np.array_equal(first, augmentation.augment(TONE, sha("a"), 0, config))
    assert not np.array_equal(first, augmentation.augment(TONE, sha("a"), 1, config))
    assert not np.array_equal(first, augmentation.augment(TONE, sha("b"), 0, config))
    other_seed = AugmentationConfig(noise_probability=0.0, seed=1)
    assert not np.array_equal(first, augmentation.augment(TONE, sha("a"), 0, other_seed))
    assert first.dtype == np.float32 and first.shape == TONE.shape
    assert np.abs(first).max() <= 1.0


@pytest.mark.parametrize("snr_db", [0.0, 10.0, 25.0])
def test_noise_is_added_at_the_requested_snr(snr_db: float) -> None:
    noise = RNG.normal(0, 0.5, 3000)  # shorter than the clip: looped
    mixed = augmentation.add_noise(TONE.astype(np.float64), noise, snr_db)
    added = mixed - TONE
    measured = 10 * np.log10(np.mean(TONE.astype(np.float64) ** 2) / np.mean(added**2))
    assert measured == pytest.approx(snr_db, abs=0.01)


def test_phone_band_and_codec_remove_what_a_phone_line_cannot_carry() -> None:
    white = RNG.normal(0, 0.1, 16000)
    banded = augmentation.phone_band(white)
    assert band_energy(banded, 5000, 8000) < 1e-3 * band_energy(white, 5000, 8000)
    assert band_energy(banded, 0, 100) < 1e-2 * band_energy(white, 0, 100)
    assert band_energy(banded, 800, 2500) > 0.8 * band_energy(white, 800, 2500)
    coded = augmentation.codec(white)
    assert coded.shape == white.shape
    assert band_energy(coded, 4200, 8000) < 1e-2 * band_energy(white, 4200, 8000)
    narrowband = signal.resample_poly(signal.resample_poly(white, 1, 2), 2, 1)
    error = np.std(coded - narrowband)
    assert 0.001 * np.std(white) < error < 0.05 * np.std(white)  # 8-bit mu-law: ~38 dB SNR


def test_impulse_response_decays_by_60_db_over_rt60() -> None:
    rt60 = 0.4
    response = augmentation.impulse_response(rt60, seed=3)
    assert len(response) == round(rt60 * SAMPLE_RATE)
    assert np.sum(response**2) == pytest.approx(1.0)
    window = 400
    early = np.mean(response[1 : 1 + window] ** 2)
    late = np.mean(response[-window:] ** 2)
    assert 10 * np.log10(early / late) == pytest.approx(60, abs=6)
    assert not np.array_equal(response, augmentation.impulse_response(rt60, seed=4))


def test_shift_moves_the_signal_and_pads_with_zeros() -> None:
    x = np.arange(1, 11, dtype=np.float64)
    assert augmentation.shift(x, 3).tolist() == [0, 0, 0, *range(1, 8)]
    assert augmentation.shift(x, -2).tolist() == [*range(3, 11), 0, 0]


def test_noise_comes_from_the_pool_never_the_clip_itself_and_is_stable_across_pools() -> None:
    config = AugmentationConfig(copies=3, noise_probability=1.0)
    clips = pd.DataFrame({"sha256": [sha(f"clip{i}") for i in range(40)]})
    pool = clips["sha256"].iloc[:10].tolist()
    table = augmentation.variants(clips, pool, config)
    assert len(table) == 120 and table["key"].is_unique
    assert set(table["noise_sha256"]) <= set(pool)
    assert (table["noise_sha256"] != table["sha256"]).all()
    smaller = augmentation.variants(clips, pool[:5], config)
    kept = table["noise_sha256"].isin(pool[:5])
    assert (smaller["key"][kept] == table["key"][kept]).all(), "unaffected copies keep their key"
    assert (smaller["key"][~kept] != table["key"][~kept]).all()
    assert set(augmentation.variants(clips, [], config)["noise_sha256"]) == {""}
    other = augmentation.variants(clips, pool, AugmentationConfig(copies=3, seed=1))
    assert not set(other["key"]) & set(table["key"])


def test_training_copies_use_the_training_junk_and_are_cached(
    demo_dataset: Path, tmp_path: Path
) -> None:
    manifest = dataset.inspect(dataset.read(demo_dataset)).set_index("clip_id").iloc[:24]
    groups = manifest["child_id"]
    config = AugmentationConfig(copies=2, noise_probability=1.0)
    cache = augmentation.cache_uri(str(tmp_path))
    extra = augmentation.training_copies(manifest, groups, cache, config)
    train = manifest.index[:16]
    features, labels, copy_groups = extra(train)
    assert len(features) == 32 and features.notna().any(axis=1).all()
    assert {i.split("~aug")[0] for i in features.index} == set(train)
    assert (
        labels.to_numpy() == manifest.loc[[i.split("~")[0] for i in labels.index], "label"]
    ).all()
    assert (copy_groups.to_numpy() == groups.loc[[i.split("~")[0] for i in labels.index]]).all()
    table = augmentation.variants(
        manifest.loc[train],
        manifest.loc[train].query("label == 'junk'")["sha256"],
        config,
    )
    assert set(table["noise_sha256"]) - {""} <= set(manifest.loc[train, "sha256"])
    parts = storage.list_keys(cache)
    again, _, _ = extra(train)
    assert storage.list_keys(cache) == parts, "a second call extracts nothing"
    pd.testing.assert_frame_equal(again, features)
    clean = vb_features.extract_files(manifest.loc[train, "uri"].to_dict()).features
    first_copies = features[features.index.str.endswith("~aug0")]
    differs = np.abs(first_copies.to_numpy() - clean.loc[train].to_numpy()) > 1e-3
    assert differs.any(axis=1).all(), "every copy changed the clip's features"


def test_the_config_survives_its_json_form() -> None:
    config = AugmentationConfig(copies=3, snr_db=(0.0, 10.0), seed=7)
    stored = json.loads(json.dumps(config.as_dict()))
    assert AugmentationConfig.from_dict(stored) == config
    assert AugmentationConfig.from_dict(stored).key() == config.key()
