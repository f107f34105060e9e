"""Tests for the synthetic demo dataset generator (vocalbaby.synthetic)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from vocalbaby import synthetic
from vocalbaby.labels import CLASSES

CLIPS = 300


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 300-clip demo dataset shared by this module."""
    return synthetic.generate(tmp_path_factory.mktemp("demo"), clips=CLIPS, seed=0)


@pytest.fixture(scope="module")
def rows(dataset: Path) -> list[dict[str, str]]:
    """The dataset's metadata rows."""
    with (dataset / "metadata.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def audio(dataset: Path, rows: list[dict[str, str]]) -> dict[str, np.ndarray]:
    """Every clip's samples (float64), keyed by clip_id."""
    return {row["clip_id"]: sf.read(dataset / row["path"])[0] for row in rows}


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x**2)))


def _f0(x: np.ndarray) -> float:
    """Median autocorrelation f0 (Hz) over the loudest 40 ms frames."""
    frames = np.lib.stride_tricks.sliding_window_view(x, 640)[::160]
    energy = (frames**2).sum(axis=1)
    lo, hi = synthetic.SAMPLE_RATE // 1200, synthetic.SAMPLE_RATE // 70
    estimates = []
    for frame in frames[energy >= 0.5 * energy.max()]:
        centred = frame - frame.mean()
        lags = np.correlate(centred, centred, "full")[len(frame) - 1 :][lo:hi]
        estimates.append(synthetic.SAMPLE_RATE / (lo + np.argmax(lags >= 0.85 * lags.max())))
    return float(np.median(estimates))


def _modulation_hz(x: np.ndarray) -> float:
    """Dominant 1-20 Hz frequency of the 5 ms RMS amplitude envelope."""
    envelope = np.sqrt((x.reshape(80, 80) ** 2).mean(axis=1))
    spectrum = np.abs(np.fft.rfft((envelope - envelope.mean()) * np.hanning(80), 2048))
    freqs = np.fft.rfftfreq(2048, 1 / 200)
    band = (freqs >= 1) & (freqs <= 20)
    return float(freqs[band][np.argmax(spectrum[band])])


def _clips(label: str, kind: str | None = None, n: int = 12) -> list[np.ndarray]:
    return [synthetic.synthesize(label, np.random.default_rng(i), kind=kind) for i in range(n)]


# --- class allocation --------------------------------------------------------------------------


@pytest.mark.parametrize("clips", [1, 7, 50, 99, 100, 137, 200, 300, 600, 1001])
def test_class_counts_sum_and_minimum(clips: int) -> None:
    counts = synthetic.class_counts(clips)
    assert list(counts) == list(CLASSES)
    assert sum(counts.values()) == clips
    if clips >= 100:
        assert min(counts.values()) >= synthetic.MIN_PER_CLASS


BABBLECOR_SHARES = {
    "non_canonical": 0.41,
    "junk": 0.39,
    "canonical": 0.13,
    "crying": 0.055,
    "laughing": 0.014,
}


@pytest.mark.parametrize("clips", [300, 600, 2000])
def test_class_counts_follow_babblecor_shares_with_a_floor(clips: int) -> None:
    counts = synthetic.class_counts(clips)
    shares = {k: max(v, synthetic.MIN_SHARE) for k, v in BABBLECOR_SHARES.items()}
    for label, share in shares.items():
        assert abs(counts[label] - clips * share / sum(shares.values())) < 1
    assert counts["non_canonical"] > counts["junk"] > counts["canonical"] > counts["crying"]


def test_a_2000_clip_set_has_30_test_clips_of_its_rarest_class() -> None:
    counts = synthetic.class_counts(2000)
    assert min(counts.values()) * 0.2 >= 30


def test_dataset_has_the_allocated_counts(rows: list[dict[str, str]]) -> None:
    labels = [row["label"] for row in rows]
    assert {label: labels.count(label) for label in CLASSES} == synthetic.class_counts(CLIPS)


# --- layout and format -------------------------------------------------------------------------


def test_metadata_layout(dataset: Path, rows: list[dict[str, str]]) -> None:
    with (dataset / "metadata.csv").open() as handle:
        assert handle.readline().strip() == ",".join(synthetic.COLUMNS)
    assert len(rows) == CLIPS
    assert len({row["clip_id"] for row in rows}) == CLIPS
    for row in rows:
        assert row["path"] == f"audio/{row['clip_id']}.wav"
        assert (dataset / row["path"]).is_file()
        assert 2 <= int(row["age_months"]) <= 24
        assert row["gender"] in {"F", "M"}
        assert row["corpus"] in synthetic.CORPORA
    assert len(list((dataset / "audio").iterdir())) == CLIPS


def test_readme_says_synthetic(dataset: Path) -> None:
    text = (dataset / "README.md").read_text()
    assert "SYNTHETIC" in text
    assert "NOT REAL INFANT AUDIO" in text
    assert "seed=0" in text
    assert f"clips={CLIPS}" in text


def test_clips_are_04s_16k_mono_pcm16(dataset: Path, rows: list[dict[str, str]]) -> None:
    for row in rows:
        info = sf.info(dataset / row["path"])
        assert (info.samplerate, info.frames, info.channels) == (16_000, 6_400, 1)
        assert info.subtype == "PCM_16"


def test_no_clipping_and_not_empty(audio: dict[str, np.ndarray]) -> None:
    for samples in audio.values():
        assert np.abs(samples).max() <= synthetic.PEAK + 1 / 32768
        assert _rms(samples) > 0


def test_children_are_uneven_and_mix_classes(rows: list[dict[str, str]]) -> None:
    per_child: dict[str, list[str]] = {}
    for row in rows:
        per_child.setdefault(row["child_id"], []).append(row["label"])
    assert len(per_child) >= 6
    assert all(len(set(labels)) >= 2 for labels in per_child.values())
    assert sum(len(set(labels)) >= 3 for labels in per_child.values()) >= 6
    sizes = sorted(len(labels) for labels in per_child.values())
    assert sizes[-1] >= 3 * sizes[0]
    for child in per_child:
        details = {
            (r["age_months"], r["gender"], r["corpus"]) for r in rows if r["child_id"] == child
        }
        assert len(details) == 1


def test_progress_is_reported(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    synthetic.generate(
        tmp_path, clips=5, seed=1, progress=lambda done, total: calls.append((done, total))
    )
    assert calls == [(i, 5) for i in range(1, 6)]


# --- determinism -------------------------------------------------------------------------------


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    first = _files(synthetic.generate(tmp_path / "a", clips=30, seed=7))
    second = _files(synthetic.generate(tmp_path / "b", clips=30, seed=7))
    assert len(first) == 32
    assert first == second


def test_different_seed_gives_different_audio(tmp_path: Path) -> None:
    first = _files(synthetic.generate(tmp_path / "a", clips=30, seed=7))
    other = _files(synthetic.generate(tmp_path / "b", clips=30, seed=8))
    wavs = [name for name in first if name.endswith(".wav")]
    assert sum(first[name] != other[name] for name in wavs) == len(wavs)


# --- acoustics ---------------------------------------------------------------------------------


def test_crying_is_higher_pitched_than_adult_speech() -> None:
    crying = np.median([_f0(x) for x in _clips("crying")])
    adult = np.median([_f0(x) for x in _clips("junk", "adult_speech")])
    assert 380 <= crying <= 700
    assert 85 <= adult <= 230


def test_squeals_are_higher_than_canonical_babble() -> None:
    squeal = np.median([_f0(x) for x in _clips("non_canonical", "squeal")])
    babble = np.median([_f0(x) for x in _clips("canonical")])
    assert squeal > 650
    assert 230 <= babble <= 420


def test_laughing_is_rhythmic_and_crying_is_not() -> None:
    laughing = [_modulation_hz(x) for x in _clips("laughing")]
    crying = [_modulation_hz(x) for x in _clips("crying")]
    assert np.mean([3 <= f <= 8 for f in laughing]) >= 0.8
    assert np.mean([3 <= f <= 8 for f in crying]) <= 0.5


def test_silence_is_quiet_and_crying_is_loud() -> None:
    assert max(_rms(x) for x in _clips("junk", "silence")) < 0.005
    assert min(_rms(x) for x in _clips("crying")) > 0.05


def test_dataset_crying_is_louder_and_higher_than_babble(
    rows: list[dict[str, str]], audio: dict[str, np.ndarray]
) -> None:
    def clips_of(label: str) -> list[np.ndarray]:
        return [audio[row["clip_id"]] for row in rows if row["label"] == label]

    assert np.median([_rms(x) for x in clips_of("crying")]) > 2 * np.median(
        [_rms(x) for x in clips_of("junk")]
    )
    assert np.median([_f0(x) for x in clips_of("crying")]) > np.median(
        [_f0(x) for x in clips_of("canonical")]
    )


# --- difficulty --------------------------------------------------------------------------------


def _auc(positive: list[float], negative: list[float]) -> float:
    """Probability that a positive's value exceeds a negative's (ties count half)."""
    pos, neg = np.asarray(positive)[:, None], np.asarray(negative)[None, :]
    return float(((pos > neg) + 0.5 * (pos == neg)).mean())


def test_at_difficulty_one_loudness_no_longer_tells_crying_apart() -> None:
    def levels(label: str, difficulty: float) -> list[float]:
        rng = np.random.default_rng(int(difficulty * 100) + len(label))
        return [_rms(synthetic.synthesize(label, rng, difficulty=difficulty)) for _ in range(40)]

    easy = _auc(levels("crying", 0.0), levels("non_canonical", 0.0))
    hard = _auc(levels("crying", 1.0), levels("non_canonical", 1.0))
    assert easy > 0.95 and hard < easy - 0.05


def test_difficulty_mixes_in_the_kinds_that_overlap() -> None:
    assert synthetic._kind_shares("crying", 0.0)["fuss"] == 0.0
    assert synthetic._kind_shares("crying", 1.0)["fuss"] > 0.3
    assert synthetic._kind_shares("junk", 1.0)["child_speech"] > 0.1
    for label in CLASSES:
        assert sum(synthetic._kind_shares(label, 0.5).values()) == pytest.approx(1.0)


def test_difficulty_is_part_of_the_determinism_and_checked(tmp_path: Path) -> None:
    easy = _files(synthetic.generate(tmp_path / "a", clips=10, seed=3, difficulty=0.0))
    hard = _files(synthetic.generate(tmp_path / "b", clips=10, seed=3, difficulty=1.0))
    assert "difficulty=1" in hard["README.md"].decode()
    assert any(easy[n] != hard.get(n) for n in easy if n.endswith(".wav"))
    with pytest.raises(ValueError, match="difficulty must be between 0 and 1"):
        synthetic.generate(tmp_path / "c", clips=10, difficulty=1.5)


def test_data_is_synthetic_only_when_every_corpus_is_a_demo_corpus() -> None:
    assert synthetic.synthetic_only(list(synthetic.CORPORA))
    assert not synthetic.synthetic_only(["synth-A", "donateacry"])
    assert not synthetic.synthetic_only([])
    assert synthetic.synthetic_only([], demo=True)
