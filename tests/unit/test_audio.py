import io

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
