"""Retries, with exponential backoff, of steps that lose S3 for a while.

A step that cannot reach S3 (:func:`vocalbaby.storage.is_unreachable`: refused, reset, timed
out), in its compute function (decorated with :func:`retry_on_outage`) or in the IO manager
(:class:`OutageRetryingS3IOManager`), asks Dagster to run it again after 2, 4, 8, ... seconds
(at most 60), up to ``OUTAGE_RETRIES`` times. Any other error fails the step at once: bad input
is not retried. Work already persisted (the feature cache's batches) is not redone.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from dagster import AssetExecutionContext, InputContext, OutputContext, RetryRequested
from dagster_aws.s3 import S3PickleIOManager

from vocalbaby.storage import is_unreachable

OUTAGE_RETRIES = 6
FIRST_DELAY_S = 2.0
MAX_DELAY_S = 60.0

P = ParamSpec("P")
R = TypeVar("R")


def outage_delay(retry_number: int) -> float:
    """Seconds to wait before retry ``retry_number + 1`` (0 for the first retry)."""
    return min(FIRST_DELAY_S * 2**retry_number, MAX_DELAY_S)


@contextmanager
def retried_on_outage(
    retry_number: int, log: logging.Logger | logging.LoggerAdapter
) -> Iterator[None]:
    """Turn an S3 outage inside the block into a :class:`dagster.RetryRequested` with backoff."""
    try:
        yield
    except Exception as exc:
        if not is_unreachable(exc):
            raise
        wait = outage_delay(retry_number)
        log.warning(
            f"S3 outage: {exc} (attempt {retry_number + 1} of {OUTAGE_RETRIES + 1}; "
            f"retrying in {wait:.0f} s)"
        )
        raise RetryRequested(max_retries=OUTAGE_RETRIES, seconds_to_wait=wait) from exc


def retry_on_outage(compute: Callable[P, R]) -> Callable[P, R]:
    """Wrap an asset's compute function (put it under ``@asset``) to retry S3 outages."""

    @functools.wraps(compute)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        context = AssetExecutionContext.get()
        with retried_on_outage(context.retry_number, context.log):
            return compute(*args, **kwargs)

    return wrapper


class OutageRetryingS3IOManager(S3PickleIOManager):
    """dagster-aws' pickling S3 IO manager, whose S3 outages retry the step like
    :func:`retry_on_outage` does."""

    def load_input(self, context: InputContext) -> Any:
        """Load as the parent does; an outage retries the step."""
        with retried_on_outage(context.step_context.previous_attempt_count, context.log):
            return super().load_input(context)

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        """Store as the parent does; an outage retries the step."""
        with retried_on_outage(context.step_context.previous_attempt_count, context.log):
            super().handle_output(context, obj)
