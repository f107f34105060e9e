"""Audio files for tests: tones, and one file of each kind of bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def write_wav(path: Path, samples: np.ndarray, rate: int = 16_000, subtype: str = "PCM_16") -> Path:
    """Write ``samples`` to ``path`` (format from the suffix) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, samples, rate, subtype=subtype if path.suffix == ".wav" else None)
    return path


def tone(seconds: float = 0.4, freq: float = 440.0, rate: int = 16_000) -> np.ndarray:
    """A sine tone with a little noise, float32."""
    t = np.arange(int(seconds * rate)) / rate
    noise = np.random.default_rng(0).standard_normal(len(t))
    return (0.3 * np.sin(2 * np.pi * freq * t) + 0.01 * noise).astype(np.float32)


BAD_CLIPS = {
    "empty.wav": "empty",
    "corrupt.wav": "not a readable audio file",
    "notes.wav": "not a readable audio file",
    "short.wav": "too short",
}


def write_bad_clips(folder: Path) -> dict[str, str]:
    """Write one clip of each kind of bad input; returns file name -> expected reason text."""
    folder.mkdir(parents=True, exist_ok=True)
    write_wav(folder / "empty.wav", np.zeros(0, dtype=np.float32))
    (folder / "corrupt.wav").write_bytes(b"RIFF\x00\x00" + bytes(range(200)))
    (folder / "notes.wav").write_text("these are field notes, not audio\n")
    write_wav(folder / "short.wav", tone(0.03))
    return dict(BAD_CLIPS)
