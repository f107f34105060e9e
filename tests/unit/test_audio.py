import io
import re
import tracemalloc
import zipfile

import numpy as np
import pytest
import soundfile as sf

from tests.audio_files import tone, write_bad_clips, write_wav
from vocalbaby import audio


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg"])
def test_formats_decode_to_16k_mono(tmp_path, suffix: str) -> None:
    path = write_wav(tmp_path / f"clip{suffix}", tone(0.4), rate=16_000)
    clip = audio.load(path)
    assert clip.sample_rate == 16_000
    assert clip.samples.dtype == np.float32
    assert clip.duration_s == pytest.approx(0.4, abs=0.01)


def test_stereo_44k_is_mixed_down_and_resampled_keeping_pitch(tmp_path) -> None:
    left = tone(0.5, freq=1000.0, rate=44_100)
    path = write_wav(tmp_path / "stereo.wav", np.stack([left, left], axis=1), rate=44_100)
    clip = audio.load(path)
    assert (clip.original_rate, clip.channels) == (44_100, 2)
    assert len(clip.samples) == 8000
    spectrum = np.abs(np.fft.rfft(clip.samples))
    assert np.fft.rfftfreq(len(clip.samples), 1 / 16_000)[spectrum.argmax()] == pytest.approx(
        1000, abs=5
    )


def test_bytes_and_file_objects_give_the_same_samples(tmp_path) -> None:
    path = write_wav(tmp_path / "a.wav", tone())
    from_path = audio.load(path).samples
    np.testing.assert_array_equal(audio.load(path.read_bytes(), name="a.wav").samples, from_path)
    np.testing.assert_array_equal(audio.load(io.BytesIO(path.read_bytes())).samples, from_path)


def test_int16_wav_is_scaled_to_unit_range(tmp_path) -> None:
    path = tmp_path / "loud.wav"
    sf.write(path, np.full(6400, 16384, dtype=np.int16), 16_000, subtype="PCM_16")
    assert audio.load(path).samples.max() == pytest.approx(0.5)


def test_each_bad_file_raises_an_error_naming_it(tmp_path) -> None:
    for name, reason in write_bad_clips(tmp_path).items():
        with pytest.raises(audio.AudioError) as err:
            audio.load(tmp_path / name)
        assert err.value.source.endswith(name)
        assert reason in err.value.reason


def test_missing_file_and_non_finite_samples_are_rejected(tmp_path) -> None:
    with pytest.raises(audio.AudioError, match="file not found"):
        audio.load(tmp_path / "nope.wav")
    bad = tone()
    bad[10] = np.nan
    with pytest.raises(audio.AudioError, match="NaN"):
        audio.from_array(bad, 16_000, "nan.wav")


def test_duration_limit(tmp_path) -> None:
    path = write_wav(tmp_path / "long.wav", tone(3.0))
    with pytest.raises(audio.AudioError, match="longer than the limit of 2 s"):
        audio.load(path, max_duration_s=2)


def test_windows_cover_the_recording_and_mark_silence() -> None:
    samples = np.concatenate([tone(1.2), np.zeros(8000, np.float32), tone(0.3)])
    clip = audio.from_array(samples, 16_000, "long.wav")
    windows = audio.windows(clip, length_s=0.4, hop_s=0.4)
    assert [w.start_s for w in windows] == pytest.approx([0.0, 0.4, 0.8, 1.2, 1.6])
    assert [w.silent for w in windows] == [False, False, False, True, False]
    assert windows[-1].end_s == pytest.approx(len(samples) / 16_000)


def test_a_tail_of_half_a_window_gets_its_own_window_a_shorter_one_not() -> None:
    clip = audio.from_array(tone(1.0), 16_000)
    assert [w.end_s for w in audio.windows(clip)] == pytest.approx([0.4, 0.8, 1.0])
    clip = audio.from_array(tone(0.9), 16_000)
    assert [w.end_s for w in audio.windows(clip)] == pytest.approx([0.4, 0.8])
    short = audio.from_array(tone(0.25), 16_000)
    assert [(w.start_s, w.end_s) for w in audio.windows(short)] == [(0.0, 0.25)]


def test_overlapping_windows() -> None:
    clip = audio.from_array(tone(1.0), 16_000)
    windows = audio.windows(clip, length_s=0.4, hop_s=0.2)
    assert [round(w.start_s, 2) for w in windows] == [0.0, 0.2, 0.4, 0.6]
    assert all(len(w.samples) == 6400 for w in windows)


def _write_blocks(path, rate: int, channels: int, seconds: float, fmt: str, subtype: str) -> None:
    """A ``seconds``-long file written a second at a time (a quiet tone, or zeros for WAV)."""
    with sf.SoundFile(path, "w", rate, channels, subtype=subtype, format=fmt) as f:
        for start in range(int(seconds)):
            t = np.arange(start * rate, (start + 1) * rate) / rate
            block = 0.1 * np.sin(2 * np.pi * 440 * t) if fmt == "FLAC" else np.zeros_like(t)
            f.write(np.repeat(block[:, None], channels, axis=1).astype(np.float32))


def _peak_bytes(work) -> tuple[object, int]:
    tracemalloc.start()
    try:
        result = work()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_block_resampling_matches_whole_signal_resampling() -> None:
    rng = np.random.default_rng(1)
    for rate in (8_000, 22_050, 44_100, 384_000):
        samples = (0.2 * rng.standard_normal(150_001)).astype(np.float32)
        stream = audio.Resampler(rate)
        for piece in np.array_split(samples, 7):
            stream.push(piece)
        np.testing.assert_allclose(stream.finish(), audio.resample(samples, rate), atol=1e-5)


def test_high_rate_multichannel_flac_decodes_in_bounded_memory(tmp_path) -> None:
    """10 s of 8-channel 384 kHz FLAC: whole-file decoding held 123 MB of float32 (and the
    same again to mix down); block decoding holds a block and the 16 kHz result."""
    path = tmp_path / "wide.flac"
    _write_blocks(path, 384_000, 8, 10, "FLAC", "PCM_16")
    limits = audio.DecodeLimits(max_sample_rate=384_000, max_channels=8)
    clip, peak = _peak_bytes(lambda: audio.load(path, limits=limits))
    assert (clip.original_rate, clip.channels, len(clip.samples)) == (384_000, 8, 160_000)
    assert peak < 24 * 2**20, f"peak {peak / 2**20:.0f} MiB"
    spectrum = np.abs(np.fft.rfft(clip.samples))
    assert np.fft.rfftfreq(160_000, 1 / 16_000)[spectrum.argmax()] == pytest.approx(440, abs=1)


@pytest.mark.parametrize(
    ("limits", "reason"),
    [
        (audio.DecodeLimits(max_sample_rate=96_000), "sample rate 384000 Hz is above"),
        (audio.DecodeLimits(max_sample_rate=384_000, max_channels=2), "8 channels, at most 2"),
        (
            audio.DecodeLimits(max_sample_rate=384_000, max_samples=10_000_000),
            "30720000 samples (frames x channels), at most 10000000",
        ),
        (audio.DecodeLimits(max_sample_rate=384_000, max_duration_s=5), "longer than the limit"),
    ],
)
def test_limits_refuse_before_decoding(tmp_path, limits, reason: str) -> None:
    path = tmp_path / "wide.flac"
    _write_blocks(path, 384_000, 8, 10, "FLAC", "PCM_16")
    with pytest.raises(audio.AudioError, match=re.escape(reason)):
        audio.load(path, limits=limits)
    with pytest.raises(audio.AudioError, match=re.escape(reason)):
        audio.header(path, limits=limits)


def test_zero_filled_wav_in_a_zip_decodes_in_bounded_memory(tmp_path) -> None:
    """A zip of a 44 MiB zero-filled float WAV (3 s, 8 channels, 384 kHz): decoding it whole
    took 4 x its size; in blocks the decoder holds little beyond the file's own bytes."""
    wav = tmp_path / "zeros.wav"
    _write_blocks(wav, 384_000, 8, 3, "WAV", "FLOAT")
    archive = tmp_path / "zeros.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(wav, "zeros.wav")
    assert archive.stat().st_size < wav.stat().st_size / 100
    with zipfile.ZipFile(archive) as zf:
        data = zf.read("zeros.wav")
    limits = audio.DecodeLimits(max_sample_rate=384_000)
    clip, peak = _peak_bytes(lambda: audio.load(data, "zeros.wav", limits=limits))
    assert len(clip.samples) == 48_000 and not clip.samples.any()
    assert peak < 24 * 2**20, f"peak {peak / 2**20:.0f} MiB for a {len(data) / 2**20:.0f} MiB file"
