"""The API token, read fail-closed.

- ``VOCALBABY_API_TOKEN``: the bearer token every route except health checks needs (``/metrics``
  included). Unset means no authentication, which only development may run with.
- ``VOCALBABY_ENV=prod`` or ``VOCALBABY_REQUIRE_TOKEN=1``: the service refuses to start without a
  token of at least :data:`MIN_TOKEN_CHARS` characters.

A known placeholder (the value Terraform stores until the real token is set out of band, and
the like) is refused everywhere, so a forgotten step stops the service instead of opening it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

MIN_TOKEN_CHARS = 32
PLACEHOLDERS = frozenset(
    {"set-me-out-of-band", "changeme", "change-me", "replace-me", "secret", "token", "none"}
)


class TokenError(RuntimeError):
    """The configured token cannot be used; the service must not start."""


def required(env: Mapping[str, str] = os.environ) -> bool:
    """Whether this deployment must have a token (production)."""
    return env.get("VOCALBABY_ENV", "").strip().lower() == "prod" or env.get(
        "VOCALBABY_REQUIRE_TOKEN", ""
    ).strip() in {"1", "true", "yes"}


def api_token(env: Mapping[str, str] = os.environ) -> str | None:
    """The token to require, or ``None`` for an open development server; raises
    :class:`TokenError` for a placeholder, or a missing or short token where one is required."""
    token = env.get("VOCALBABY_API_TOKEN", "").strip() or None
    if token and token.lower() in PLACEHOLDERS:
        raise TokenError("VOCALBABY_API_TOKEN holds a placeholder; set the real token")
    if required(env) and (token is None or len(token) < MIN_TOKEN_CHARS):
        raise TokenError(
            "production (VOCALBABY_ENV=prod or VOCALBABY_REQUIRE_TOKEN=1) needs "
            f"VOCALBABY_API_TOKEN of at least {MIN_TOKEN_CHARS} characters"
        )
    return token
