"""ZIP members are streamed from the archive, never read whole, and a damaged member is refused
(422) naming it, even when the decoder reads it through callbacks that cannot raise."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import numpy as np
import pytest
import soundfile as sf

from vocalbaby_service.errors import RequestError
from vocalbaby_service.limits import Limits
from vocalbaby_service.uploads import Upload, audio_seconds, decode, unpack_zip

MiB = 2**20


def wav(samples: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def zipped(members: dict[str, bytes]) -> Upload:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return Upload.of_bytes("batch.zip", "application/zip", buffer.getvalue())


def test_a_large_member_is_decoded_without_being_held_in_memory() -> None:
    # 8 channels of 48 kHz silence, 136 s: 100 MiB uncompressed, about 100 KB in the archive
    member = wav(np.zeros((136 * 48_000, 8), np.float32), 48_000)
    archive = zipped({"zeros.wav": member})
    assert len(member) > 99 * MiB and archive.size < 2 * MiB
    del member
    limits = Limits()

    tracemalloc.start()
    try:
        (upload,) = unpack_zip(archive, limits)
        seconds = audio_seconds([upload], limits)
        (decoded,) = decode([upload], limits)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert upload.size > 99 * MiB
    assert seconds == pytest.approx(136)
    assert decoded.duration_s == pytest.approx(136)
    # the 16 kHz result (8.7 MB, twice while it is joined) and decoding blocks (measured: 32
    # MiB); reading the member whole took more than 100 MiB
    assert peak < 48 * MiB, f"peak {peak / MiB:.1f} MiB"


def test_checking_a_member_header_inflates_only_its_start(monkeypatch: pytest.MonkeyPatch) -> None:
    archive = zipped({"zeros.wav": wav(np.zeros((40 * 48_000, 8), np.float32), 48_000)})
    (upload,) = unpack_zip(archive, Limits())
    inflated = 0
    read = zipfile.ZipExtFile.read

    def counting(self: zipfile.ZipExtFile, n: int = -1) -> bytes:
        nonlocal inflated
        data = read(self, n)
        inflated += len(data)
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting)

    assert audio_seconds([upload], Limits()) == pytest.approx(40)
    assert inflated < MiB  # before: the decoder's seek to the end inflated all 29 MiB, twice


def damaged(data: bytes, at: float) -> bytes:
    """``data`` with a run of its bytes overwritten ``at`` (a fraction) of the way in."""
    data = bytearray(data)
    start = int(len(data) * at)
    data[start : start + 64] = bytes(64)
    return bytes(data)


@pytest.mark.parametrize("at", [0.3, 0.9])
def test_a_damaged_member_is_refused_naming_it(at: float) -> None:
    noise = np.random.default_rng(0).uniform(-0.5, 0.5, 16_000 * 5).astype(np.float32)
    archive = zipped({"ok.wav": wav(noise[:6400], 16_000), "noise.wav": wav(noise, 16_000)})
    raw = archive.open().read()
    member_at = raw.find(b"noise.wav") + len("noise.wav")  # its local header's end
    broken = raw[:member_at] + damaged(raw[member_at:], at)
    upload = Upload.of_bytes("batch.zip", "application/zip", broken)
    limits = Limits()

    with pytest.raises(RequestError) as refused:
        uploads = unpack_zip(upload, limits)
        audio_seconds(uploads, limits)
        decode(uploads, limits)

    assert refused.value.error_code == 422
    assert refused.value.error_type == "invalid_archive"
    assert [f.file for f in refused.value.files] == ["noise.wav"]
