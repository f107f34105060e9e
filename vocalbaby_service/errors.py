"""Refused requests: an HTTP status, a machine-readable error type, and the files at fault.

Every refusal has the JSON body ``{"error": TYPE, "message": TEXT, "files": [{"file", "reason"}]}``
(``files`` is empty when no single file is at fault). A refusal worth retrying (503) says when
in a ``Retry-After`` header.
"""

from __future__ import annotations

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
