"""The service's Prometheus metrics (telemetry), exposed on BentoML's ``/metrics`` with its own.

(Model-quality metrics such as UAR live in :mod:`vocalbaby.metrics`.)

They are created through ``bentoml.metrics`` on first use in the worker process, after BentoML has
set up Prometheus' multiprocess directory, so every worker's values reach ``/metrics``.

- ``vocalbaby_requests_total{endpoint,status}`` and ``vocalbaby_request_latency_seconds{endpoint}``:
  every request to an API endpoint, including rejected ones (recorded by the middleware).
- ``vocalbaby_prediction_errors_total{error_type}``: rejected files and requests, by reason.
- ``vocalbaby_predictions_total{label,model_version}``: classified clips and segments.
- ``vocalbaby_model_info{version,tag,feature_set}``: 1 for the model being served.
- ``vocalbaby_prediction_log_rows_total{outcome}``: prediction-log rows accepted (spooled for
  writing), written (shipped), dropped (log full) or failed (storage error; retried).
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import bentoml

if TYPE_CHECKING:  # the real objects come from bentoml.metrics at run time
    from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)


@dataclass(frozen=True)
class Metrics:
    """The metric objects (prometheus_client types, through ``bentoml.metrics``)."""

    requests: Counter
    latency: Histogram
    errors: Counter
    predictions: Counter
    model_info: Gauge
    log_rows: Counter

    def observe_request(self, endpoint: str, status: int, seconds: float) -> None:
        """Count one finished request and its latency."""
        self.requests.labels(endpoint=endpoint, status=str(status)).inc()
        self.latency.labels(endpoint=endpoint).observe(seconds)

    def count_predictions(self, labels: Iterable[str | None], model_version: str) -> None:
        """Count classified clips or segments by label (``None``, a silent window, is not one)."""
        for label, count in collections.Counter(x for x in labels if x is not None).items():
            self.predictions.labels(label=label, model_version=model_version).inc(count)


@functools.cache
def get() -> Metrics:
    """The metrics of this process, created on first call."""
    metrics = bentoml.metrics
    return Metrics(
        requests=metrics.Counter(
            name="vocalbaby_requests",
            documentation="Requests to VocalBaby API endpoints by endpoint and HTTP status.",
            labelnames=["endpoint", "status"],
        ),
        latency=metrics.Histogram(
            name="vocalbaby_request_latency_seconds",
            documentation="Latency of VocalBaby API requests in seconds.",
            labelnames=["endpoint"],
            buckets=LATENCY_BUCKETS,
        ),
        errors=metrics.Counter(
            name="vocalbaby_prediction_errors",
            documentation="Rejected files and requests by error type.",
            labelnames=["error_type"],
        ),
        predictions=metrics.Counter(
            name="vocalbaby_predictions",
            documentation="Classified clips and segments by predicted label and model version.",
            labelnames=["label", "model_version"],
        ),
        model_info=metrics.Gauge(
            name="vocalbaby_model_info",
            documentation="The model being served (value 1).",
            labelnames=["version", "tag", "feature_set"],
            multiprocess_mode="max",
        ),
        log_rows=metrics.Counter(
            name="vocalbaby_prediction_log_rows",
            documentation="Prediction-log rows by outcome: accepted, written, dropped, failed.",
            labelnames=["outcome"],
        ),
    )
