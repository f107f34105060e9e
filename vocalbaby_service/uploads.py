"""Uploaded files: multipart parsing, checks, ZIP archives, decoding.

Uploads are read into memory and never written to disk by this module (Starlette spools parts
over 1 MiB to anonymous temporary files, which vanish when the request is closed). ZIP members
are never extracted or read whole: each is streamed from the archive when its header is checked
and when it is decoded (block by block, see :func:`vocalbaby.audio.load`), after these checks,
in this order:

- member count (``max_zip_members``) and declared uncompressed total (``max_zip_bytes``): 413;
  :mod:`zipfile` never inflates a member beyond its declared size, so the total is a hard bound;
- member paths that are absolute or climb out with ``..`` (zip slip): 400;
- encrypted members: 422; nested archives and non-audio members: 415.

Directory entries and macOS ``__MACOSX/`` metadata are skipped.
"""

from __future__ import annotations

import functools
import io
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, BinaryIO, TypeVar

import bentoml
from bentoml.validators import ContentType
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

from vocalbaby import audio
from vocalbaby.dataset import AUDIO_SUFFIXES
from vocalbaby_service.errors import SCOPE_KEY, FileProblem, RequestError, refuse_files
from vocalbaby_service.limits import Limits

GENERIC_TYPES = frozenset({"", "application/octet-stream"})
ZIP_TYPES = GENERIC_TYPES | {"application/zip", "application/x-zip-compressed", "application/x-zip"}
ARCHIVE_SUFFIXES = (".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".7z", ".rar", ".jar")
SKIPPED_PREFIXES = ("__MACOSX/",)
_DRIVE = re.compile(r"^[A-Za-z]:")
T = TypeVar("T")


@dataclass(frozen=True)
class Upload:
    """One uploaded file or archive member; ``open()`` streams its bytes from the start."""

    name: str
    content_type: str | None
    size: int
    open: Callable[[], BinaryIO]

    @classmethod
    def of_bytes(cls, name: str, content_type: str | None, data: bytes) -> Upload:
        """An upload held in memory."""
        return cls(name, content_type, len(data), functools.partial(io.BytesIO, data))


async def read_form(request: Request, field: str) -> list[Upload]:
    """The files of multipart field ``field``; refuses other bodies and text values."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "multipart/form-data":
        raise RequestError(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            f"expected multipart/form-data with file field '{field}', "
            f"got {media_type or 'no content type'}",
        )
    try:
        form = await request.form()
    except HTTPException as exc:
        raise RequestError(
            HTTPStatus.BAD_REQUEST, "malformed_request", f"unreadable multipart body: {exc.detail}"
        ) from exc
    try:
        return [await _upload(value, field, i) for i, value in enumerate(form.getlist(field))]
    finally:
        await form.close()


async def _upload(value: UploadFile | str, field: str, position: int) -> Upload:
    if not isinstance(value, UploadFile):
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            "not_a_file",
            f"field '{field}' must hold file uploads, not text",
        )
    name = value.filename or f"{field}[{position}]"
    return Upload.of_bytes(name, value.content_type, await value.read())


class _FormInput(bentoml.IODescriptor):
    """Input parsed by :func:`read_form` instead of BentoML's multipart handling.

    BentoML would write each part to a temporary file and lose the part's file name and content
    type, and it fetches URLs given as text values; here parts stay in memory as :class:`Upload`.
    """

    @classmethod
    async def from_http_request(cls, request: Request, serde: Any) -> bentoml.IODescriptor:
        """The parsed field; a refusal is left in the scope (see :func:`refusal`) with an empty
        field, so BentoML neither logs it as a server error nor answers it in its own shape."""
        (field,) = cls.model_fields
        try:
            value = cls._value(await read_form(request, field))
        except RequestError as exc:
            request.scope[SCOPE_KEY] = exc
            value = []
        return cls.model_construct(**{field: value})

    @classmethod
    def _value(cls, uploads: list[Upload]) -> list[Upload] | Upload:
        return uploads


def refusal(request: Request) -> None:
    """Raise the refusal the input parser left in ``request``'s scope, if any."""
    if (exc := request.scope.get(SCOPE_KEY)) is not None:
        raise exc


class AudioFiles(_FormInput):
    """Multipart field ``files``: one or more wav, flac or ogg files."""

    files: list[Annotated[Path, ContentType("audio/*")]]


class ZipArchive(_FormInput):
    """Multipart field ``file``: one ZIP archive of wav, flac or ogg files."""

    file: Annotated[Path, ContentType("application/zip")]

    @classmethod
    def _value(cls, uploads: list[Upload]) -> Upload:
        if len(uploads) != 1:
            raise RequestError(
                HTTPStatus.BAD_REQUEST,
                "expected_one_archive",
                f"field 'file' must hold exactly one ZIP archive, got {len(uploads)} files",
            )
        return uploads[0]


def _suffix(name: str) -> str:
    return PurePosixPath(name.replace("\\", "/")).suffix.lower()


def _is_audio_type(content_type: str | None) -> bool:
    media_type = (content_type or "").split(";")[0].strip().lower()
    return media_type in GENERIC_TYPES or media_type.startswith("audio/")


def check_files(uploads: list[Upload], max_files: int) -> None:
    """Refuse too many files, non-audio content types or names, and empty files."""
    if not uploads:
        raise RequestError(HTTPStatus.BAD_REQUEST, "no_files", "the request holds no files")
    if len(uploads) > max_files:
        raise RequestError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "too_many_files",
            f"{len(uploads)} files, at most {max_files} per request",
        )
    refuse_files(
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "not audio",
        [
            FileProblem(u.name, f"content type {u.content_type!r} is not audio/*")
            for u in uploads
            if not _is_audio_type(u.content_type)
        ],
    )
    refuse_files(
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        "unsupported_file_type",
        "unsupported file type",
        [
            FileProblem(u.name, f"expected one of {', '.join(AUDIO_SUFFIXES)}")
            for u in uploads
            if _suffix(u.name) not in AUDIO_SUFFIXES
        ],
    )
    refuse_files(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "empty_file",
        "empty file",
        [FileProblem(u.name, "empty file (0 bytes)") for u in uploads if not u.size],
    )


def audio_seconds(uploads: list[Upload], limits: Limits) -> float:
    """The audio seconds of the request, from the files' headers (nothing decoded); refuses
    (422) every file that cannot be used and (413) more than ``max_request_audio_s`` in all."""
    problems, seconds = [], 0.0
    for upload in uploads:
        try:
            header = _checked(upload, audio.header, limits=limits.decoding())
            seconds += header.duration_s
        except audio.AudioError as exc:
            problems.append(FileProblem(upload.name, exc.reason))
    refuse_files(HTTPStatus.UNPROCESSABLE_ENTITY, "invalid_audio", "unusable audio", problems)
    if seconds > limits.max_request_audio_s:
        raise RequestError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "too_much_audio",
            f"{seconds:.0f} s of audio in the request, at most {limits.max_request_audio_s:g} s",
        )
    return seconds


def decode(uploads: list[Upload], limits: Limits) -> list[audio.Audio]:
    """Decode every upload (checked by :func:`audio_seconds`) to 16 kHz mono; refuses (422)
    all that cannot be decoded."""
    decoded, problems = [], []
    for upload in uploads:
        try:
            decoded.append(_checked(upload, audio.load, limits=limits.decoding()))
        except audio.AudioError as exc:
            problems.append(FileProblem(upload.name, exc.reason))
    refuse_files(HTTPStatus.UNPROCESSABLE_ENTITY, "invalid_audio", "unusable audio", problems)
    return decoded


def _is_unsafe(name: str) -> bool:
    path = name.replace("\\", "/")
    return path.startswith("/") or bool(_DRIVE.match(path)) or ".." in path.split("/")


def unpack_zip(archive: Upload, limits: Limits) -> list[Upload]:
    """The audio members of a ZIP archive, after the checks of the module doc; each member is
    streamed from the archive when opened."""
    media_type = (archive.content_type or "").split(";")[0].strip().lower()
    if media_type not in ZIP_TYPES:
        raise RequestError(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "not a ZIP archive",
            [FileProblem(archive.name, f"content type {archive.content_type!r} is not a ZIP")],
        )
    try:
        with zipfile.ZipFile(archive.open()) as zf:
            members = [
                info
                for info in zf.infolist()
                if not info.is_dir() and not info.filename.startswith(SKIPPED_PREFIXES)
            ]
    except _ZIP_ERRORS as exc:
        raise _invalid_archive("unreadable ZIP archive", archive.name, exc) from exc
    _check_members(archive.name, members, limits)
    return [
        Upload(m.filename, None, m.file_size, functools.partial(_MemberStream, archive, m))
        for m in members
    ]


def _invalid_archive(message: str, name: str, exc: BaseException) -> RequestError:
    return RequestError(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "invalid_archive",
        message,
        [FileProblem(name, str(exc) or type(exc).__name__)],
    )


_ZIP_ERRORS = (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError, zlib.error)


class _MemberStream(io.RawIOBase):
    """One archive member, inflated as it is read.

    Seeking only moves a position, applied at the next read: the decoder seeks to the end to
    learn a file's length, and inflating a 190 MiB member to get there (and again from the start
    to come back) cost more than decoding it. Seeking backwards inflates again from the start.
    A damaged member (bad data, CRC mismatch) reads as ended and keeps the 422
    ``invalid_archive`` refusal in ``failure``: the decoder reads through callbacks that cannot
    raise, so the caller checks it (:func:`_checked`)."""

    def __init__(self, archive: Upload, member: zipfile.ZipInfo) -> None:
        self.name = member.filename
        self.failure: RequestError | None = None
        self._size = member.file_size
        self._position = 0
        try:
            self._zip = zipfile.ZipFile(archive.open())
            self._member = self._zip.open(member)
        except _ZIP_ERRORS as exc:
            raise _invalid_archive("unreadable archive member", member.filename, exc) from exc

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.failure:
            return 0
        try:
            if self._member.tell() != self._position:
                self._member.seek(self._position)
            data = self._member.read(len(buffer))
        except _ZIP_ERRORS as exc:
            self.failure = _invalid_archive("unreadable archive member", self.name, exc)
            return 0
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        start = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, start + offset)
        return self._position

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        if not self.closed:
            self._member.close()
            self._zip.close()
        super().close()


def _checked(upload: Upload, read: Callable[..., T], **options: Any) -> T:
    """``read(stream, name, **options)`` of a fresh stream of ``upload``; raises a damaged
    member's refusal."""
    stream = upload.open()
    try:
        result = read(stream, upload.name, **options)
    except audio.AudioError as exc:
        if failure := getattr(stream, "failure", None):
            raise failure from exc
        raise
    if failure := getattr(stream, "failure", None):
        raise failure
    return result


def _check_members(name: str, members: list[zipfile.ZipInfo], limits: Limits) -> None:
    if len(members) > limits.max_zip_members:
        raise RequestError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "too_many_members",
            "too many files in the archive",
            [FileProblem(name, f"{len(members)} files, at most {limits.max_zip_members}")],
        )
    total = sum(m.file_size for m in members)
    if total > limits.max_zip_bytes:
        raise RequestError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "archive_too_large",
            "archive too large when uncompressed",
            [FileProblem(name, f"{total} bytes uncompressed, at most {limits.max_zip_bytes}")],
        )
    checks = [
        (
            HTTPStatus.BAD_REQUEST,
            "unsafe_path",
            "absolute or '..' member path",
            lambda m: _is_unsafe(m.filename),
        ),
        (
            HTTPStatus.UNPROCESSABLE_ENTITY,
            "encrypted_member",
            "encrypted member",
            lambda m: bool(m.flag_bits & 0x1),
        ),
        (
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "nested_archive",
            "archives inside the archive are not accepted",
            lambda m: _suffix(m.filename) in ARCHIVE_SUFFIXES,
        ),
        (
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file_type",
            f"not audio (expected {', '.join(AUDIO_SUFFIXES)})",
            lambda m: _suffix(m.filename) not in AUDIO_SUFFIXES,
        ),
    ]
    for status, error_type, reason, failing in checks:
        refuse_files(
            status,
            error_type,
            reason,
            [FileProblem(m.filename, reason) for m in members if failing(m)],
        )
    if not members:
        raise RequestError(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            "empty_archive",
            "no audio files in the archive",
            [FileProblem(name, "the archive holds no files")],
        )
