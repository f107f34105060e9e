"""Who may talk to the studio: a Host allow-list, an access token, bounded request bodies.

- **Host allow-list** (Starlette's ``TrustedHostMiddleware``): a request whose ``Host`` header is
  not one of ours gets 400, so a web page on another site cannot reach the app through DNS
  rebinding.
- **Token**: required whenever the app listens on anything but loopback (the command refuses to
  start without one). The browser signs in once at ``/?token=TOKEN``, which sets an HttpOnly,
  SameSite=Strict cookie; scripts send ``Authorization: Bearer TOKEN``. Anything else gets 401.
- **Origin**: a request that changes something (POST, PUT, ...) from a page of another origin
  gets 403, so another site cannot upload or start a retraining through the browser (CSRF).
- **Bodies** are read in chunks and refused with 413 as soon as they pass the limit (a declared
  ``Content-Length`` over it is refused before reading), so memory stays bounded.
"""

from __future__ import annotations

import hmac
import ipaddress
import socket
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

TOKEN_ENV = "VOCALBABY_STUDIO_TOKEN"
COOKIE = "vocalbaby_token"
MIN_TOKEN_CHARS = 16
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
WILDCARD_HOSTS = {"0.0.0.0", "::", ""}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class BodyError(ValueError):
    """A request body that is refused before it is read whole; ``status`` is the HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or address to listen on) only reaches this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, token: str | None) -> None:
    """Raise ``ValueError`` unless listening on ``host`` with ``token`` is safe."""
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        raise ValueError(f"the token must have at least {MIN_TOKEN_CHARS} characters")
    if token is None and not is_loopback(host):
        raise ValueError(
            f"listening on {host} lets other machines in: set ${TOKEN_ENV} (or --token) to a "
            "secret of at least 16 characters, e.g. "
            "$(python -c 'import secrets; print(secrets.token_urlsafe())')"
        )


def allowed_hosts(host: str, extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The ``Host`` header values accepted: loopback names, the bound address, ``extra``, and
    this machine's name when listening on every interface."""
    hosts = [*LOOPBACK_HOSTS, *extra]
    if host in WILDCARD_HOSTS:
        hosts += [socket.gethostname(), socket.getfqdn()]
    else:
        hosts.append(host)
    return sorted(set(hosts))


class TokenGate:
    """ASGI middleware: every HTTP request needs the token (cookie or bearer header)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    def _matches(self, candidate: str | None) -> bool:
        return candidate is not None and hmac.compare_digest(candidate.encode(), self.token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        bearer = request.headers.get("authorization", "")
        if self._matches(request.cookies.get(COOKIE)) or (
            bearer.startswith("Bearer ") and self._matches(bearer[7:])
        ):
            await self.app(scope, receive, send)
            return
        if request.url.path == "/" and self._matches(request.query_params.get("token")):
            response = RedirectResponse("/", status_code=303)
            response.set_cookie(COOKIE, self.token.decode(), httponly=True, samesite="strict")
        else:
            response = JSONResponse(
                {"error": "unauthorized", "message": "open the link with ?token= printed at start"},
                status_code=401,
            )
        await response(scope, receive, send)


class OriginCheck:
    """ASGI middleware: a state-changing request whose ``Origin`` is not the page's own origin
    (scheme-less: the ``Host`` it was sent to) gets 403."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            headers = Request(scope).headers
            origin = headers.get("origin")
            if origin is not None and urlsplit(origin).netloc != headers.get("host"):
                response = JSONResponse(
                    {"error": "forbidden", "message": f"requests from {origin} are not accepted"},
                    status_code=403,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused (:class:`BodyError`, 413) once it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit() or len(declared) > 18:
            raise BodyError(400, "Content-Length must be a whole number")
        if int(declared) > limit:
            raise BodyError(413, f"body larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyError(413, f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
