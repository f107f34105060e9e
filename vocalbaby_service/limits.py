"""Request limits of the service, read from environment variables (defaults in brackets).

- ``VOCALBABY_MAX_UPLOAD_BYTES``: request body size, 413 when larger [52428800 = 50 MiB].
- ``VOCALBABY_MAX_FILES``: audio files in one ``/predict`` request [32].
- ``VOCALBABY_MAX_AUDIO_SECONDS``: duration of one audio file [600].
- ``VOCALBABY_MAX_REQUEST_AUDIO_SECONDS``: total duration of the audio in one request, 413 when
  longer [1200].
- ``VOCALBABY_MAX_CONCURRENT``: requests decoded and classified at once [4 x CPU count; feature
  extraction has its own fixed threads, so long requests do not hold small ones up];
  ``VOCALBABY_MAX_QUEUED``: requests more in the server (being read, checked or waiting for a
  turn) [64]; more get 503 with ``Retry-After`` before their body is read.
- ``VOCALBABY_MAX_AUDIO_IN_FLIGHT_S``: audio seconds being classified or waiting for a turn; a
  request that would go beyond gets 503 ``busy`` with ``Retry-After`` at once instead of
  missing its deadline [1500 x CPU count: 2 cores classify about 60 s of audio per second,
  so about 3,000 s are done within the deadline with room for small requests]; the rate the
  server measures while busy refuses earlier on a slower machine. See
  :mod:`vocalbaby_service.admission`.
- ``VOCALBABY_REQUEST_TIMEOUT_S``: deadline of a request from its arrival [110]; work still
  running then is cancelled (503). Keep it below the load balancer's idle timeout.
- ``VOCALBABY_MAX_SAMPLE_RATE``: sample rate of one file [192000].
- ``VOCALBABY_MAX_CHANNELS``: channels of one file [8].
- ``VOCALBABY_MAX_SAMPLES``: frames x channels of one file [120000000].
- ``VOCALBABY_MAX_ZIP_MEMBERS``: files in one ZIP archive [256].
- ``VOCALBABY_MAX_ZIP_UNCOMPRESSED_BYTES``: uncompressed size of one ZIP archive [209715200].
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from vocalbaby.audio import DecodeLimits

ENV_PREFIX = "VOCALBABY_"
_ENV_NAMES = {
    "max_upload_bytes": "MAX_UPLOAD_BYTES",
    "max_files": "MAX_FILES",
    "max_audio_s": "MAX_AUDIO_SECONDS",
    "max_request_audio_s": "MAX_REQUEST_AUDIO_SECONDS",
    "max_concurrent": "MAX_CONCURRENT",
    "max_queued": "MAX_QUEUED",
    "max_audio_in_flight_s": "MAX_AUDIO_IN_FLIGHT_S",
    "request_timeout_s": "REQUEST_TIMEOUT_S",
    "max_sample_rate": "MAX_SAMPLE_RATE",
    "max_channels": "MAX_CHANNELS",
    "max_samples": "MAX_SAMPLES",
    "max_zip_members": "MAX_ZIP_MEMBERS",
    "max_zip_bytes": "MAX_ZIP_UNCOMPRESSED_BYTES",
}


@dataclass(frozen=True)
class Limits:
    """What one request may hold (see the module docstring for the variables)."""

    max_upload_bytes: int = 50 * 2**20
    max_files: int = 32
    max_audio_s: float = 600.0
    max_request_audio_s: float = 1200.0
    max_concurrent: int = field(default_factory=lambda: 4 * (os.cpu_count() or 1))
    max_queued: int = 64
    max_audio_in_flight_s: float = field(default_factory=lambda: 1500.0 * (os.cpu_count() or 1))
    request_timeout_s: float = 110.0
    max_sample_rate: int = DecodeLimits.max_sample_rate
    max_channels: int = DecodeLimits.max_channels
    max_samples: int = DecodeLimits.max_samples
    max_zip_members: int = 256
    max_zip_bytes: int = 200 * 2**20

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Limits:
        """Defaults, overridden by the ``VOCALBABY_MAX_*`` variables that are set."""
        values: dict[str, float | int] = {}
        for f in fields(cls):
            name = ENV_PREFIX + _ENV_NAMES[f.name]
            raw = env.get(name)
            if raw is None or not raw.strip():
                continue
            kind = float if f.type == "float" else int
            try:
                value = kind(raw)
            except ValueError as exc:
                raise ValueError(f"{name}={raw!r} is not a valid {kind.__name__}") from exc
            if value <= 0:
                raise ValueError(f"{name}={raw!r} must be positive")
            values[f.name] = value
        return cls(**values)

    def decoding(self) -> DecodeLimits:
        """The limits on decoding one file."""
        return DecodeLimits(
            self.max_sample_rate, self.max_channels, self.max_samples, self.max_audio_s
        )
