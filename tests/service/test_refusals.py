"""Every kind of bad upload gets a 4xx JSON error naming the file and the reason, never a 500,
and the server keeps serving (the ``alive`` fixture checks /readyz after each case)."""

from __future__ import annotations

import io
import zipfile

import pytest

from tests.audio_files import tone
from tests.service.conftest import LIMITS, Service
from tests.service.test_api import wav_bytes

GOOD = wav_bytes(tone(0.4))
ZIP = "application/zip"


def audio_files(*parts: tuple[str, bytes, str]) -> dict[str, object]:
    return {"files": [("files", part) for part in parts]}


def archive(members: dict[str, bytes], name: str = "batch.zip") -> dict[str, object]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in members.items():
            zf.writestr(member, data)
    return {"files": {"file": (name, buffer.getvalue(), ZIP)}}


def encrypted(request: dict[str, object]) -> dict[str, object]:
    """The archive of ``request`` with its members flagged as encrypted (traditional PKWARE)."""
    name, data, mime = request["files"]["file"]
    data = bytearray(data)
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = data.find(signature)
        data[start + flags_at] |= 0x01
    return {"files": {"file": (name, bytes(data), mime)}}


MAX_BYTES = int(LIMITS["VOCALBABY_MAX_UPLOAD_BYTES"])
MAX_FILES = int(LIMITS["VOCALBABY_MAX_FILES"])
MAX_SECONDS = float(LIMITS["VOCALBABY_MAX_AUDIO_SECONDS"])
MAX_REQUEST_SECONDS = float(LIMITS["VOCALBABY_MAX_REQUEST_AUDIO_SECONDS"])
MAX_MEMBERS = int(LIMITS["VOCALBABY_MAX_ZIP_MEMBERS"])
MAX_ZIP_BYTES = int(LIMITS["VOCALBABY_MAX_ZIP_UNCOMPRESSED_BYTES"])

CASES = {
    # name: (path, request, status, error type, files named, text in the reason)
    "corrupt bytes": (
        "/predict",
        audio_files(("corrupt.wav", b"RIFF\x00\x00" + bytes(range(200)), "audio/wav")),
        422,
        "invalid_audio",
        ["corrupt.wav"],
        "not a readable audio file",
    ),
    "empty file": (
        "/predict",
        audio_files(("empty.wav", b"", "audio/wav")),
        422,
        "empty_file",
        ["empty.wav"],
        "empty",
    ),
    "truncated wav": (
        "/predict",
        audio_files(("truncated.wav", GOOD[:100], "audio/wav")),
        422,
        "invalid_audio",
        ["truncated.wav"],
        "too short",
    ),
    "text named .wav": (
        "/predict",
        audio_files(("notes.wav", b"field notes, not audio\n" * 20, "application/octet-stream")),
        422,
        "invalid_audio",
        ["notes.wav"],
        "not a readable audio file",
    ),
    "wrong MIME type": (
        "/predict",
        audio_files(("clip.wav", GOOD, "text/plain")),
        415,
        "unsupported_media_type",
        ["clip.wav"],
        "text/plain",
    ),
    "unsupported format": (
        "/predict",
        audio_files(("clip.mp3", GOOD, "audio/mpeg")),
        415,
        "unsupported_file_type",
        ["clip.mp3"],
        ".wav",
    ),
    "one bad file among good ones": (
        "/predict",
        audio_files(("a.wav", GOOD, "audio/wav"), ("b.wav", b"junk", "audio/wav")),
        422,
        "invalid_audio",
        ["b.wav"],
        "not a readable audio file",
    ),
    "too many files": (
        "/predict",
        audio_files(*[(f"c{i}.wav", GOOD, "audio/wav") for i in range(MAX_FILES + 1)]),
        413,
        "too_many_files",
        [],
        "",
    ),
    "upload too large": (
        "/predict",
        audio_files(("big.wav", GOOD + bytes(MAX_BYTES), "audio/wav")),
        413,
        "upload_too_large",
        [],
        "",
    ),
    "audio too long": (
        "/predict",
        audio_files(("long.wav", wav_bytes(tone(MAX_SECONDS + 5)), "audio/wav")),
        422,
        "invalid_audio",
        ["long.wav"],
        "longer than the limit",
    ),
    "more audio than one request may hold": (
        "/predict",
        audio_files(
            *[(f"part{i}.wav", wav_bytes(tone(MAX_SECONDS - 4)), "audio/wav") for i in range(2)]
        ),
        413,
        "too_much_audio",
        [],
        f"at most {MAX_REQUEST_SECONDS:g} s",
    ),
    "sample rate above the limit": (
        "/predict",
        audio_files(("wide.wav", wav_bytes(tone(0.4, rate=192_000), 192_000), "audio/wav")),
        422,
        "invalid_audio",
        ["wide.wav"],
        "sample rate 192000 Hz is above the limit",
    ),
    "not multipart": (
        "/predict",
        {"json": {"files": []}},
        415,
        "unsupported_media_type",
        [],
        "multipart",
    ),
    "text instead of a file": (
        "/predict",
        {"data": {"files": "hello"}, "files": {"other": ("a.wav", GOOD, "audio/wav")}},
        400,
        "not_a_file",
        [],
        "must hold file uploads",
    ),
    "two archives": (
        "/predict_zip",
        {"files": [("file", ("a.zip", b"PK", ZIP)), ("file", ("b.zip", b"PK", ZIP))]},
        400,
        "expected_one_archive",
        [],
        "got 2 files",
    ),
    "more feature rows than one request may hold": (
        "/predict_features",
        {"json": {"rows": [{}] * 513}},
        413,
        "too_many_rows",
        [],
        "513 rows, at most 512",
    ),
    "feature rows missing features": (
        "/predict_features",
        {"json": {"rows": [{"x": 1.0}]}},
        400,
        "bad_request",
        [],
        "F0semitoneFrom27.5Hz_sma3nz_amean",
    ),
    "no files field": (
        "/predict",
        {"files": {"other": ("a.wav", GOOD, "audio/wav")}},
        400,
        "no_files",
        [],
        "",
    ),
    "zip slip": (
        "/predict_zip",
        archive({"ok.wav": GOOD, "../../etc/evil.wav": GOOD}),
        400,
        "unsafe_path",
        ["../../etc/evil.wav"],
        "..",
    ),
    "absolute member path": (
        "/predict_zip",
        archive({"/tmp/evil.wav": GOOD}),
        400,
        "unsafe_path",
        ["/tmp/evil.wav"],
        "absolute",
    ),
    "nested archive": (
        "/predict_zip",
        archive({"ok.wav": GOOD, "inner.zip": archive({"x.wav": GOOD})["files"]["file"][1]}),
        415,
        "nested_archive",
        ["inner.zip"],
        "archive",
    ),
    "too many members": (
        "/predict_zip",
        archive({f"c{i}.wav": GOOD for i in range(MAX_MEMBERS + 1)}),
        413,
        "too_many_members",
        ["batch.zip"],
        f"at most {MAX_MEMBERS}",
    ),
    "zip bomb": (
        "/predict_zip",
        archive({"zeros.wav": bytes(MAX_ZIP_BYTES + 1)}),
        413,
        "archive_too_large",
        ["batch.zip"],
        "uncompressed",
    ),
    "non-audio member": (
        "/predict_zip",
        archive({"ok.wav": GOOD, "readme.txt": b"hello"}),
        415,
        "unsupported_file_type",
        ["readme.txt"],
        "not audio",
    ),
    "encrypted member": (
        "/predict_zip",
        encrypted(archive({"secret.wav": GOOD})),
        422,
        "encrypted_member",
        ["secret.wav"],
        "encrypted",
    ),
    "corrupt member audio": (
        "/predict_zip",
        archive({"bad.wav": b"RIFF????"}),
        422,
        "invalid_audio",
        ["bad.wav"],
        "not a readable audio file",
    ),
    "not a zip": (
        "/predict_zip",
        {"files": {"file": ("batch.zip", b"PK\x03\x04 not really", ZIP)}},
        422,
        "invalid_archive",
        ["batch.zip"],
        "",
    ),
    "zip with a wrong MIME type": (
        "/predict_zip",
        {"files": {"file": ("batch.zip", b"hello", "text/plain")}},
        415,
        "unsupported_media_type",
        ["batch.zip"],
        "text/plain",
    ),
}


@pytest.mark.parametrize(
    ("path", "request_kwargs", "status", "error", "named", "reason"),
    list(CASES.values()),
    ids=list(CASES),
)
def test_bad_input_is_refused(
    alive: Service,
    path: str,
    request_kwargs: dict[str, object],
    status: int,
    error: str,
    named: list[str],
    reason: str,
) -> None:
    response = alive.post(path, **request_kwargs)

    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert reason in response.text
    body = response.json()
    assert set(body) == {"error", "message", "files"}
    assert body["error"] == error
    assert [f["file"] for f in body["files"]] == named
    assert all(f["reason"] for f in body["files"])
    assert all(name in body["message"] for name in named)


def test_refusals_are_not_logged_as_server_errors(alive: Service) -> None:
    log = alive.server.log_path
    before = log.stat().st_size
    for case in ("not multipart", "text instead of a file", "corrupt bytes", "zip slip"):
        path, request_kwargs, status, *_ = CASES[case]
        assert alive.post(path, **request_kwargs).status_code == status

    with open(log, "rb") as f:
        f.seek(before)
        written = f.read().decode("utf-8", "replace")
    assert "Traceback" not in written and "[ERROR]" not in written, written
