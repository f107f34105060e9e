"""A deterministic SYNTHETIC BabbleCor-style dataset of infant vocalisations.

Nothing here is real infant audio. Every clip is 0.4 s of 16 kHz mono PCM16 built from a
source-filter model: a harmonic (glottal) source with jitter, shimmer and optional subharmonics,
plus aspiration noise, shaped by a cascade of second-order formant resonators whose frequencies
may move over time, plus sounds that bypass the vocal tract (bursts, frication, room sounds).

What each class models:

- ``canonical``: 1-3 consonant-vowel syllables (stop closure and burst, nasal murmur or
  fricative noise, then a vowel whose formants move from the consonant locus to the vowel
  target in 40-60 ms), f0 250-400 Hz.
- ``non_canonical``: vowel-like sounds without CV transitions: steady or slowly gliding vowels
  and quiet quasi-vowels, marginal syllables (slow 120-250 ms transitions, no real closure),
  squeals (f0 700-1000 Hz) and growls (f0 150-250 Hz, strong jitter and subharmonics).
- ``crying``: long, loud, tense voicing at f0 400-600 Hz with rich high harmonics and roughness.
- ``laughing``: rhythmic 50-80 ms voiced bursts at 4.5-7 Hz, f0 300-450 Hz, breathy aspiration
  between them.
- ``junk``: near-silence, coloured or rustling noise, distant adult speech (f0 90-220 Hz, adult
  formants, syllable rhythm), clicks and knocks, mains hum.

Each child has its own voice (an f0 factor, a vocal-tract size that scales the formants, a
breathiness), its own recording channel (a fixed band-limiting and EQ filter, a noise floor and
a gain) applied to all of its clips, its own mix of classes, and its own habits (favourite
vowels, consonants and sound kinds, and a habitual pitch, level and tilt for each kind). A
classifier can therefore learn child-specific cues, and child-disjoint evaluation scores lower
than a random split, as with real data.

``difficulty`` (0 to 1, default 1) sets how much the classes overlap, the way real recordings
do. At 0 every class keeps to its textbook description above (one acoustic feature alone then
separates crying or laughing from the rest); at 1:

- canonical and non-canonical babbling meet: canonical transitions up to 110 ms and weak bursts,
  marginal babbling (transitions from 70 ms) is a third of the non-canonical clips;
- fussing (quieter, shorter, less tense crying) is 40 % of crying, one- or two-burst chuckles
  35 % of laughing;
- junk holds voiced sounds: a sibling's canonical-like babble, infant-directed adult speech
  with raised pitch;
- a third of the infant clips have a background sound under them (adult speech, a sibling,
  noise, clicks, hum), 8 to 20 dB below the infant;
- channels vary more: reverberant rooms (RT60 up to 0.55 s), telephone-band recorders,
  noise floors up to -30 dBFS;
- some clips are ambiguous, as in crowd-sourced labels: 12 % of the canonical clips sound like
  marginal babbling, 5 % of the non-canonical ones like canonical babbling, and a few crying,
  laughing and junk clips sound non-canonical.

Class shares follow BabbleCor's, except that no class falls below :data:`MIN_SHARE`, so a
2000-clip demo has about 30 clips of its rarest class in a 20 % test split.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import signal

from vocalbaby.labels import CLASSES

SAMPLE_RATE = 16_000
CLIP_SECONDS = 0.4
N_SAMPLES = round(SAMPLE_RATE * CLIP_SECONDS)
COLUMNS = ("clip_id", "path", "label", "child_id", "age_months", "gender", "corpus")
PROPORTIONS = {
    "non_canonical": 0.41,
    "junk": 0.39,
    "canonical": 0.13,
    "crying": 0.055,
    "laughing": 0.014,
}
MIN_PER_CLASS = 4
MIN_SHARE = 0.09  # floor of a class's share (BabbleCor has 1.4 % laughing)
CORPORA = ("synth-A", "synth-B", "synth-C")
PEAK = 0.95


def is_synthetic_corpus(corpus: str) -> bool:
    """Whether ``corpus`` names a corpus of the synthetic demo set."""
    return corpus in CORPORA


def synthetic_only(corpora: list[str], demo: bool = False) -> bool:
    """Whether data of these corpora is only synthetic: the demo set (``demo``), or corpora
    that are all synthetic demo corpora."""
    return demo or (bool(corpora) and all(map(is_synthetic_corpus, corpora)))


_TIME = np.arange(N_SAMPLES) / SAMPLE_RATE
_BLOCK = 64  # samples per formant-coefficient update (4 ms)
_TABLE_SIZE = 4096  # wavetable points over two source periods
_HARMONIC_CEILING = 7_600.0  # Hz; no harmonic above this
_INFANT_TRACT = 1.45  # infant formants relative to adult ones
# Adult (F1, F2, F3, F4) targets in Hz.
_VOWELS = {
    "a": (730.0, 1090.0, 2440.0, 3400.0),
    "ae": (660.0, 1720.0, 2410.0, 3400.0),
    "e": (530.0, 1840.0, 2480.0, 3500.0),
    "i": (270.0, 2290.0, 3010.0, 3700.0),
    "u": (300.0, 870.0, 2240.0, 3300.0),
    "schwa": (500.0, 1500.0, 2500.0, 3400.0),
}
_BANDWIDTHS = (90.0, 110.0, 160.0, 250.0)
_VOWEL_SHARES = {"a": 0.3, "ae": 0.15, "e": 0.1, "i": 0.1, "u": 0.1, "schwa": 0.25}
# Consonant: (manner, adult F2/F3 locus in Hz, burst or frication band in Hz).
_CONSONANTS = {
    "b": ("stop", (900.0, 2100.0), (300.0, 1500.0)),
    "d": ("stop", (1700.0, 2700.0), (2500.0, 5000.0)),
    "g": ("stop", (2200.0, 2500.0), (1400.0, 2800.0)),
    "m": ("nasal", (900.0, 2100.0), (0.0, 0.0)),
    "n": ("nasal", (1700.0, 2700.0), (0.0, 0.0)),
    "s": ("fricative", (1700.0, 2700.0), (4000.0, 7200.0)),
    "sh": ("fricative", (1900.0, 2400.0), (2200.0, 5000.0)),
}
_CONSONANT_SHARES = {"b": 0.26, "d": 0.24, "g": 0.1, "m": 0.2, "n": 0.1, "s": 0.05, "sh": 0.05}
_NASAL_FORMANTS = (280.0, 1100.0, 2400.0, 3400.0)


@dataclass(frozen=True)
class Style:
    """A child's habitual way of producing one kind of sound."""

    f0: float = 1.0  # f0 factor
    level_db: float = 0.0
    tilt: float = 0.0  # added to the spectral tilt exponent


@dataclass(frozen=True)
class Child:
    """A synthetic child: metadata, voice and recording channel."""

    child_id: str
    age_months: int
    gender: str
    corpus: str
    f0_factor: float = 1.0
    formant_scale: float = 1.0
    breathiness: float = 0.1
    habits: dict[str, float] = field(default_factory=dict)  # choice name -> weight factor
    styles: dict[str, Style] = field(default_factory=dict)  # sound kind -> style
    channel: np.ndarray = field(default_factory=lambda: np.array([[1.0, 0, 0, 1.0, 0, 0]]))
    noise_db: float = -60.0
    gain_db: float = 0.0
    room: np.ndarray | None = None  # impulse response of the child's room, if reverberant


@dataclass
class Score:
    """Per-sample synthesis parameters of one clip (amplitudes relative to full voice)."""

    f0: np.ndarray
    formants: np.ndarray  # (4, N) Hz
    level_db: float  # dBFS RMS of full-amplitude voice
    voice: np.ndarray = field(default_factory=lambda: np.zeros(N_SAMPLES))
    breath: np.ndarray = field(default_factory=lambda: np.zeros(N_SAMPLES))
    bandwidths: np.ndarray = field(default_factory=lambda: _tracks(_BANDWIDTHS))
    extra: np.ndarray = field(default_factory=lambda: np.zeros(N_SAMPLES))
    tilt: float = 1.2
    jitter: float = 0.005
    subharmonics: float = 0.0


# --- allocation -------------------------------------------------------------------------------


def class_counts(clips: int) -> dict[str, int]:
    """Clips per class: BabbleCor shares floored at :data:`MIN_SHARE`, by largest remainder, at
    least 4 each from 100 clips."""
    shares = {label: max(share, MIN_SHARE) for label, share in PROPORTIONS.items()}
    total = sum(shares.values())
    quotas = {label: clips * share / total for label, share in shares.items()}
    counts = {label: int(q) for label, q in quotas.items()}
    by_remainder = sorted(quotas, key=lambda label: counts[label] - quotas[label])
    for label in by_remainder[: clips - sum(counts.values())]:
        counts[label] += 1
    if clips >= 100:
        for label in counts:
            while counts[label] < MIN_PER_CLASS:
                counts[max(counts, key=counts.__getitem__)] -= 1
                counts[label] += 1
    return {label: counts[label] for label in CLASSES}


def _make_children(clips: int, rng: np.random.Generator, difficulty: float) -> list[Child]:
    """Several children (about 30 clips each, 6 to 80) with their own age, voice and channel."""
    count = min(80, max(6, clips // 30))
    return [_make_child(index, rng, difficulty) for index in range(count)]


def _make_child(index: int, rng: np.random.Generator, difficulty: float) -> Child:
    """One child; older children have larger vocal tracts (lower formants)."""
    age = int(rng.integers(2, 25))
    return Child(
        child_id=f"synth_child_{index + 1:02d}",
        age_months=age,
        gender=str(rng.choice(["F", "M"])),
        corpus=str(rng.choice(CORPORA)),
        f0_factor=float(rng.uniform(0.8, 1.25)),
        formant_scale=float((1.1 - 0.008 * (age - 2)) * rng.lognormal(0.0, 0.05)),
        breathiness=float(rng.uniform(0.03, 0.3)),
        habits={name: float(rng.lognormal(0.0, 0.7)) for name in _habit_names()},
        styles={kind: _make_style(rng) for kinds in KINDS.values() for kind in kinds},
        channel=_make_channel(rng, difficulty),
        noise_db=float(rng.uniform(-62.0, -42.0 + 12.0 * difficulty)),
        gain_db=float(rng.uniform(-6.0, 6.0)),
        room=_make_room(rng) if rng.random() < 0.6 * difficulty else None,
    )


def _habit_names() -> list[str]:
    """Every choice a child can favour: vowels, consonants and sound kinds."""
    return [*_VOWELS, *_CONSONANTS, *(kind for kinds in KINDS.values() for kind in kinds)]


def _make_style(rng: np.random.Generator) -> Style:
    """A random habitual f0, level and tilt offset."""
    return Style(
        f0=float(np.clip(rng.lognormal(0.0, 0.15), 0.8, 1.25)),
        level_db=float(rng.normal(0.0, 4.0)),
        tilt=float(rng.normal(0.0, 0.25)),
    )


def _make_channel(rng: np.random.Generator, difficulty: float) -> np.ndarray:
    """A recording channel as second-order sections: high-pass, low-pass and one peaking EQ;
    with ``difficulty``, a quarter of the channels at most is telephone-band (300-3400 Hz)."""
    nyquist = SAMPLE_RATE / 2
    phone = rng.random() < 0.25 * difficulty
    low_cut, high_cut = (
        (300.0, 3400.0) if phone else (rng.uniform(50, 250), rng.uniform(3e3, 7.5e3))
    )
    highpass = signal.butter(2, low_cut / nyquist, "highpass", output="sos")
    lowpass = signal.butter(4, high_cut / nyquist, output="sos")
    return np.vstack([highpass, lowpass, _peaking_eq(rng)])


def _make_room(rng: np.random.Generator) -> np.ndarray:
    """A synthetic room impulse response: a direct path, then exponentially decaying noise with
    an RT60 of 0.1-0.55 s, its energy 3-12 dB below the direct sound."""
    rt60 = rng.uniform(0.1, 0.55)
    length = int(min(rt60, 0.4) * SAMPLE_RATE)
    tail = rng.standard_normal(length) * np.exp(-6.9 * np.arange(length) / (rt60 * SAMPLE_RATE))
    tail *= _db(-rng.uniform(3.0, 12.0)) / max(_rms(tail) * np.sqrt(length), 1e-12)
    tail[0] = 1.0
    return tail


def _peaking_eq(rng: np.random.Generator) -> np.ndarray:
    """An RBJ peaking biquad with random centre, gain and Q, as one second-order section."""
    amp = 10 ** (rng.uniform(-12.0, 12.0) / 40)
    omega = 2 * np.pi * rng.uniform(400.0, 4000.0) / SAMPLE_RATE
    alpha = np.sin(omega) / (2 * rng.uniform(0.7, 2.0))
    b = [1 + alpha * amp, -2 * np.cos(omega), 1 - alpha * amp]
    a = [1 + alpha / amp, -2 * np.cos(omega), 1 - alpha / amp]
    return np.concatenate([b, a]) / a[0]


def _assign(
    counts: dict[str, int], n_children: int, rng: np.random.Generator
) -> list[tuple[str, int]]:
    """(label, child index) per clip, shuffled; uneven child sizes and class mixes.

    The two largest classes first give every child one clip each (so every child has several
    classes); the rest goes by child size times a per-child class affinity.
    """
    sizes = rng.lognormal(0.0, 0.8, n_children)
    affinity = rng.lognormal(0.0, 0.7, (n_children, len(CLASSES)))
    largest = sorted(counts, key=counts.__getitem__)[-2:]
    plan: list[tuple[str, int]] = []
    for column, label in enumerate(CLASSES):
        left = counts[label]
        if label in largest:
            dealt = min(left, n_children)
            plan += [(label, child) for child in range(dealt)]
            left -= dealt
        weights = sizes * affinity[:, column]
        plan += [(label, int(c)) for c in rng.choice(n_children, left, p=weights / weights.sum())]
    return [plan[i] for i in rng.permutation(len(plan))]


# --- signal helpers ---------------------------------------------------------------------------


def _tracks(values: tuple[float, ...] | np.ndarray) -> np.ndarray:
    """Constant per-sample tracks, one row per value."""
    return np.repeat(np.asarray(values, dtype=float)[:, None], N_SAMPLES, axis=1)


def _ease(x: np.ndarray) -> np.ndarray:
    """Raised-cosine ramp from 0 to 1 over x in [0, 1]."""
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(x, 0.0, 1.0))


def _gate(start: float, end: float, attack: float, release: float) -> np.ndarray:
    """Amplitude envelope on between start and end seconds, with raised-cosine ramps."""
    return np.minimum(_ease((_TIME - start) / attack), _ease((end - _TIME) / release))


def _glide(start: float, duration: float) -> np.ndarray:
    """0 before start, rising smoothly to 1 over duration seconds."""
    return _ease((_TIME - start) / duration)


def _rms(x: np.ndarray) -> float:
    """Root mean square."""
    return float(np.sqrt(np.mean(x**2)))


def _db(level_db: float) -> float:
    """Amplitude factor of a level in dB."""
    return 10 ** (level_db / 20)


def _smooth_noise(rng: np.random.Generator, cutoff_hz: float) -> np.ndarray:
    """Gaussian noise low-passed at cutoff_hz, unit standard deviation."""
    sos = signal.butter(2, cutoff_hz / (SAMPLE_RATE / 2), output="sos")
    noise = signal.sosfilt(sos, rng.standard_normal(N_SAMPLES + 800))[800:]
    return noise / noise.std()


def _coloured_noise(rng: np.random.Generator, exponent: float) -> np.ndarray:
    """Noise with power spectrum ~ 1/f**exponent (0 white, 1 pink, 2 brown), unit RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(N_SAMPLES))
    freqs = np.maximum(np.fft.rfftfreq(N_SAMPLES, 1 / SAMPLE_RATE), 20.0)
    noise = np.fft.irfft(spectrum / freqs ** (exponent / 2), N_SAMPLES)
    return noise / _rms(noise)


def _band_noise(rng: np.random.Generator, low: float, high: float) -> np.ndarray:
    """White noise band-passed to [low, high] Hz, unit RMS."""
    band = np.array([low, min(high, 7800.0)]) / (SAMPLE_RATE / 2)
    noise = signal.sosfilt(
        signal.butter(3, band, "bandpass", output="sos"), rng.standard_normal(N_SAMPLES)
    )
    return noise / _rms(noise)


# --- source-filter rendering ------------------------------------------------------------------


def _harmonics(f0: np.ndarray, tilt: float, subharmonics: float, phase0: float) -> np.ndarray:
    """Harmonic source, amplitudes k**-tilt plus optional half-harmonics, unit RMS.

    One two-period wavetable holds every harmonic below the ceiling at the highest f0, so the
    source stays band-limited while f0 varies.
    """
    orders = np.arange(1, int(_HARMONIC_CEILING / f0.max()) + 1, dtype=float)
    orders = np.concatenate([orders, orders - 0.5]) if subharmonics else orders
    amps = orders**-tilt * np.where(orders % 1, subharmonics, 1.0)
    grid = np.linspace(0.0, 2.0, _TABLE_SIZE, endpoint=False)
    table = amps @ np.sin(2 * np.pi * orders[:, None] * grid)
    cycles = phase0 + np.cumsum(f0) / SAMPLE_RATE
    source = np.interp(cycles % 2.0, grid, table, period=2.0)
    return source / max(_rms(source), 1e-12)


def _resonator(x: np.ndarray, freq: np.ndarray, bandwidth: np.ndarray) -> np.ndarray:
    """A unity-DC-gain two-pole resonator whose frequency and bandwidth may change every block.

    Coefficients are taken at each block start; runs of blocks with equal coefficients are
    filtered in one go, and the filter state carries over from the last two outputs.
    """
    starts = np.arange(0, N_SAMPLES, _BLOCK)
    keys = np.stack([freq[starts], bandwidth[starts]])
    bounds = np.append(starts[np.append(True, np.any(np.diff(keys) != 0, axis=0))], N_SAMPLES)
    y = np.empty_like(x)
    y1 = y2 = 0.0
    for start, end in pairwise(bounds):
        r = np.exp(-np.pi * bandwidth[start] / SAMPLE_RATE)
        c1 = 2 * r * np.cos(2 * np.pi * freq[start] / SAMPLE_RATE)
        c2 = -r * r
        zi = [c1 * y1 + c2 * y2, c2 * y1]
        y[start:end], _ = signal.lfilter([1 - c1 - c2], [1, -c1, -c2], x[start:end], zi=zi)
        y1, y2 = y[end - 1], y[end - 2]
    return y


def _render(score: Score, rng: np.random.Generator) -> np.ndarray:
    """Render a score; amplitude 1 is the RMS of full-amplitude voice."""
    if not score.voice.any():
        return score.extra.copy()
    f0 = score.f0 * (1 + score.jitter * _smooth_noise(rng, 150.0))
    voiced = _harmonics(f0, score.tilt, score.subharmonics, rng.uniform(0, 2 * np.pi))
    voiced *= 1 + 1.5 * score.jitter * _smooth_noise(rng, 80.0)
    tract = score.voice * voiced + score.breath * rng.standard_normal(N_SAMPLES)
    for freq, bandwidth in zip(score.formants, score.bandwidths, strict=True):
        tract = _resonator(tract, freq, bandwidth)
    return score.extra + tract / _rms(tract[score.voice >= 0.5 * score.voice.max()])


def _record(x: np.ndarray, child: Child, rng: np.random.Generator) -> np.ndarray:
    """Reverberate in the child's room, add its noise floor, apply its channel and gain, keep
    peaks at or below PEAK."""
    if child.room is not None:
        x = signal.fftconvolve(x, child.room)[:N_SAMPLES]
    floor = _coloured_noise(rng, 1.0) * _db(child.noise_db + rng.uniform(-3.0, 3.0))
    y = signal.sosfilt(child.channel, x + floor) * _db(child.gain_db + rng.normal(0.0, 3.0))
    peak = np.abs(y).max()
    return y * (PEAK / peak) if peak > PEAK else y


# --- scores per class -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Speaker:
    """Who produces a syllable sequence."""

    f0: float  # Hz at the start of the clip
    scale: float  # formant scale, 1 = adult
    breathiness: float
    habits: dict[str, float]


def _infant(child: Child, f0: float) -> _Speaker:
    """The child as a speaker, at a base f0 before its own f0 factor."""
    return _Speaker(
        f0 * child.f0_factor, _INFANT_TRACT * child.formant_scale, child.breathiness, child.habits
    )


def _pick(rng: np.random.Generator, shares: dict[str, float], habits: dict[str, float]) -> str:
    """Choose a name by its share times the speaker's habit factor for it."""
    names = list(shares)
    weights = np.array([shares[name] * habits.get(name, 1.0) for name in names])
    return names[rng.choice(len(names), p=weights / weights.sum())]


def _formants(vowel: str, scale: float) -> np.ndarray:
    """Formant targets of a vowel for a vocal tract scale (1 = adult)."""
    return np.array(_VOWELS[vowel]) * scale


def _span(start: float, end: float) -> np.ndarray:
    """Mask of the samples from start (inclusive) to end (exclusive) seconds."""
    return (start <= _TIME) & (end > _TIME)


def _contour(rng: np.random.Generator, start: float, end: float, wobble: float) -> np.ndarray:
    """An f0 contour gliding from start to end Hz with a slow random wobble (relative)."""
    return np.linspace(start, end, N_SAMPLES) * (1 + wobble * _smooth_noise(rng, 6.0))


def _sustained(child: Child, contour: np.ndarray, vowel: str, gate: np.ndarray) -> Score:
    """A sustained infant vowel on a base f0 contour, with the child's voice and breathiness."""
    scale = _INFANT_TRACT * child.formant_scale
    return Score(
        f0=contour * child.f0_factor,
        formants=_tracks(_formants(vowel, scale)),
        bandwidths=_tracks(np.array(_BANDWIDTHS) * scale),
        level_db=0.0,
        voice=gate,
        breath=child.breathiness * gate,
    )


def _babble(
    rng: np.random.Generator,
    speaker: _Speaker,
    syllables: int,
    marginal: bool = False,
    difficulty: float = 0.0,
) -> Score:
    """A sequence of consonant-vowel syllables, often reduplicated ("bababa")."""
    consonant = _pick(rng, _CONSONANT_SHARES, speaker.habits)
    vowel = _pick(rng, _VOWEL_SHARES, speaker.habits)
    repeated = rng.random() < 0.6
    score = Score(
        f0=_contour(rng, speaker.f0 * 1.05, speaker.f0 * rng.uniform(0.8, 0.95), 0.04),
        formants=_tracks(_formants(vowel, speaker.scale)),
        bandwidths=_tracks(np.array(_BANDWIDTHS) * speaker.scale),
        level_db=0.0,
    )
    start = rng.uniform(0.0, 0.04)
    length = (CLIP_SECONDS - start) / syllables
    for _ in range(syllables):
        if not repeated:
            consonant = _pick(rng, _CONSONANT_SHARES, speaker.habits)
            vowel = _pick(rng, _VOWEL_SHARES, speaker.habits)
        span = (start, start + length * rng.uniform(0.85, 1.0))
        _syllable(score, rng, consonant, vowel, speaker.scale, span, marginal, difficulty)
        start += length
    score.breath = score.breath + speaker.breathiness * score.voice
    return score


def _syllable(
    score: Score,
    rng: np.random.Generator,
    consonant: str,
    vowel: str,
    scale: float,
    span: tuple[float, float],
    marginal: bool,
    difficulty: float,
) -> None:
    """Write one syllable into score over span (seconds).

    The consonant holds the formants at its locus; the vowel glides from there to its target in
    40-60 ms, or in 120-250 ms for a marginal syllable, whose consonant is only a voiced dip.
    ``difficulty`` brings the two closer: canonical transitions up to 110 ms with weaker
    bursts, marginal ones from 70 ms.
    """
    manner, (f2, f3), band = _CONSONANTS[consonant]
    start, end = span
    onset = start + min(rng.uniform(0.03, 0.07), 0.4 * (end - start))
    locus = np.array([250.0, f2, f3, _VOWELS[vowel][3]]) * scale
    target = _formants(vowel, scale)
    if marginal:
        transition = rng.uniform(0.12 - 0.05 * difficulty, 0.25)
    else:
        transition = rng.uniform(0.04, 0.06 + 0.05 * difficulty)
    after = onset <= _TIME
    glide = _glide(onset, transition)[after]
    score.formants[:, after] = locus[:, None] + (target - locus)[:, None] * glide
    score.formants[:, _span(start, onset)] = locus[:, None]
    attack = 0.03 if marginal else 0.008
    score.voice = np.maximum(score.voice, _gate(onset, end, attack, rng.uniform(0.02, 0.04)))
    consonant_gate = _gate(start, onset, 0.01, 0.005)
    if marginal:
        score.voice = np.maximum(score.voice, rng.uniform(0.15, 0.4) * consonant_gate)
    elif manner == "stop":
        burst = _gate(onset - 0.012, onset + 0.004, 0.001, 0.012)
        strength = 0.5 * (1 - 0.6 * difficulty * rng.random())
        score.extra += strength * burst * _band_noise(rng, *band)
        score.breath += 0.3 * _gate(onset, onset + 0.015, 0.002, 0.01)
    elif manner == "nasal":
        score.voice = np.maximum(score.voice, 0.35 * consonant_gate)
        murmur = _span(start, onset)
        score.formants[:, murmur] = (np.array(_NASAL_FORMANTS) * scale)[:, None]
        score.bandwidths[1:, murmur] = 600.0
    else:
        score.extra += 0.35 * consonant_gate * _band_noise(rng, *band)


def _canonical(rng: np.random.Generator, child: Child, difficulty: float) -> Score:
    """Canonical babbling: 1-3 CV syllables at infant f0 (250-400 Hz) and formants."""
    speaker = _infant(child, rng.uniform(250.0, 400.0))
    score = _babble(rng, speaker, int(rng.choice([1, 2, 2, 3, 3])), difficulty=difficulty)
    score.level_db = rng.uniform(-22.0, -15.0)
    score.tilt = rng.uniform(1.0, 1.4)
    score.jitter = rng.uniform(0.004, 0.012)
    return score


def _marginal(rng: np.random.Generator, child: Child, difficulty: float) -> Score:
    """Marginal babbling: syllable-like, but with slow transitions and no real closure."""
    speaker = _infant(child, rng.uniform(250.0, 400.0))
    score = _babble(rng, speaker, int(rng.choice([1, 2, 2])), True, difficulty)
    score.level_db = rng.uniform(-22.0, -15.0)
    score.tilt = rng.uniform(1.0, 1.4)
    score.jitter = rng.uniform(0.004, 0.012)
    return score


def _vowel(rng: np.random.Generator, child: Child, difficulty: float) -> Score:
    """A steady or slowly gliding vowel, sometimes a quiet, nasal quasi-vowel."""
    f0 = rng.uniform(250.0, 450.0)
    start, end = rng.uniform(0.0, 0.08), rng.uniform(0.3, 0.42)
    gate = _gate(start, end, rng.uniform(0.03, 0.07), rng.uniform(0.04, 0.08))
    contour = _contour(rng, f0, f0 * rng.uniform(0.8, 1.25), 0.03)
    vowel, other = _pick(rng, _VOWEL_SHARES, child.habits), _pick(rng, _VOWEL_SHARES, {})
    score = _sustained(child, contour, vowel, gate)
    scale = _INFANT_TRACT * child.formant_scale
    if rng.random() < 0.4:
        shift = _formants(other, scale) - _formants(vowel, scale)
        score.formants += shift[:, None] * _glide(start, end - start)
    quasi = rng.random() < 0.25
    if quasi:
        score.formants[0] = 300.0 * scale
        score.bandwidths[1:] *= 4.0
    score.level_db = rng.uniform(-30.0, -24.0) if quasi else rng.uniform(-22.0, -15.0)
    score.tilt = rng.uniform(1.0, 1.5)
    score.jitter = rng.uniform(0.004, 0.015)
    return score


def _squeal(rng: np.random.Generator, child: Child, difficulty: float) -> Score:
    """A squeal: very high f0 (700-1000 Hz), front vowel."""
    f0 = rng.uniform(700.0, 1000.0)
    gate = _gate(rng.uniform(0.0, 0.1), rng.uniform(0.25, 0.42), 0.03, 0.05)
    contour = _contour(rng, f0, f0 * rng.uniform(0.85, 1.2), 0.05)
    vowel = _pick(rng, {"i": 1.0, "e": 1.0, "ae": 1.0}, child.habits)
    score = _sustained(child, contour, vowel, gate)
    score.level_db = rng.uniform(-20.0, -13.0)
    score.tilt = rng.uniform(1.1, 1.6)
    score.jitter = rng.uniform(0.005, 0.02)
    return score


def _growl(rng: np.random.Generator, child: Child, difficulty: float) -> Score:
    """A growl: low f0 (150-250 Hz), strong jitter, subharmonics and breathiness."""
    f0 = rng.uniform(150.0, 250.0)
    gate = _gate(rng.uniform(0.0, 0.08), rng.uniform(0.28, 0.42), 0.04, 0.05)
    contour = _contour(rng, f0, f0 * rng.uniform(0.85, 1.1), 0.06)
    vowel = _pick(rng, {"a": 1.0, "schwa": 1.0, "u": 1.0}, child.habits)
    score = _sustained(child, contour, vowel, gate)
    score.breath = rng.uniform(0.2, 0.5) * gate
    score.level_db = rng.uniform(-24.0, -17.0)
    score.tilt = rng.uniform(1.0, 1.4)
    score.jitter = rng.uniform(0.04, 0.08)
    score.subharmonics = rng.uniform(0.3, 0.7)
    return score


def _cry(rng: np.random.Generator, child: Child, difficulty: float) -> Score:
    """Crying: long, loud, tense voicing at 400-600 Hz, arched contour, rich harmonics."""
    f0 = rng.uniform(400.0, 600.0)
    arch = 1 + rng.uniform(0.05, 0.2) * np.sin(np.pi * _TIME / CLIP_SECONDS)
    contour = _contour(rng, f0, f0 * rng.uniform(0.85, 1.05), 0.05) * arch
    end = rng.uniform(0.36, 0.42) if rng.random() < 0.7 else rng.uniform(0.22, 0.34)
    gate = _gate(rng.uniform(0.0, 0.03), end, 0.02, 0.03)
    score = _sustained(
        child, contour, _pick(rng, {"a": 1.0, "ae": 1.0, "e": 0.5}, child.habits), gate
    )
    score.bandwidths *= 1.3
    score.breath = score.breath + rng.uniform(0.05, 0.2) * gate
    score.level_db = rng.uniform(-14.0, -6.0)
    score.tilt = rng.uniform(0.5, 0.85)
    score.jitter = rng.uniform(0.015, 0.04)
    score.subharmonics = rng.uniform(0.0, 0.3)
    return score


def _laugh(rng: np.random.Generator, child: Child, difficulty: float) -> Score:
    """Laughing: 50-80 ms voiced bursts at 4.5-7 Hz, each after a breathy "h"."""
    period = 1 / rng.uniform(4.5, 7.0)
    burst = rng.uniform(0.05, 0.08)
    onsets = np.arange(rng.uniform(-burst / 2, period / 2), CLIP_SECONDS, period)
    gates = [_gate(t, t + burst, 0.01, 0.02) for t in onsets]
    falls = np.max(
        [g * (1 - 0.15 * _glide(t, burst)) for g, t in zip(gates, onsets, strict=True)], 0
    )
    f0 = rng.uniform(300.0, 450.0)
    contour = _contour(rng, f0, f0 * rng.uniform(0.85, 1.05), 0.03) * np.maximum(falls, 0.85)
    vowel = _pick(rng, {"a": 1.0, "schwa": 1.0, "ae": 1.0}, child.habits)
    score = _sustained(child, contour, vowel, np.max(gates, axis=0))
    aspiration = np.max([_gate(t - 0.035, t + 0.01, 0.01, 0.01) for t in onsets], axis=0)
    score.breath = np.maximum(score.breath, rng.uniform(0.3, 0.5) * aspiration + 0.05)
    score.level_db = rng.uniform(-19.0, -13.0)
    score.tilt = rng.uniform(0.9, 1.3)
    score.jitter = rng.uniform(0.01, 0.025)
    return score


def _silence(rng: np.random.Generator, child: Child, difficulty: float) -> Score:
    """Near-silence: an empty score, so only the room noise that recording adds is heard."""
    return Score(f0=np.full(N_SAMPLES, 100.0), formants=_tracks(_VOWELS["schwa"]), level_db=-90.0)


def _noise(rng: np.random.Generator, child: Child, difficulty: float) -> Score:
    """Broadband or coloured noise, steady or rustling."""
    score = _silence(rng, child, difficulty)
    score.extra = _coloured_noise(rng, rng.choice([0.0, 1.0, 2.0]))
    if rng.random() < 0.5:
        score.extra *= np.clip(1 + 1.5 * _smooth_noise(rng, rng.uniform(3.0, 15.0)), 0.0, None)
    score.level_db = rng.uniform(-38.0, -20.0)
    return score


def _adult_speech(rng: np.random.Generator, child: Child, difficulty: float) -> Score:
    """Adult speech nearby: adult f0 (90-220 Hz) and formants, 1-2 syllables; with
    ``difficulty``, half of it at most infant-directed (a female voice raised to 200-320 Hz)."""
    female = rng.random() < 0.5
    infant_directed = female and rng.random() < difficulty
    f0 = rng.uniform(200.0, 320.0) if infant_directed else rng.uniform(160.0, 220.0)
    speaker = _Speaker(
        f0=f0 if female else rng.uniform(90.0, 140.0),
        scale=rng.uniform(1.05, 1.2) if female else rng.uniform(0.92, 1.05),
        breathiness=0.1,
        habits={},
    )
    score = _babble(rng, speaker, int(rng.choice([1, 2, 2])), difficulty=difficulty)
    score.level_db = rng.uniform(-32.0, -16.0)
    return score


def _child_speech(rng: np.random.Generator, child: Child, difficulty: float) -> Score:
    """A sibling nearby: a young child's voice (f0 230-330 Hz, formants between an infant's and
    an adult's) babbling consonant-vowel syllables, as canonical babbling does."""
    speaker = _Speaker(rng.uniform(230.0, 330.0), rng.uniform(1.2, 1.35), 0.1, {})
    score = _babble(rng, speaker, int(rng.choice([1, 2, 3])), difficulty=difficulty)
    score.level_db = rng.uniform(-28.0, -14.0)
    score.tilt = rng.uniform(1.0, 1.4)
    return score


def _fuss(rng: np.random.Generator, child: Child, difficulty: float) -> Score:
    """Fussing: one or two short, moderately loud, less tense cry segments at 300-480 Hz."""
    f0 = rng.uniform(300.0, 480.0)
    contour = _contour(rng, f0, f0 * rng.uniform(0.85, 1.1), 0.05)
    start = rng.uniform(0.0, 0.1)
    gates = []
    for _ in range(int(rng.choice([1, 2]))):
        end = min(start + rng.uniform(0.1, 0.22), CLIP_SECONDS)
        gates.append(_gate(start, end, 0.02, 0.03))
        start = end + rng.uniform(0.03, 0.08)
    gate = np.max(gates, axis=0)
    score = _sustained(child, contour, _pick(rng, {"a": 1.0, "ae": 1.0, "e": 1.0}, {}), gate)
    score.breath = score.breath + rng.uniform(0.05, 0.25) * gate
    score.level_db = rng.uniform(-22.0, -12.0)
    score.tilt = rng.uniform(0.8, 1.2)
    score.jitter = rng.uniform(0.01, 0.03)
    return score


def _chuckle(rng: np.random.Generator, child: Child, difficulty: float) -> Score:
    """A chuckle: one or two longer (80-150 ms) breathy voiced bursts, no steady rhythm."""
    start = rng.uniform(0.0, 0.12)
    gates = []
    for _ in range(int(rng.choice([1, 2]))):
        end = min(start + rng.uniform(0.08, 0.15), CLIP_SECONDS)
        gates.append(_gate(start, end, 0.01, 0.03))
        start = end + rng.uniform(0.06, 0.12)
    gate = np.max(gates, axis=0)
    f0 = rng.uniform(280.0, 450.0)
    contour = _contour(rng, f0, f0 * rng.uniform(0.8, 1.0), 0.04)
    score = _sustained(child, contour, _pick(rng, {"a": 1.0, "schwa": 1.0}, child.habits), gate)
    score.breath = np.maximum(score.breath, rng.uniform(0.25, 0.45) * gate)
    score.level_db = rng.uniform(-22.0, -14.0)
    score.tilt = rng.uniform(0.9, 1.3)
    score.jitter = rng.uniform(0.01, 0.025)
    return score


def _clicks(rng: np.random.Generator, child: Child, difficulty: float) -> Score:
    """Clicks and knocks: a few damped resonant impulses."""
    score = _silence(rng, child, difficulty)
    for onset in rng.uniform(0.0, 0.35, rng.integers(1, 5)):
        ring = np.sin(2 * np.pi * rng.uniform(300.0, 4000.0) * (_TIME - onset))
        ring += 0.5 * rng.standard_normal(N_SAMPLES)
        decay = np.exp(-np.maximum(_TIME - onset, 0.0) / rng.uniform(0.002, 0.02)) * (
            onset <= _TIME
        )
        score.extra += rng.uniform(0.3, 1.0) * decay * ring
    score.level_db = rng.uniform(-20.0, -8.0)
    return score


def _hum(rng: np.random.Generator, child: Child, difficulty: float) -> Score:
    """Mains hum: 50 or 60 Hz and its harmonics."""
    score = _silence(rng, child, difficulty)
    mains = rng.choice([50.0, 60.0])
    for order in range(1, 9):
        phase = rng.uniform(0, 2 * np.pi)
        amp = rng.uniform(0.2, 1.0) / order
        score.extra += amp * np.sin(2 * np.pi * order * mains * _TIME + phase)
    score.level_db = rng.uniform(-40.0, -25.0)
    return score


ScoreMaker = Callable[[np.random.Generator, Child, float], Score]
# label -> kind -> (share within the label at difficulty 0, share at difficulty 1, score maker)
KINDS: dict[str, dict[str, tuple[float, float, ScoreMaker]]] = {
    "canonical": {"babble": (1.0, 1.0, _canonical)},
    "non_canonical": {
        "vowel": (0.5, 0.35, _vowel),
        "marginal": (0.15, 0.35, _marginal),
        "squeal": (0.15, 0.1, _squeal),
        "growl": (0.2, 0.2, _growl),
    },
    "crying": {"cry": (1.0, 0.5, _cry), "fuss": (0.0, 0.5, _fuss)},
    "laughing": {"laugh": (1.0, 0.55, _laugh), "chuckle": (0.0, 0.45, _chuckle)},
    "junk": {
        "silence": (0.25, 0.15, _silence),
        "noise": (0.2, 0.15, _noise),
        "adult_speech": (0.3, 0.25, _adult_speech),
        "child_speech": (0.0, 0.2, _child_speech),
        "clicks": (0.1, 0.1, _clicks),
        "hum": (0.15, 0.15, _hum),
    },
}
# label -> (the label its ambiguous clips sound like, share of ambiguous clips at difficulty 1)
AMBIGUOUS = {
    "canonical": ("non_canonical", 0.18),
    "non_canonical": ("canonical", 0.08),
    "crying": ("non_canonical", 0.06),
    "laughing": ("non_canonical", 0.06),
    "junk": ("non_canonical", 0.05),
}
BACKGROUND_KINDS = ("adult_speech", "child_speech", "noise", "clicks", "hum")
BACKGROUND_SHARE = 0.5  # of the infant clips, at difficulty 1

_NEUTRAL_CHILD = Child("neutral", 12, "F", CORPORA[0])


def _kind_shares(label: str, difficulty: float) -> dict[str, float]:
    return {kind: a + (b - a) * difficulty for kind, (a, b, _) in KINDS[label].items()}


def _score(
    label: str, kind: str, rng: np.random.Generator, child: Child, difficulty: float
) -> Score:
    """The score of one sound of ``kind`` with the child's style for that kind."""
    score = KINDS[label][kind][2](rng, child, difficulty)
    style = child.styles.get(kind, Style())
    score.f0 = score.f0 * style.f0
    score.level_db += style.level_db
    score.tilt += style.tilt
    return score


def synthesize(
    label: str,
    rng: np.random.Generator,
    child: Child | None = None,
    kind: str | None = None,
    difficulty: float = 0.0,
) -> np.ndarray:
    """One recorded clip (float64, N_SAMPLES) of a label; kind picks a sub-type of KINDS[label].

    Without a child, a neutral voice with a flat channel and -60 dBFS noise floor is used.
    Without a kind, ``difficulty`` sets the mix of kinds, how often the clip sounds like another
    label (:data:`AMBIGUOUS`) and whether a background sound plays under an infant sound.
    """
    child = child or _NEUTRAL_CHILD
    sounds_like = label
    if kind is None:
        other, share = AMBIGUOUS[label]
        sounds_like = other if rng.random() < share * difficulty else label
        kind = _pick(rng, _kind_shares(sounds_like, difficulty), child.habits)
    score = _score(sounds_like, kind, rng, child, difficulty)
    clip = _render(score, rng) * _db(score.level_db)
    if sounds_like != "junk" and rng.random() < BACKGROUND_SHARE * difficulty:
        extra = _score("junk", str(rng.choice(BACKGROUND_KINDS)), rng, child, difficulty)
        background = _render(extra, rng)
        relative = _db(-rng.uniform(8.0, 20.0)) * _rms(clip) / max(_rms(background), 1e-12)
        clip = clip + background * relative
    return _record(clip, child, rng)


# --- writing ----------------------------------------------------------------------------------


def generate(
    out_dir: str | Path,
    clips: int = 2000,
    seed: int = 0,
    difficulty: float = 1.0,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write `clips` synthetic 0.4 s, 16 kHz mono PCM16 wav clips and metadata.csv into out_dir.

    The same (clips, seed, difficulty) always gives byte-identical files. Returns out_dir.
    """
    if not 0.0 <= difficulty <= 1.0:
        raise ValueError(f"difficulty must be between 0 and 1, not {difficulty}")
    out = Path(out_dir)
    (out / "audio").mkdir(parents=True, exist_ok=True)
    plan_seed, clip_seeds = np.random.SeedSequence(seed).spawn(2)
    plan_rng = np.random.default_rng(plan_seed)
    children = _make_children(clips, plan_rng, difficulty)
    plan = _assign(class_counts(clips), len(children), plan_rng)
    rows: list[list[object]] = []
    for index, ((label, child_index), clip_seed) in enumerate(
        zip(plan, clip_seeds.spawn(clips), strict=True), start=1
    ):
        child = children[child_index]
        clip_id = f"demo_{index:05d}"
        path = f"audio/{clip_id}.wav"
        audio = synthesize(label, np.random.default_rng(clip_seed), child, None, difficulty)
        sf.write(out / path, np.round(audio * 32767).astype(np.int16), SAMPLE_RATE, "PCM_16")
        rows.append(
            [clip_id, path, label, child.child_id, child.age_months, child.gender, child.corpus]
        )
        if progress:
            progress(index, clips)
    _write_metadata(out / "metadata.csv", rows)
    _write_readme(out / "README.md", clips, seed, difficulty, len(children))
    return out


def _write_metadata(path: Path, rows: list[list[object]]) -> None:
    """metadata.csv with COLUMNS, one row per clip."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)


def _write_readme(path: Path, clips: int, seed: int, difficulty: float, children: int) -> None:
    """A README that says the data is synthetic."""
    counts = ", ".join(f"{label} {n}" for label, n in class_counts(clips).items())
    path.write_text(
        "# Synthetic VocalBaby demo dataset\n\n"
        "THIS IS SYNTHETIC DATA, NOT REAL INFANT AUDIO. It was generated by "
        f"`vocalbaby.synthetic.generate` (clips={clips}, seed={seed}, difficulty={difficulty:g}) "
        "with a source-filter model "
        "that imitates BabbleCor-style classes; use it only for demos and tests.\n\n"
        f"- {clips} clips of 0.4 s, 16 kHz mono PCM16 in `audio/`, listed in `metadata.csv`\n"
        f"- {children} synthetic children, each with its own voice and recording channel\n"
        f"- classes: {counts}\n",
        encoding="utf-8",
    )
