"""Audio decoding, validation, conversion to 16 kHz mono float32, and windowing.

Training and serving both read audio through :func:`load`, so a clip is decoded,
mixed down and resampled identically wherever it is classified.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from vocalbaby import storage

SAMPLE_RATE = 16_000
MIN_DURATION_S = 0.05
CLIP_DURATION_S = 0.4

AudioSource = str | os.PathLike[str] | bytes | BinaryIO


class AudioError(ValueError):
    """Audio that cannot be used, with the source's name and the reason."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


@dataclass(frozen=True)
class Audio:
    """Decoded audio: mono float32 samples in [-1, 1] at :data:`SAMPLE_RATE`."""

    samples: np.ndarray
    original_rate: int
    channels: int
    name: str

    sample_rate: int = SAMPLE_RATE

    @property
    def duration_s(self) -> float:
        """Duration in seconds."""
        return len(self.samples) / self.sample_rate


@dataclass(frozen=True)
class Window:
    """One window of a recording; ``silent`` windows are too quiet to classify."""

    start_s: float
    end_s: float
    samples: np.ndarray
    silent: bool


def _source_name(source: AudioSource, name: str | None) -> str:
    if name:
        return name
    if isinstance(source, str | os.PathLike):
        return str(source)
    return getattr(source, "name", None) or "<bytes>"


def _read_source(source: AudioSource) -> BinaryIO:
    if isinstance(source, bytes):
        return io.BytesIO(source)
    if isinstance(source, str | os.PathLike):
        if storage.is_s3(source):
            return io.BytesIO(storage.read_bytes(source))
        return open(Path(source), "rb")
    return source


def load(
    source: AudioSource,
    name: str | None = None,
    max_duration_s: float | None = None,
    min_duration_s: float = MIN_DURATION_S,
) -> Audio:
    """Decode wav/flac/ogg from a path, ``s3://`` URI, bytes or file object.

    Returns mono float32 audio at 16 kHz; raises :class:`AudioError` naming the source when
    the input is missing, empty, undecodable, too short, too long, or holds non-finite samples.

    >>> load(Path("clip.wav")).duration_s  # doctest: +SKIP
    0.4
    """
    label = _source_name(source, name)
    try:
        handle = _read_source(source)
    except FileNotFoundError as exc:
        raise AudioError(label, "file not found") from exc
    try:
        with handle, sf.SoundFile(handle) as f:
            if max_duration_s is not None and f.frames > max_duration_s * f.samplerate:
                raise AudioError(label, f"longer than the limit of {max_duration_s:g} s")
            data = f.read(dtype="float32", always_2d=True)
            rate = f.samplerate
    except AudioError:
        raise
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        detail = getattr(exc, "error_string", None) or str(exc)
        raise AudioError(label, f"not a readable audio file ({detail})") from exc
    return from_array(data, rate, label, min_duration_s=min_duration_s)


def from_array(
    data: np.ndarray,
    sample_rate: int,
    name: str = "<array>",
    min_duration_s: float = MIN_DURATION_S,
) -> Audio:
    """Validate raw samples (frames x channels, or 1-D) and convert them to 16 kHz mono."""
    data = np.asarray(data, dtype=np.float32)
    channels = 1 if data.ndim == 1 else data.shape[1]
    if data.size == 0:
        raise AudioError(name, "empty audio (no samples)")
    if not np.all(np.isfinite(data)):
        raise AudioError(name, "audio holds NaN or infinite samples")
    mono = data if data.ndim == 1 else data.mean(axis=1)
    duration = len(mono) / sample_rate
    if duration < min_duration_s:
        raise AudioError(
            name, f"too short: {duration * 1000:.0f} ms, at least {min_duration_s * 1000:.0f} ms"
        )
    return Audio(
        samples=resample(mono, sample_rate),
        original_rate=int(sample_rate),
        channels=channels,
        name=name,
    )


def resample(samples: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """Polyphase resampling to ``target`` Hz, float32 clipped to [-1, 1]."""
    if rate != target:
        ratio = Fraction(target, int(rate)).limit_denominator(1000)
        samples = resample_poly(samples, ratio.numerator, ratio.denominator)
    return np.clip(samples, -1.0, 1.0).astype(np.float32, copy=False)


def windows(
    audio: Audio,
    length_s: float = CLIP_DURATION_S,
    hop_s: float = CLIP_DURATION_S,
    silence_dbfs: float = -50.0,
) -> list[Window]:
    """Cut a recording into windows of ``length_s`` every ``hop_s`` seconds.

    Full windows start at every hop; when they leave a tail uncovered, one last shorter window
    covers it if it holds at least half a window (a shorter tail is left out). A recording
    shorter than one window is one window. Windows below ``silence_dbfs`` RMS are marked silent.
    """
    if length_s <= 0 or hop_s <= 0:
        raise ValueError("window length and hop must be positive")
    size, hop = round(length_s * audio.sample_rate), round(hop_s * audio.sample_rate)
    total = len(audio.samples)
    starts = list(range(0, max(total - size, 0) + 1, hop))
    tail = starts[-1] + hop
    if starts[-1] + size < total and total - tail >= size // 2:
        starts.append(tail)
    out = []
    for start in starts:
        chunk = audio.samples[start : start + size]
        out.append(
            Window(
                start_s=start / audio.sample_rate,
                end_s=(start + len(chunk)) / audio.sample_rate,
                samples=chunk,
                silent=level_dbfs(chunk) < silence_dbfs,
            )
        )
    return out


def level_dbfs(samples: np.ndarray) -> float:
    """RMS level in dB relative to full scale (``-inf`` for digital silence)."""
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0
    return 20 * np.log10(rms) if rms > 0 else float("-inf")
