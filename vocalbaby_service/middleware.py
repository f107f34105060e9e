"""ASGI middleware in front of every route: bearer token, body size limit, request metrics.

- With a token configured, every request except ``OPEN_PATHS`` (health checks) and CORS
  preflights must send ``Authorization: Bearer <token>``; others get 401 (compared with
  :func:`hmac.compare_digest`).
- A body larger than ``max_body_bytes`` gets 413 before it is read when ``Content-Length`` says
  so, and as soon as the limit is crossed for a chunked body (the request is cut off and its
  response replaced).
- POST requests to ``endpoints`` are admitted into the server (stage 1 of
  :mod:`vocalbaby_service.admission`) before their body is read: 503 with ``Retry-After`` at
  once when it is full. Their deadline, ``timeout_s`` after arrival, is left in the scope under
  :data:`DEADLINE_KEY` (a :func:`time.monotonic` value) for the service to wait for a work turn
  and stop the work at.
- Error responses written by BentoML or Starlette are rewritten in the one refusal shape of
  :mod:`vocalbaby_service.errors` (an input parser's own refusal is found in the scope).
- Requests to ``endpoints`` are counted by status and timed
  (see :mod:`vocalbaby_service.telemetry`).
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Collection
from http import HTTPStatus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vocalbaby_service import telemetry
from vocalbaby_service.admission import Admission
from vocalbaby_service.errors import SCOPE_KEY, RequestError, reshape

DEADLINE_KEY = "vocalbaby.deadline"
OPEN_PATHS = frozenset({"/healthz", "/livez", "/readyz"})

UNAUTHORIZED = RequestError(
    HTTPStatus.UNAUTHORIZED, "unauthorized", "missing or wrong 'Authorization: Bearer' token"
)


def _too_large(limit: int) -> RequestError:
    return RequestError(
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        "upload_too_large",
        f"request body larger than the limit of {limit} bytes",
    )


async def send_error(send: Send, error: RequestError, count: bool = True) -> None:
    """Count ``error`` (unless already counted) and send it as a complete JSON response."""
    if count:
        telemetry.get().errors.labels(error_type=error.error_type).inc()
    body = json.dumps(error.body()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if error.error_code == HTTPStatus.UNAUTHORIZED:
        headers.append((b"www-authenticate", b"Bearer"))
    if error.retry_after_s is not None:
        headers.append((b"retry-after", b"%d" % error.retry_after_s))
    await send({"type": "http.response.start", "status": int(error.error_code), "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Gatekeeper:
    """The middleware (see the module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        token: str | None,
        max_body_bytes: int,
        endpoints: Collection[str],
        admission: Admission,
        timeout_s: float,
    ) -> None:
        self.app = app
        self.admission = admission
        self.timeout_s = timeout_s
        self.token = token.encode() if token else None
        self.max_body_bytes = max_body_bytes
        self.endpoints = frozenset(endpoints)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        endpoint = scope["path"] if scope["path"] in self.endpoints else None
        status = HTTPStatus.INTERNAL_SERVER_ERROR.value
        started = time.perf_counter()

        held: Message | None = None  # an error response's start, until its body is seen
        body = b""

        async def send_and_record(message: Message) -> None:
            nonlocal status, held, body
            if message["type"] == "http.response.start":
                status = message["status"]
                if status >= HTTPStatus.BAD_REQUEST:
                    held = message
                    return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            body += message.get("body", b"")
            if message.get("more_body"):
                return
            refusal = scope.get(SCOPE_KEY) or reshape(status, body)
            if refusal is None:
                await send(held)
                await send({"type": "http.response.body", "body": body})
            else:
                await send_error(send, refusal, count=SCOPE_KEY not in scope)

        try:
            await self._guarded(scope, receive, send_and_record)
        finally:
            if endpoint:
                telemetry.get().observe_request(endpoint, status, time.perf_counter() - started)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope["headers"])
        if self.token and scope["method"] != "OPTIONS" and not self._authorized(headers):
            await send_error(send, UNAUTHORIZED)
            return
        declared = headers.get(b"content-length", b"").decode("latin-1")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            await send_error(send, _too_large(self.max_body_bytes))
            return
        if scope["method"] != "POST" or scope["path"] not in self.endpoints:
            await self._limited(scope, receive, send)
            return
        scope[DEADLINE_KEY] = time.monotonic() + self.timeout_s
        try:
            self.admission.enter()
        except RequestError as exc:
            await send_error(send, exc)
            return
        try:
            await self._limited(scope, receive, send)
        finally:
            self.admission.leave()

    def _authorized(self, headers: dict[bytes, bytes]) -> bool:
        scheme, _, credentials = headers.get(b"authorization", b"").partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(credentials.strip(), self.token)

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app, cutting the body off (and answering 413) once it exceeds the limit."""
        received = 0
        overflow = False
        answered = False

        async def counting_receive() -> Message:
            nonlocal received, overflow
            if overflow:
                return {"type": "http.disconnect"}
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body_bytes:
                overflow = True
                return {"type": "http.disconnect"}
            return message

        async def replacing_send(message: Message) -> None:
            nonlocal answered
            if not overflow:
                await send(message)
            elif not answered:
                answered = True
                await send_error(send, _too_large(self.max_body_bytes))

        try:
            await self.app(scope, counting_receive, replacing_send)
        except Exception:
            if not overflow:  # not a consequence of cutting the body off
                raise
        if overflow and not answered:
            await send_error(send, _too_large(self.max_body_bytes))
