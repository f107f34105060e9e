"""Refused requests: an HTTP status, a machine-readable error type, and the files at fault.

Every refusal (any status from 400 up) has the JSON body
``{"error": TYPE, "message": TEXT, "files": [{"file", "reason"}]}`` (``files`` is empty when
no single file is at fault). A refusal worth retrying (503) says when in a ``Retry-After``
header.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from http import HTTPStatus

from bentoml.exceptions import BentoMLException


@dataclass(frozen=True)
class FileProblem:
    """One file (or archive member) and why it was refused."""

    file: str
    reason: str


class RequestError(BentoMLException):
    """A request the service refuses; ``error_code`` is its HTTP status (always 4xx)."""

    def __init__(
        self,
        status: HTTPStatus,
        error_type: str,
        message: str,
        files: Sequence[FileProblem] = (),
        retry_after_s: int | None = None,
    ) -> None:
        shown = "; ".join(f"{p.file}: {p.reason}" for p in files[:5])
        more = f" (and {len(files) - 5} more)" if len(files) > 5 else ""
        super().__init__(f"{message}: {shown}{more}" if files else message, error_code=status)
        self.error_type = error_type
        self.files = list(files)
        self.retry_after_s = retry_after_s

    def body(self) -> dict[str, object]:
        """The JSON body of the error response."""
        return {
            "error": self.error_type,
            "message": self.message,
            "files": [asdict(p) for p in self.files],
        }


def refuse_files(
    status: HTTPStatus, error_type: str, message: str, problems: Sequence[FileProblem]
) -> None:
    """Raise a :class:`RequestError` for ``problems`` if there are any."""
    if problems:
        raise RequestError(status, error_type, message, problems)


GENERIC_TYPES = {
    HTTPStatus.BAD_REQUEST: "bad_request",
    HTTPStatus.NOT_FOUND: "not_found",
    HTTPStatus.METHOD_NOT_ALLOWED: "method_not_allowed",
    HTTPStatus.CONFLICT: "conflict",  # the served model cannot take this request
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "too_large",
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    HTTPStatus.UNPROCESSABLE_ENTITY: "invalid_request",
    HTTPStatus.SERVICE_UNAVAILABLE: "unavailable",
}
SHAPE = {"error", "message", "files"}
RETRY_AFTER_S = 2  # the Retry-After of every 503: busy, past the deadline, overloaded
SCOPE_KEY = "vocalbaby.refusal"  # where an input parser leaves its refusal for the middleware


def reshape(status: int, body: bytes) -> RequestError | None:
    """The refusal in this module's shape for an error response written by someone else
    (BentoML's request parser and validation, Starlette's routing), or ``None`` when ``body``
    already has the shape."""
    try:
        data = json.loads(body)
    except ValueError:
        data = body.decode("utf-8", "replace").strip()
    if isinstance(data, dict) and set(data) == SHAPE:
        return None
    if isinstance(data, list) and data and isinstance(data[0], dict):
        data = data[0]  # BentoML's body for an exception from an input parser: [{"error": ...}]
    message = str(data.get("error", data)) if isinstance(data, dict) else str(data)
    if isinstance(data, dict) and isinstance(data.get("detail"), list):  # pydantic's errors
        details = [
            f"{'.'.join(map(str, d.get('loc', ())))}: {d.get('msg')}" for d in data["detail"]
        ]
        message = "; ".join([message, *details[:5]])
    code = HTTPStatus(status)
    kind = GENERIC_TYPES.get(code, "internal_error" if status >= 500 else "bad_request")
    retry_after_s = RETRY_AFTER_S if code == HTTPStatus.SERVICE_UNAVAILABLE else None
    return RequestError(code, kind, message or code.phrase, retry_after_s=retry_after_s)
