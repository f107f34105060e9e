"""Headless Chromium (Debian's, or ``$VOCALBABY_CHROMIUM``) driven by Playwright, for the pages we
serve. The ``chromium_path`` and ``browser`` fixtures are in tests/conftest.py."""

from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = Path(os.environ.get("VOCALBABY_CHROMIUM", "/usr/bin/chromium"))
# Flags for a closed network and a root user: without the background-networking ones Chromium
# keeps trying (and failing) to reach Google's hosts.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
TIMEOUT_MS = 20_000
# Screenshots and other files for people to look at (CI uploads the folder).
ARTIFACTS = Path(
    os.environ.get("VOCALBABY_TEST_ARTIFACTS", Path(__file__).parents[1] / "test-artifacts")
)
