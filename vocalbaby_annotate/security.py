"""Who may talk to the studio: a Host allow-list, an access token, bounded request bodies.

- **Host allow-list** (Starlette's ``TrustedHostMiddleware``): a request whose ``Host`` header is
  not one of ours gets 400, so a web page on another site cannot reach the app through DNS
  rebinding.
- **Token**: required whenever the app listens on anything but loopback (the command refuses to
  start without one). The browser signs in once at ``/?token=TOKEN``, which sets an HttpOnly,
  SameSite=Strict cookie; scripts send ``Authorization: Bearer TOKEN``. Anything else gets 401.
  With per-annotator **accounts** (``NAME TOKEN`` lines), a token also says who saves: a save
  as anybody else gets 403.
- **Origin**: a request that changes something (POST, PUT, ...) from a page of another origin
  gets 403, so another site cannot upload or start a retraining through the browser (CSRF).
- **Bodies** are read in chunks and refused with 413 as soon as they pass the limit (a declared
  ``Content-Length`` over it is refused before reading), so memory stays bounded.
"""

from __future__ import annotations

import hmac
import ipaddress
import socket
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from vocalbaby.annotation.store import AnnotationError, check_annotator

TOKEN_ENV = "VOCALBABY_STUDIO_TOKEN"
COOKIE = "vocalbaby_token"
ANNOTATOR_KEY = "vocalbaby_annotator"
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


def check_exposure(host: str, token: str | None, accounts: bool = False) -> None:
    """Raise ``ValueError`` unless listening on ``host`` with ``token`` (or per-annotator
    ``accounts``) is safe."""
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        raise ValueError(f"the token must have at least {MIN_TOKEN_CHARS} characters")
    if token is None and not accounts and not is_loopback(host):
        raise ValueError(
            f"listening on {host} lets other machines in: set ${TOKEN_ENV} (or --token) to a "
            "secret of at least 16 characters (or give --accounts FILE), e.g. "
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


def read_accounts(path: Path) -> dict[str, str]:
    """Per-annotator tokens from a file of ``NAME TOKEN`` lines (``#`` starts a comment):
    ``token -> annotator``; a ``ValueError`` names the line that is wrong."""
    accounts: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        where = f"{path} line {number}"
        if len(fields) != 2:
            raise ValueError(f"{where}: write NAME TOKEN")
        name, token = fields
        try:
            check_annotator(name)
        except AnnotationError as exc:
            raise ValueError(f"{where}: {exc}") from None
        if len(token) < MIN_TOKEN_CHARS:
            raise ValueError(f"{where}: the token must have at least {MIN_TOKEN_CHARS} characters")
        if token in accounts:
            raise ValueError(f"{where}: the token of {name} is also {accounts[token]}'s")
        accounts[token] = name
    if not accounts:
        raise ValueError(f"{path}: no accounts")
    return accounts


def signed_in(request: Request) -> str | None:
    """The annotator whose own token the request carries (``None``: none, or the shared one)."""
    return request.scope.get("state", {}).get(ANNOTATOR_KEY)


class TokenGate:
    """ASGI middleware: every HTTP request needs a token (cookie or bearer header): the shared
    one, or an annotator's own, which then decides who the request saves as."""

    def __init__(self, app: ASGIApp, tokens: Mapping[str, str | None]) -> None:
        self.app = app
        self.tokens = [(token.encode(), who) for token, who in tokens.items()]

    def _account(self, candidate: str | None) -> tuple[bool, str | None]:
        if not candidate:
            return False, None
        for token, who in self.tokens:
            if hmac.compare_digest(candidate.encode(), token):
                return True, who
        return False, None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        bearer = request.headers.get("authorization", "")
        for candidate in (
            request.cookies.get(COOKIE),
            bearer[7:] if bearer[:7] == "Bearer " else None,
        ):
            known, who = self._account(candidate)
            if known:
                scope.setdefault("state", {})[ANNOTATOR_KEY] = who
                await self.app(scope, receive, send)
                return
        given = request.query_params.get("token")
        if request.url.path == "/" and self._account(given)[0]:
            response = RedirectResponse("/", status_code=303)
            response.set_cookie(COOKIE, given, httponly=True, samesite="strict")
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


async def stream(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The body's chunks as they arrive, refused (:class:`BodyError`, 413) once they pass
    ``limit`` bytes; a declared ``Content-Length`` over it is refused before reading."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit() or len(declared) > 18:
            raise BodyError(400, "Content-Length must be a whole number")
        if int(declared) > limit:
            raise BodyError(413, f"body larger than {limit} bytes")
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyError(413, f"body larger than {limit} bytes")
        yield chunk


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, at most ``limit`` bytes (see :func:`stream`)."""
    return b"".join([chunk async for chunk in stream(request, limit)])
