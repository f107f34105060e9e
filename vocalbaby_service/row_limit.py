"""A cap on the rows of one JSON request (``{"rows": [...]}``), refused with 413.

BentoML's adaptive batching answers a request larger than the batch size with 503, which
clients retry; this ASGI middleware reads the (already size-limited) body first, refuses one
with more than ``max_rows`` rows, and hands the body on unchanged otherwise.
"""

from __future__ import annotations

import json
from http import HTTPStatus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vocalbaby_service.errors import RequestError
from vocalbaby_service.middleware import send_error


def count_rows(body: bytes) -> int:
    """Rows in a ``{"rows": [...]}`` body; 0 for anything else (left to the API to refuse)."""
    try:
        data = json.loads(body)
    except ValueError:
        return 0
    rows = data.get("rows") if isinstance(data, dict) else None
    return len(rows) if isinstance(rows, list) else 0


class RowLimit:
    """Refuse POSTs to ``path`` holding more than ``max_rows`` rows (413 ``too_many_rows``)."""

    def __init__(self, app: ASGIApp, path: str, max_rows: int) -> None:
        self.app = app
        self.path = path
        self.max_rows = max_rows

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        while not messages or messages[-1].get("more_body"):
            messages.append(await receive())
        rows = count_rows(b"".join(m.get("body", b"") for m in messages))
        if rows > self.max_rows:
            await send_error(
                send,
                RequestError(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    "too_many_rows",
                    f"{rows} rows, at most {self.max_rows} per request",
                ),
            )
            return
        pending = iter(messages)

        async def replay() -> Message:
            return next(pending, None) or await receive()

        await self.app(scope, replay, send)
