"""Admission of work, in two stages, so that refusals never wait behind heavy work.

1. **Intake** (:meth:`Admission.enter`, in the middleware, before the body is read): at most
   ``running + queued`` requests in the server at once, whatever they are doing (reading their
   body, being checked, waiting for a turn, being worked on). More are refused at once with 503
   and ``Retry-After``, so memory holds a bounded number of bodies.
2. **Work** (:meth:`Admission.turn`, in the service, after the upload passed every check): at
   most ``running`` requests decode and extract at once, the rest wait in arrival order until
   their deadline. The cost of a request is its audio seconds, read from the file headers: when
   the audio already admitted (working and waiting) plus this request's would exceed
   ``max_audio_s``, the request is refused at once (503 ``busy``, ``Retry-After``) instead of
   being accepted and missing its deadline later; likewise when, at the rate the server has
   been classifying audio while busy (:class:`Throughput`, measured, so it follows a slow or
   shared machine), the audio admitted plus this request's would not be done by its deadline.
   A request is always admitted when nothing else is, so no valid request is refused forever.
   These checks apply to heavy requests (at least ``heavy_audio_s`` of audio), which also hold
   at most half the turns, so small ones always find a turn free. The measured rate credits a
   request's audio when it is done, so it errs low (refusing more) while long requests run.

Bad requests are checked and refused in stage 1's slot without ever waiting for a work turn.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus

from vocalbaby_service.errors import RETRY_AFTER_S, RequestError

HEAVY_AUDIO_S = 30.0  # a request with this much audio or more is heavy


def busy(message: str) -> RequestError:
    """A 503 refusal a client should retry after :data:`RETRY_AFTER_S` seconds."""
    return RequestError(
        HTTPStatus.SERVICE_UNAVAILABLE, "busy", message, retry_after_s=RETRY_AFTER_S
    )


class Throughput:
    """Audio seconds classified per second of the work stage being busy, over about the last
    ``horizon_s`` (older work weighs exponentially less); unknown until ``min_busy_s`` of work."""

    def __init__(self, horizon_s: float = 120.0, min_busy_s: float = 10.0) -> None:
        self.horizon_s = horizon_s
        self.min_busy_s = min_busy_s
        self._audio_s = 0.0
        self._busy_s = 0.0
        self._since = time.monotonic()
        self._working = 0

    def _advance(self) -> None:
        now = time.monotonic()
        keep = math.exp(-(now - self._since) / self.horizon_s)
        self._busy_s = self._busy_s * keep + (now - self._since if self._working else 0.0)
        self._audio_s *= keep
        self._since = now

    def started(self) -> None:
        """A request began its work."""
        self._advance()
        self._working += 1

    def finished(self, audio_s: float) -> None:
        """A request of ``audio_s`` seconds of audio ended its work."""
        self._advance()
        self._working -= 1
        self._audio_s += audio_s

    def rate(self) -> float | None:
        """Audio seconds per busy second, or ``None`` while too little has been measured."""
        self._advance()
        return self._audio_s / self._busy_s if self._busy_s >= self.min_busy_s else None


class Admission:
    """The two stages of the module docstring (one instance per server process)."""

    def __init__(
        self,
        running: int,
        queued: int,
        max_audio_s: float = float("inf"),
        heavy_audio_s: float = HEAVY_AUDIO_S,
        throughput: Throughput | None = None,
    ) -> None:
        self.running = running
        self.queued = queued
        self.max_audio_s = max_audio_s
        self.heavy_audio_s = heavy_audio_s
        self.throughput = throughput or Throughput()
        self._inside = 0
        self._working = 0
        self._waiting = 0
        self._audio_s = 0.0
        self._turns = asyncio.Semaphore(running)
        self._heavy_turns = asyncio.Semaphore(max(1, running // 2))

    @property
    def load(self) -> tuple[int, int]:
        """Requests working and waiting for a work turn now."""
        return self._working, self._waiting

    @property
    def inside(self) -> int:
        """Requests admitted by :meth:`enter` and not yet gone."""
        return self._inside

    def enter(self) -> None:
        """Admit a request into the server, or raise the 503 :class:`RequestError` when
        ``running + queued`` are already inside; pair with :meth:`leave`."""
        if self._inside >= self.running + self.queued:
            raise busy(f"{self._inside} requests in progress; retry later")
        self._inside += 1

    def leave(self) -> None:
        """A request admitted by :meth:`enter` is done."""
        self._inside -= 1

    @asynccontextmanager
    async def turn(self, audio_s: float, deadline: float) -> AsyncIterator[None]:
        """Hold a work turn for a request of ``audio_s`` seconds of audio; raises the 503
        :class:`RequestError` when its cost does not fit or no turn comes before ``deadline``
        (a :func:`time.monotonic` value)."""
        heavy = audio_s >= self.heavy_audio_s
        if heavy and self._audio_s and self._audio_s + audio_s > self.max_audio_s:
            raise busy(
                f"{self._audio_s:.0f} s of audio already in progress, at most "
                f"{self.max_audio_s:g} s at once; retry later"
            )
        rate = self.throughput.rate()
        left_s = deadline - time.monotonic()
        if heavy and self._audio_s and rate and (self._audio_s + audio_s) / rate > left_s:
            raise busy(
                f"{self._audio_s:.0f} s of audio already in progress: at the {rate:.0f} s of audio "
                f"per second measured, this request would not be done by its deadline; retry later"
            )
        semaphores = [self._heavy_turns, self._turns] if heavy else [self._turns]
        self._audio_s += audio_s
        self._waiting += 1
        taken: list[asyncio.Semaphore] = []
        try:
            try:
                for semaphore in semaphores:
                    await asyncio.wait_for(semaphore.acquire(), deadline - time.monotonic())
                    taken.append(semaphore)
            except TimeoutError as exc:
                raise busy("no turn before the request's deadline; retry later") from exc
            finally:
                self._waiting -= 1
            self._working += 1
            self.throughput.started()
            done_s = 0.0  # work that failed (past its deadline) counts as none done
            try:
                yield
                done_s = audio_s
            finally:
                self._working -= 1
                self.throughput.finished(done_s)
        finally:
            for semaphore in taken:
                semaphore.release()
            self._audio_s -= audio_s
