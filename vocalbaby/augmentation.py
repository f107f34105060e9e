"""Audio augmentation of training clips, before feature extraction: the recording conditions a
model meets on corpora it never heard (another gain, background noise, a room, a phone line, a
lossy codec, a clip cut a little earlier or later).

Only ever applied to training data (a LOCO training part, the final model's train + valid),
never to validation or test clips. Every copy is seeded by (config, clip hash, copy number), so
the same clip always gets the same copy; its features are cached under a key naming the clip's
audio, the configuration and the noise clip used (:func:`variants`). Background noise comes from
the training part's own ``junk`` clips, chosen by rendezvous hashing: removing clips from the
pool (another held-out corpus) changes only the copies that used those clips, so most cached
copies are reused across LOCO folds.

Room impulse responses are synthetic: seeded Gaussian noise under an exponential decay of the
drawn RT60 (no room-acoustics dependency).

>>> config = AugmentationConfig(copies=2)
>>> copy = augment(np.zeros(6400, np.float32), "ab" * 32, 0, config)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import signal

from vocalbaby import audio, feature_cache
from vocalbaby.audio import SAMPLE_RATE
from vocalbaby.features import DEFAULT_FEATURE_SET

Range = tuple[float, float]
PHONE_BAND_HZ = (300.0, 3400.0)
CODEC_RATE = 8_000
MU = 255.0


@dataclass(frozen=True)
class AugmentationConfig:
    """How many copies of each training clip, and the distribution of each transformation
    (a probability of being applied, and the range its strength is drawn from uniformly)."""

    copies: int = 2
    gain_db: Range = (-12.0, 6.0)
    noise_probability: float = 0.5
    snr_db: Range = (5.0, 25.0)
    reverb_probability: float = 0.3
    rt60_s: Range = (0.1, 0.7)
    phone_band_probability: float = 0.2
    codec_probability: float = 0.2
    max_shift_s: float = 0.05
    seed: int = 0

    def as_dict(self) -> dict[str, object]:
        """JSON-ready fields (recorded in the model bundle)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, stored: Mapping[str, object]) -> AugmentationConfig:
        """The configuration :meth:`as_dict` wrote."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in stored.items()})

    def key(self) -> str:
        """A digest of the configuration: part of every cached copy's key."""
        return hashlib.sha256(json.dumps(self.as_dict(), sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Draw:
    """The transformations of one copy, drawn once from its seed."""

    shift: int
    gain_db: float
    noise: bool
    snr_db: float
    rt60_s: float | None
    phone_band: bool
    codec: bool
    rir_seed: int


def draw(sha256: str, copy: int, config: AugmentationConfig) -> Draw:
    """The transformations of copy ``copy`` of the clip with audio hash ``sha256``."""
    rng = np.random.default_rng([config.seed, int(sha256[:15], 16), copy])
    max_shift = round(config.max_shift_s * SAMPLE_RATE)
    values = {
        "shift": int(rng.integers(-max_shift, max_shift + 1)),
        "gain_db": float(rng.uniform(*config.gain_db)),
        "noise": bool(rng.random() < config.noise_probability),
        "snr_db": float(rng.uniform(*config.snr_db)),
        "rt60_s": float(rng.uniform(*config.rt60_s)),
        "reverb": bool(rng.random() < config.reverb_probability),
        "phone_band": bool(rng.random() < config.phone_band_probability),
        "codec": bool(rng.random() < config.codec_probability),
        "rir_seed": int(rng.integers(2**31)),
    }
    reverb = values.pop("reverb")
    values["rt60_s"] = values["rt60_s"] if reverb else None
    return Draw(**values)


def impulse_response(rt60_s: float, seed: int) -> np.ndarray:
    """A synthetic room impulse response: the direct sound, then Gaussian noise decaying by
    60 dB over ``rt60_s`` (unit energy)."""
    n = max(2, round(rt60_s * SAMPLE_RATE))
    t = np.arange(n) / SAMPLE_RATE
    tail = np.random.default_rng(seed).normal(0, 1, n) * np.exp(-6.9078 * t / rt60_s)
    tail[0] = 0.0
    response = 0.1 * tail / np.sqrt(np.sum(tail**2))
    response[0] = 1.0
    return response / np.sqrt(np.sum(response**2))


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def add_noise(samples: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``samples`` plus ``noise`` (looped or cut to length) scaled to ``snr_db``."""
    noise = np.resize(noise, samples.shape)
    signal_rms, noise_rms = _rms(samples), _rms(noise)
    if signal_rms == 0 or noise_rms == 0:
        return samples
    return samples + noise * (signal_rms / noise_rms / 10 ** (snr_db / 20))


def phone_band(samples: np.ndarray) -> np.ndarray:
    """A 300-3400 Hz telephone band (4th-order Butterworth, zero phase)."""
    sos = signal.butter(4, PHONE_BAND_HZ, btype="bandpass", fs=SAMPLE_RATE, output="sos")
    return signal.sosfiltfilt(sos, samples)


def codec(samples: np.ndarray) -> np.ndarray:
    """A narrowband lossy channel: down to 8 kHz, 8-bit mu-law (G.711-like), back to 16 kHz."""
    low = signal.resample_poly(samples, CODEC_RATE, SAMPLE_RATE)
    x = np.clip(low, -1.0, 1.0)
    encoded = np.round(np.sign(x) * np.log1p(MU * np.abs(x)) / np.log1p(MU) * 127) / 127
    decoded = np.sign(encoded) * np.expm1(np.abs(encoded) * np.log1p(MU)) / MU
    return signal.resample_poly(decoded, SAMPLE_RATE, CODEC_RATE)[: len(samples)]


def shift(samples: np.ndarray, by: int) -> np.ndarray:
    """``samples`` moved by ``by`` samples (later when positive), zero-padded, same length."""
    out = np.zeros_like(samples)
    if by >= 0:
        out[by:] = samples[: len(samples) - by]
    else:
        out[:by] = samples[-by:]
    return out


def augment(
    samples: np.ndarray,
    sha256: str,
    copy: int,
    config: AugmentationConfig,
    noise: np.ndarray | None = None,
) -> np.ndarray:
    """Copy ``copy`` of a clip (16 kHz mono float32): shifted, reverberated, noise added (when
    drawn and ``noise`` is given), phone band, codec, gain, clipped to [-1, 1]."""
    chosen = draw(sha256, copy, config)
    x = shift(np.asarray(samples, dtype=np.float64), chosen.shift)
    if chosen.rt60_s is not None:
        x = signal.fftconvolve(x, impulse_response(chosen.rt60_s, chosen.rir_seed))[: len(x)]
    if chosen.noise and noise is not None:
        x = add_noise(x, np.asarray(noise, dtype=np.float64), chosen.snr_db)
    if chosen.phone_band:
        x = phone_band(x)
    if chosen.codec:
        x = codec(x)
    x = x * 10 ** (chosen.gain_db / 20)
    return np.clip(x, -1.0, 1.0).astype(np.float32)


def _noise_choice(sha256: str, copy: int, pool: Sequence[str], config: AugmentationConfig) -> str:
    """The pool clip with the highest rendezvous hash for this copy (never the clip itself)."""
    candidates = [p for p in pool if p != sha256]

    def score(candidate: str) -> bytes:
        return hashlib.sha256(f"{config.seed}|{sha256}|{copy}|{candidate}".encode()).digest()

    return max(candidates, key=score) if candidates else ""


def variants(
    clips: pd.DataFrame, noise_pool: Sequence[str], config: AugmentationConfig
) -> pd.DataFrame:
    """The augmented copies of ``clips`` (indexed by clip id, with ``sha256``): one row per
    copy with ``clip_id``, ``copy``, ``sha256``, ``noise_sha256`` (empty: no noise) and
    ``key``, the cache key of the copy's features."""
    pool = sorted(set(noise_pool))
    rows = []
    for clip_id, sha in clips["sha256"].items():
        for copy in range(config.copies):
            noise = _noise_choice(sha, copy, pool, config) if draw(sha, copy, config).noise else ""
            key = hashlib.sha256(f"{config.key()}|{sha}|{copy}|{noise}".encode()).hexdigest()
            rows.append((clip_id, copy, sha, noise, key))
    return pd.DataFrame(rows, columns=["clip_id", "copy", "sha256", "noise_sha256", "key"])


def cache_uri(root: str, feature_set: str = DEFAULT_FEATURE_SET) -> str:
    """The cache of augmented copies' features under ``root`` (a folder of its own, apart from
    the clips' feature cache, which is another pipeline stage's output)."""
    return feature_cache.cache_uri(root, feature_set)


def extract(
    cache: str,
    table: pd.DataFrame,
    uris: Mapping[str, audio.AudioSource],
    config: AugmentationConfig,
    progress: Callable[[int, int], None] | None = None,
    feature_set: str = DEFAULT_FEATURE_SET,
) -> pd.DataFrame:
    """Features of the copies in ``table`` (:func:`variants`), indexed like it; copies not in
    the ``cache`` are made from the audio (``uris``: sha256 -> audio, noise clips included),
    extracted and cached. Copies whose extraction fails are left out."""
    by_key = table.drop_duplicates("key").set_index("key")
    noises: dict[str, np.ndarray] = {}
    lock = threading.Lock()

    def noise_of(sha: str) -> np.ndarray | None:
        if not sha:
            return None
        with lock:
            if sha not in noises:
                noises[sha] = audio.load(uris[sha]).samples
            return noises[sha]

    def transform(key: Hashable, samples: np.ndarray) -> np.ndarray:
        row = by_key.loc[key]
        return augment(
            samples, row["sha256"], int(row["copy"]), config, noise_of(row["noise_sha256"])
        )

    sources = {key: uris[sha] for key, sha in by_key["sha256"].items()}
    found, _ = feature_cache.extract_missing(
        cache, sources, progress, transform=transform, feature_set=feature_set
    )
    kept = table[table["key"].isin(found.index)]
    return found.loc[kept["key"]].set_axis(kept.index)


def training_copies(
    manifest: pd.DataFrame,
    groups: pd.Series,
    cache: str,
    config: AugmentationConfig,
    progress: Callable[[int, int], None] | None = None,
    feature_set: str = DEFAULT_FEATURE_SET,
) -> Callable[[pd.Index], tuple[pd.DataFrame, pd.Series, pd.Series]]:
    """``extra(train_clip_ids)`` for training-only augmentation: the augmented copies of those
    clips, with noise from their own ``junk`` clips; features, labels and groups, indexed
    ``<clip_id>~aug<copy>``. ``manifest`` is indexed by clip id (``sha256``, ``uri``,
    ``label``); ``groups`` gives each clip's recording group, which its copies keep. ``cache``
    must be the augmented cache of ``feature_set`` (:func:`cache_uri`)."""
    uris = manifest.drop_duplicates("sha256").set_index("sha256")["uri"].to_dict()

    def extra(train: pd.Index) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
        clips = manifest.loc[train]
        pool = clips.loc[clips["label"] == "junk", "sha256"].tolist()
        table = variants(clips, pool, config)
        found = extract(cache, table, uris, config, progress, feature_set)
        rows = table.loc[found.index]
        index = pd.Index(rows["clip_id"] + "~aug" + rows["copy"].astype(str), name="clip_id")
        return (
            found.set_axis(index),
            manifest.loc[rows["clip_id"], "label"].set_axis(index),
            groups.loc[rows["clip_id"]].set_axis(index),
        )

    return extra
