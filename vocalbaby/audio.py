"""Audio decoding, validation, conversion to 16 kHz mono float32, and windowing.

Training and serving both read audio through :func:`load`, so a clip is decoded,
mixed down and resampled identically wherever it is classified.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
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


@dataclass(frozen=True)
class DecodeLimits:
    """What one file may cost to decode; refused with :class:`AudioError` before decoding.

    Decoding runs in blocks of :data:`BLOCK_FRAMES` frames, mixed down and resampled as it
    goes, so memory holds one block plus the 16 kHz result whatever the file's rate and
    channels; these limits bound the CPU time. Defaults: 192 kHz, 8 channels, 120 M samples
    (frames x channels, e.g. 600 s of 96 kHz stereo), no limit on seconds.
    """

    max_sample_rate: int = 192_000
    max_channels: int = 8
    max_samples: int = 120_000_000
    max_duration_s: float | None = None


@dataclass(frozen=True)
class Header:
    """What a file's header says, read without decoding it."""

    frames: int
    sample_rate: int
    channels: int

    @property
    def duration_s(self) -> float:
        """Duration in seconds."""
        return self.frames / self.sample_rate


BLOCK_FRAMES = 1 << 16


def header(
    source: AudioSource, name: str | None = None, limits: DecodeLimits | None = None
) -> Header:
    """The frames, rate and channels of a wav/flac/ogg, checked against ``limits`` if given
    (raises :class:`AudioError`)."""
    with _open(source, _source_name(source, name)) as (f, label):
        if limits:
            _check(f, label, limits)
        return Header(f.frames, f.samplerate, f.channels)


@contextmanager
def _open(source: AudioSource, label: str) -> Iterator[tuple[sf.SoundFile, str]]:
    try:
        handle = _read_source(source)
    except FileNotFoundError as exc:
        raise AudioError(label, "file not found") from exc
    with handle:
        try:
            f = sf.SoundFile(handle)
        except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
            raise _unreadable(label, exc) from exc
        with f:
            try:
                yield f, label
            except (sf.LibsndfileError, RuntimeError) as exc:
                raise _unreadable(label, exc) from exc


def _unreadable(label: str, exc: Exception) -> AudioError:
    detail = getattr(exc, "error_string", None) or str(exc)
    return AudioError(label, f"not a readable audio file ({detail})")


def _check(f: sf.SoundFile, label: str, limits: DecodeLimits) -> None:
    samples = f.frames * f.channels
    if f.samplerate > limits.max_sample_rate:
        reason = f"sample rate {f.samplerate} Hz is above the limit of {limits.max_sample_rate} Hz"
    elif f.channels > limits.max_channels:
        reason = f"{f.channels} channels, at most {limits.max_channels}"
    elif samples > limits.max_samples:
        reason = f"{samples} samples (frames x channels), at most {limits.max_samples}"
    elif limits.max_duration_s is not None and f.frames > limits.max_duration_s * f.samplerate:
        reason = f"longer than the limit of {limits.max_duration_s:g} s"
    else:
        return
    raise AudioError(label, reason)


def load(
    source: AudioSource,
    name: str | None = None,
    max_duration_s: float | None = None,
    min_duration_s: float = MIN_DURATION_S,
    limits: DecodeLimits = DecodeLimits(),
) -> Audio:
    """Decode wav/flac/ogg from a path, ``s3://`` URI, bytes or file object.

    Returns mono float32 audio at 16 kHz, decoded in blocks (see :class:`DecodeLimits`);
    raises :class:`AudioError` naming the source when the input is missing, empty,
    undecodable, beyond ``limits`` or ``max_duration_s``, too short, or holds non-finite
    samples.

    >>> load(Path("clip.wav")).duration_s  # doctest: +SKIP
    0.4
    """
    if max_duration_s is not None:
        limits = replace(limits, max_duration_s=max_duration_s)
    with _open(source, _source_name(source, name)) as (f, label):
        _check(f, label, limits)
        rate, channels = f.samplerate, f.channels
        if f.frames == 0:
            raise AudioError(label, "empty audio (no samples)")
        stream = Resampler(rate)
        for block in f.blocks(blocksize=BLOCK_FRAMES, dtype="float32", always_2d=True):
            if not np.all(np.isfinite(block)):
                raise AudioError(label, "audio holds NaN or infinite samples")
            stream.push(block.mean(axis=1, dtype=np.float32))
        if stream.consumed == 0:
            raise AudioError(label, "empty audio (no samples)")
    _check_duration(stream.consumed / rate, label, min_duration_s)
    return Audio(samples=stream.finish(), original_rate=int(rate), channels=channels, name=label)


def _check_duration(duration: float, name: str, min_duration_s: float) -> None:
    if duration < min_duration_s:
        raise AudioError(
            name, f"too short: {duration * 1000:.0f} ms, at least {min_duration_s * 1000:.0f} ms"
        )


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
    _check_duration(len(mono) / sample_rate, name, min_duration_s)
    return Audio(
        samples=resample(mono, sample_rate),
        original_rate=int(sample_rate),
        channels=channels,
        name=name,
    )


def _ratio(rate: int, target: int) -> tuple[int, int]:
    ratio = Fraction(target, int(rate)).limit_denominator(1000)
    return ratio.numerator, ratio.denominator


def resample(samples: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """Polyphase resampling to ``target`` Hz, float32 clipped to [-1, 1]."""
    if rate != target:
        samples = resample_poly(samples, *_ratio(rate, target))
    return np.clip(samples, -1.0, 1.0).astype(np.float32, copy=False)


class Resampler:
    """:func:`resample` of a signal that arrives in pieces, holding only a step of input.

    Input is resampled in steps of a multiple of the decimation factor with ``pad`` samples of
    context either side (more than the polyphase filter's half length), so each step's output
    is what :func:`resample` gives for the whole signal, up to float rounding.
    """

    def __init__(self, rate: int, target: int = SAMPLE_RATE, step: int = BLOCK_FRAMES) -> None:
        self.up, self.down = _ratio(rate, target) if rate != target else (1, 1)
        half = -(-10 * max(self.up, self.down) // self.up) + 1 if rate != target else 0
        self.pad = -(-half // self.down) * self.down
        self.step = -(-max(step, self.pad) // self.down) * self.down
        self.consumed = 0
        self._buffer = np.empty(0, dtype=np.float32)
        self._head = 0  # context samples at the start of the buffer, already resampled
        self._out: list[np.ndarray] = []

    def push(self, samples: np.ndarray) -> None:
        """Add the next mono samples at the input rate."""
        self.consumed += len(samples)
        self._buffer = np.concatenate([self._buffer, samples.astype(np.float32, copy=False)])
        while len(self._buffer) - self._head >= self.step + self.pad:
            self._emit(self.step)

    def _emit(self, count: int | None) -> None:
        end = None if count is None else self._head + count + self.pad
        segment = self._buffer[:end]
        if (self.up, self.down) != (1, 1):
            segment = resample_poly(segment, self.up, self.down)
        first = self._head * self.up // self.down
        last = None if count is None else first + count * self.up // self.down
        self._out.append(np.clip(segment[first:last], -1.0, 1.0).astype(np.float32, copy=False))
        if count is not None:
            keep = max(self._head + count - self.pad, 0)
            self._head = self._head + count - keep
            self._buffer = self._buffer[keep:]

    def finish(self) -> np.ndarray:
        """The whole resampled signal, float32 clipped to [-1, 1]."""
        self._emit(None)
        self._buffer = np.empty(0, dtype=np.float32)
        return np.concatenate(self._out) if self._out else np.empty(0, dtype=np.float32)


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
