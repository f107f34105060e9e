"""Admission of work: a fixed number of requests at once and a bounded queue for the rest.

A request that finds the queue full is refused at once (503 with ``Retry-After``) before its
body is read, so memory holds at most ``running + queued`` bodies and never grows with the
number of clients. One that waits past its deadline is refused the same way.
"""

from __future__ import annotations

import asyncio
from http import HTTPStatus

from vocalbaby_service.errors import RequestError

RETRY_AFTER_S = 2


def busy(message: str) -> RequestError:
    """A 503 refusal a client should retry after :data:`RETRY_AFTER_S` seconds."""
    return RequestError(
        HTTPStatus.SERVICE_UNAVAILABLE, "busy", message, retry_after_s=RETRY_AFTER_S
    )


class Admission:
    """At most ``running`` requests at once, ``queued`` more waiting their turn."""

    def __init__(self, running: int, queued: int) -> None:
        self.running = running
        self.queued = queued
        self._active = 0
        self._waiting = 0
        self._slots = asyncio.Semaphore(running)

    @property
    def load(self) -> tuple[int, int]:
        """Requests running and waiting now."""
        return self._active, self._waiting

    async def acquire(self, timeout_s: float) -> None:
        """Wait (up to ``timeout_s``) for a turn; raises the 503 :class:`RequestError` when the
        queue is full or the wait times out. Every turn taken is given back with
        :meth:`release`."""
        if self._active + self._waiting >= self.running + self.queued:
            raise busy(f"{self._active} requests running and {self._waiting} queued; retry later")
        self._waiting += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), timeout_s)
        except TimeoutError as exc:
            raise busy(f"no turn within {timeout_s:g} s; retry later") from exc
        finally:
            self._waiting -= 1
        self._active += 1

    def release(self) -> None:
        """Give a turn back to the next request waiting."""
        self._active -= 1
        self._slots.release()
