"""Progress log lines with counts and rates for long asset computations."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


def progress_logger(
    log: logging.Logger | logging.LoggerAdapter, what: str, every_s: float = 5.0
) -> Callable[[int, int], None]:
    """A ``progress(done, total)`` callback logging ``done/total``, the rate and an ETA."""
    started = time.perf_counter()
    last = [started]

    def report(done: int, total: int) -> None:
        now = time.perf_counter()
        if done < total and now - last[0] < every_s and done != 1:
            return
        last[0] = now
        rate = done / max(now - started, 1e-9)
        eta = (total - done) / rate if rate > 0 else float("nan")
        log.info(
            f"{what}: {done}/{total} ({100 * done / max(total, 1):.0f} %), "
            f"{rate:.1f}/s, ETA {eta:.0f} s"
        )

    return report
