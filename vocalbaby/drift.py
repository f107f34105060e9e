"""Data drift of production feature batches against the training features, with Evidently.

Per feature: Evidently's ``wasserstein`` test, the first Wasserstein distance between the
current and the reference values divided by the reference standard deviation ("how far the
distribution moved, in reference standard deviations"). A feature drifts when its distance
reaches ``max(0.4, 3 * sqrt(1/n + 1/m))`` for ``n`` current and ``m`` reference rows: 0.4 above
about 60 rows, higher for small batches, whose distances are mostly sampling noise.

Dataset: drift when at least 10 % of the 88 features drift (``drift_share``).

Labels: Evidently's ``jensenshannon`` distance between the predicted-label shares and the
training label shares, flagged at ``max(0.1, 1.5 * sqrt(1/n + 1/m))``.

Calibration (``benchmarks/drift_calibration.py``; reference: the train split of the 600-clip
demo set, 367 clips; 200 random batches of 20, 30, 50, 100 and 200 rows per set):

- false alarms: samples of the reference itself 0 of 1000 (mean drift share <= 1.2 %);
  clips of held-out children <= 2.5 %, a demo set of all-new children <= 7 % (at 50 rows);
  the label distribution <= 0.5 %;
- flagged at >= 50 rows: gain -12 dB or +6 dB (98-100 %, drift share 0.14-0.19), noise at
  20 dB SNR (100 %, 0.16-0.18), both (100 %, 0.22-0.25), real recordings against the
  synthetic reference (100 %, 0.30-0.35, and their labels 100 %); noise at 30 dB SNR, a mild
  shift, 66-94 %. At 20 rows only large shifts are flagged (43-95 %).

Evidently's KS test (its default below 1000 rows) was rejected: it measures evidence, not
size, so the share of features it flags grows with the batch. At p < 0.05 and 200 rows it
flags 33 % of the features for clips of held-out children and 26 % for a 12 dB gain change.

>>> result = compare(reference, current, report=False)  # doctest: +SKIP
>>> result.drift_share, result.drifted[:3]  # doctest: +SKIP
(0.27, ['mfcc1_sma3_amean', 'mfcc4_sma3_amean', 'mfcc2_sma3_stddevNorm'])
"""

from __future__ import annotations

import io
import json
import math
import re
import zlib
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from vocalbaby import features, storage
from vocalbaby.features import feature_names
from vocalbaby.labels import CLASSES

if TYPE_CHECKING:  # Evidently takes seconds to import: the functions that need it import it
    from evidently.core.report import Snapshot

FEATURE_METHOD = "wasserstein"
LABEL_METHOD = "jensenshannon"
LABEL, TIMESTAMP, MODEL_VERSION = "label", "timestamp", "model_version"
LOG_FILE = re.compile(r"(?:^|/)date=(?P<day>\d{4}-\d{2}-\d{2})/[^/]+\.parquet$")


@dataclass(frozen=True)
class Threshold:
    """A distance threshold that stays above the sampling noise of small samples.

    ``at(n, m) = max(floor, noise * sqrt(1/n + 1/m))``: the distance between two samples of one
    distribution shrinks like ``sqrt(1/n + 1/m)``, so small batches need a larger distance.
    """

    floor: float
    noise: float

    def at(self, current_rows: int, reference_rows: int) -> float:
        """The threshold for ``current_rows`` compared against ``reference_rows``."""
        return max(self.floor, self.noise * math.sqrt(1 / current_rows + 1 / reference_rows))


@dataclass(frozen=True)
class DriftConfig:
    """Per-feature and label thresholds, and the share of drifted features that is drift."""

    features: Threshold = Threshold(floor=0.4, noise=3.0)
    labels: Threshold = Threshold(floor=0.1, noise=1.5)
    drift_share: float = 0.1


@dataclass
class DriftResult:
    """Drift of one current batch against the reference; ``snapshot`` is Evidently's report."""

    reference_rows: int
    current_rows: int
    scores: pd.Series
    feature_threshold: float
    drift_share_threshold: float
    label_shares: pd.DataFrame | None = None
    label_score: float | None = None
    label_threshold: float | None = None
    snapshot: Snapshot | None = field(default=None, repr=False)

    @property
    def drifted(self) -> list[str]:
        """Features whose distance reaches the threshold, largest first."""
        return self.scores.index[self.scores >= self.feature_threshold].tolist()

    @property
    def drift_share(self) -> float:
        """Share of the features that drifted (the drift score, 0 to 1)."""
        return len(self.drifted) / len(self.scores)

    @property
    def dataset_drift(self) -> bool:
        """Whether the drift share reaches the configured share."""
        return self.drift_share >= self.drift_share_threshold

    @property
    def label_drift(self) -> bool | None:
        """Whether the predicted-label distribution moved (None without labels)."""
        if self.label_score is None or self.label_threshold is None:
            return None
        return self.label_score >= self.label_threshold

    def summary(self, top: int = 10) -> dict[str, object]:
        """The figures as plain JSON-able values."""
        return {
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "method": FEATURE_METHOD,
            "feature_threshold": self.feature_threshold,
            "drift_share": self.drift_share,
            "drift_share_threshold": self.drift_share_threshold,
            "dataset_drift": self.dataset_drift,
            "drifted_features": len(self.drifted),
            "top_features": {k: float(v) for k, v in self.scores.head(top).items()},
            "scores": {k: float(v) for k, v in self.scores.items()},
            "label_method": LABEL_METHOD,
            "label_score": self.label_score,
            "label_threshold": self.label_threshold,
            "label_drift": self.label_drift,
            "label_shares": None
            if self.label_shares is None
            else self.label_shares.to_dict(orient="index"),
        }


def _finite(frame: pd.DataFrame, columns: list[str], name: str) -> pd.DataFrame:
    """The feature columns as floats, infinities as NaN; fails on missing or empty columns."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks {len(missing)} feature column(s): {missing[:5]}")
    values = frame[columns].astype("float64").replace([np.inf, -np.inf], np.nan)
    empty = values.columns[values.isna().all()].tolist()
    if empty:
        raise ValueError(f"{name} has no finite value in column(s) {empty[:5]}")
    return values.reset_index(drop=True)


def _test(method: str, kind: str, reference: pd.Series, current: pd.Series) -> float:
    """Evidently's score for one ``num`` or ``cat`` column (the test its report runs)."""
    from evidently.legacy.calculations.stattests.registry import get_registered_stattest
    from evidently.legacy.core import ColumnType

    column_type = ColumnType(kind)
    test = get_registered_stattest(method, column_type)
    return float(test(reference.dropna(), current.dropna(), column_type, None).drift_score)


def _label_shares(reference: pd.Series, current: pd.Series) -> pd.DataFrame:
    """Share of each class (rows) in the reference and the current labels (columns)."""
    classes = list(CLASSES) + sorted((set(reference) | set(current)) - set(CLASSES))
    return (
        pd.DataFrame(
            {
                "reference": reference.value_counts(normalize=True),
                "current": current.value_counts(normalize=True),
            }
        )
        .reindex(classes)
        .fillna(0.0)
    )


def compare(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    config: DriftConfig = DriftConfig(),
    report: bool = True,
) -> DriftResult:
    """Drift of ``current`` against ``reference`` on the 88 features and the ``label`` column.

    Both frames need the 88 eGeMAPS columns; the label distributions are compared when both
    have a ``label`` column. ``report=True`` also runs the Evidently report (about 10 s) kept
    as ``snapshot`` for :func:`save`; the figures are the same either way.
    """
    columns = list(feature_names())
    ref, cur = _finite(reference, columns, "reference"), _finite(current, columns, "current")
    n, m = len(cur), len(ref)
    scores = pd.Series(
        {c: _test(FEATURE_METHOD, "num", ref[c], cur[c]) for c in columns}
    ).sort_values(ascending=False, kind="stable")
    result = DriftResult(m, n, scores, config.features.at(n, m), config.drift_share)
    if LABEL in reference and LABEL in current:
        ref_labels = reference[LABEL].astype(str).reset_index(drop=True)
        cur_labels = current[LABEL].astype(str).reset_index(drop=True)
        ref[LABEL], cur[LABEL] = ref_labels, cur_labels
        result.label_shares = _label_shares(ref_labels, cur_labels)
        result.label_score = _test(LABEL_METHOD, "cat", ref_labels, cur_labels)
        result.label_threshold = config.labels.at(n, m)
    if report:
        result.snapshot = _report(ref, cur, result)
    return result


def _report(reference: pd.DataFrame, current: pd.DataFrame, result: DriftResult) -> Snapshot:
    """Evidently's report with the thresholds ``result`` was judged by."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift
    from evidently.presets import DataDriftPreset

    columns = list(result.scores.index)
    metrics: list[DataDriftPreset | ValueDrift] = [
        DataDriftPreset(
            columns=columns,
            method=FEATURE_METHOD,
            threshold=result.feature_threshold,
            drift_share=result.drift_share_threshold,
        )
    ]
    categorical = []
    if result.label_threshold is not None:
        categorical = [LABEL]
        metrics.append(
            ValueDrift(column=LABEL, method=LABEL_METHOD, threshold=result.label_threshold)
        )
    definition = DataDefinition(numerical_columns=columns, categorical_columns=categorical)
    return Report(metrics).run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )


def save(result: DriftResult, html_uri: str) -> dict[str, str]:
    """Write the Evidently HTML report and a JSON file (our figures + Evidently's metrics).

    The JSON goes beside the HTML with a ``.json`` suffix; both may be local or ``s3://``.
    """
    if result.snapshot is None:
        raise ValueError("no Evidently report: call compare(..., report=True)")
    json_uri = re.sub(r"(\.html?)?$", ".json", html_uri, count=1)
    document = {**result.summary(), "evidently": json.loads(result.snapshot.json())}
    storage.write_bytes(html_uri, result.snapshot.get_html_str(as_iframe=False).encode())
    storage.write_bytes(json_uri, json.dumps(document, indent=2).encode())
    return {"html": html_uri, "json": json_uri}


def log_files(uri: str) -> dict[str, list[str]]:
    """Prediction-log parquet files under ``uri``, by their ``date=YYYY-MM-DD`` folder.

    Files outside such a folder are not part of the log and are left out.
    """
    days: dict[str, list[str]] = defaultdict(list)
    for key in storage.list_keys(uri):
        match = LOG_FILE.search(key)
        if match:
            days[match["day"]].append(key)
    return dict(sorted(days.items()))


def read_log(uri: str, day: str | None = None) -> pd.DataFrame:
    """The prediction-log rows under ``uri`` (one day's when ``day`` is given).

    Keeps the 88 features, ``label``, ``timestamp`` and ``model_version`` (when logged); raises
    ``FileNotFoundError`` when there is no file and ``ValueError`` naming a file that lacks one.
    """
    root = storage.join(uri, f"date={day}") if day else uri
    files = [f for batch in log_files(root).values() for f in batch]
    if not files:
        raise FileNotFoundError(f"no prediction log files (date=YYYY-MM-DD/*.parquet) in {root}")
    return pd.concat([_read_batch(f) for f in files], ignore_index=True)


def _read_batch(uri: str) -> pd.DataFrame:
    frame = pd.read_parquet(io.BytesIO(storage.read_bytes(uri)))
    required = [*feature_names(), LABEL, TIMESTAMP]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(f"{uri}: not a prediction log file, missing {missing[:5]}")
    return frame[required + ([MODEL_VERSION] if MODEL_VERSION in frame.columns else [])]


def manifest_features(
    manifest: pd.DataFrame, transform: Callable[[Hashable, np.ndarray], np.ndarray] | None = None
) -> pd.DataFrame:
    """The 88 features, ``label`` and ``child_id`` of the clips of a :func:`dataset.read` manifest.

    ``transform(clip_id, samples)`` changes each decoded signal first (e.g. :func:`channel_shift`
    with a random generator seeded by the clip id, so the result does not depend on the order the
    worker threads run in). Raises
    :class:`vocalbaby.features.FeatureError` naming every clip that could not be used.
    """
    manifest = manifest.set_index("clip_id")
    extracted = features.extract_files(manifest["uri"].to_dict(), transform=transform)
    if extracted.failures:
        raise features.FeatureError(extracted.failures)
    return extracted.features.rename_axis("clip_id").join(manifest[[LABEL, "child_id"]])


def channel_shift(
    samples: np.ndarray, gain_db: float, snr_db: float | None, rng: np.random.Generator
) -> np.ndarray:
    """A recording-channel change (new microphone, room or gain setting) for calibration.

    Scales the signal by ``gain_db`` and adds white noise ``snr_db`` below its power.
    """
    shifted = samples * np.float32(10 ** (gain_db / 20))
    if snr_db is not None:
        power = float(np.mean(shifted**2)) + 1e-12
        shifted = shifted + rng.normal(0, math.sqrt(power / 10 ** (snr_db / 10)), shifted.shape)
    return np.clip(shifted, -1, 1).astype(np.float32)


def push(
    result: DriftResult,
    gateway_url: str,
    labels: Mapping[str, str] | None = None,
    job: str = "vocalbaby_drift",
) -> None:
    """Push the drift score and drifted-feature count to a Prometheus Pushgateway.

    Replaces the ``job`` group, so the gateway always holds the latest report's figures.
    """
    from prometheus_client import CollectorRegistry, Gauge, push_to_gateway  # only when pushing

    registry = CollectorRegistry()
    labels = dict(labels or {})
    values = {
        "vocalbaby_drift_score": (
            "Share of the 88 features that drifted (0-1).",
            result.drift_share,
        ),
        "vocalbaby_drifted_features": ("Number of features that drifted.", len(result.drifted)),
        "vocalbaby_drift_share_threshold": (
            "Drift score at which the batch counts as drifted.",
            result.drift_share_threshold,
        ),
    }
    if result.label_score is not None:
        values["vocalbaby_label_drift_score"] = (
            "Jensen-Shannon distance of predicted vs training label shares.",
            result.label_score,
        )
    for name, (doc, value) in values.items():
        gauge = Gauge(name, doc, list(labels), registry=registry)
        (gauge.labels(**labels) if labels else gauge).set(value)
    push_to_gateway(gateway_url, job=job, registry=registry)


def clip_rng(clip_id: Hashable, seed: int = 0) -> np.random.Generator:
    """A random generator of its own for each clip (stable across runs and thread orders)."""
    return np.random.default_rng([seed, zlib.crc32(str(clip_id).encode())])
