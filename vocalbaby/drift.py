"""Data drift of production feature batches against the training features, with Evidently.

Per feature: Evidently's ``wasserstein`` test, the first Wasserstein distance between the
current and the reference values divided by the reference standard deviation ("how far the
distribution moved, in reference standard deviations"). Labels: Evidently's ``jensenshannon``
distance between the shares of the served model's predicted labels and the shares of the
reference model's predictions on the reference (predictions against predictions: a model's
own mistakes are not drift).

Thresholds are calibrated on the unit production sees, a day of one child (:func:`calibrate`,
:class:`Calibration`): every reference child is held out in turn and its clips, whole and in
random day-sized subsets, are compared with the other children's. A feature drifts past the
``quantile`` (0.95) of those distances for it; a batch drifts when the share of drifted features
passes the ``quantile`` of those shares (and at least 10 %); labels drift past the ``quantile``
of the children's label distances. By construction a day of a new child like the reference's
children alarms about 5 % of the time; thresholds drawn across children (random batches of the
whole reference) alarm on half of the ordinary single-child days, because a child's voice,
room and microphone differ from the average. Small batches also need ``3 * sqrt(1/n + 1/m)``
for a feature, whose distance is then mostly sampling noise. Without a calibration, the floors
of :class:`DriftConfig` apply. ``benchmarks/drift_calibration.py`` measures false alarms and
detection per kind of day.

An empty batch, a feature without values in a batch and too few labels are reported with the
reason (``DriftResult.reason``, ``skipped``, ``label_reason``), never as an exception.

Evidently's KS test (its default below 1000 rows) was rejected: it measures evidence, not
size, so the share of features it flags grows with the batch.

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
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from vocalbaby import features, storage
from vocalbaby.features import DEFAULT_FEATURE_SET, feature_names
from vocalbaby.labels import CLASSES
from vocalbaby.report import render

if TYPE_CHECKING:  # Evidently takes seconds to import: the functions that need it import it
    from evidently.core.report import Snapshot

FEATURE_METHOD = "wasserstein"
LABEL_METHOD = "jensenshannon"
LABEL, TIMESTAMP, MODEL_VERSION = "label", "timestamp", "model_version"
SILENT = "silent"  # prediction-log rows of silent windows: no features, no label
PREDICTED = "predicted"  # the reference model's prediction for a reference row
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
class Calibration:
    """Thresholds calibrated on the unit production sees: batches of one child's clips.

    Every reference child is held out in turn; its clips (all of them, and random subsets the
    size of small days) are compared with the other children's, as a day of a new child would
    be. ``feature_thresholds`` is each feature's ``quantile`` of those distances,
    ``drift_share`` the ``quantile`` of the share of features past their thresholds, and
    ``label_threshold`` the ``quantile`` of the label distances: by construction a batch of a
    new child like the reference's alarms with probability about ``1 - quantile``.
    """

    feature_thresholds: dict[str, float]
    drift_share: float
    label_threshold: float | None
    quantile: float
    children: int
    batches: int

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> Calibration:
        """The inverse of :meth:`to_dict`."""
        return cls(**values)


@dataclass(frozen=True)
class DriftConfig:
    """How a batch is judged; with ``calibration``, its thresholds replace the floors.

    A feature drifts at ``max(floor or its calibrated threshold, noise * sqrt(1/n + 1/m))`` for
    ``n`` batch and ``m`` reference rows (small batches are noisier); a batch drifts when the
    share of drifted features reaches ``max(drift_share, calibrated share)``. Labels need
    ``min_label_rows`` predicted labels to be judged at all.
    """

    features: Threshold = Threshold(floor=0.4, noise=3.0)
    labels: Threshold = Threshold(floor=0.1, noise=1.5)
    drift_share: float = 0.1
    min_label_rows: int = 10
    calibration: Calibration | None = None

    def feature_threshold(self, name: str, n: int, m: int) -> float:
        """The distance at which feature ``name`` drifts in a batch of ``n`` rows."""
        found = self.calibration.feature_thresholds if self.calibration else {}
        return max(found.get(name, self.features.floor), self.features.at(n, m))

    def share_threshold(self) -> float:
        """The share of drifted features at which a batch drifts."""
        calibrated = self.calibration.drift_share if self.calibration else 0.0
        return max(self.drift_share, calibrated)

    def label_threshold(self, n: int, m: int) -> float:
        """The Jensen-Shannon distance at which the label distribution drifts."""
        calibrated = self.calibration.label_threshold if self.calibration else None
        return max(calibrated or self.labels.floor, self.labels.at(n, m))


@dataclass
class DriftResult:
    """Drift of one current batch against the reference; ``snapshot`` is Evidently's report.

    ``reason`` says why nothing could be judged (an empty batch); ``skipped`` names the features
    left out and why (no value in the batch or in the reference); ``label_reason`` why the
    labels were not judged; ``silent_rows`` how many rows of silent windows were left out.
    """

    reference_rows: int
    current_rows: int
    scores: pd.Series
    thresholds: pd.Series
    drift_share_threshold: float
    skipped: dict[str, str] = field(default_factory=dict)
    reason: str | None = None
    label_shares: pd.DataFrame | None = None
    label_score: float | None = None
    label_threshold: float | None = None
    label_reason: str | None = None
    calibrated: bool = False
    silent_rows: int = 0
    snapshot: Snapshot | None = field(default=None, repr=False)

    @property
    def drifted(self) -> list[str]:
        """Features whose distance reaches their threshold, largest first."""
        past = self.scores >= self.thresholds.reindex(self.scores.index)
        return self.scores.index[past].tolist()

    @property
    def drift_share(self) -> float:
        """Share of the judged features that drifted (the drift score, 0 to 1)."""
        return len(self.drifted) / len(self.scores) if len(self.scores) else 0.0

    @property
    def dataset_drift(self) -> bool:
        """Whether the drift share reaches the threshold (never for a batch not judged)."""
        return self.reason is None and self.drift_share >= self.drift_share_threshold

    @property
    def label_drift(self) -> bool | None:
        """Whether the predicted-label distribution moved (None when not judged)."""
        if self.label_score is None or self.label_threshold is None:
            return None
        return self.label_score >= self.label_threshold

    def summary(self, top: int = 10) -> dict[str, object]:
        """The figures as plain JSON-able values."""
        return {
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "silent_rows": self.silent_rows,
            "reason": self.reason,
            "calibrated": self.calibrated,
            "method": FEATURE_METHOD,
            "drift_share": self.drift_share,
            "drift_share_threshold": self.drift_share_threshold,
            "dataset_drift": self.dataset_drift,
            "drifted_features": len(self.drifted),
            "skipped_features": self.skipped,
            "top_features": {k: float(v) for k, v in self.scores.head(top).items()},
            "scores": {k: float(v) for k, v in self.scores.items()},
            "thresholds": {k: float(v) for k, v in self.thresholds.items()},
            "label_method": LABEL_METHOD,
            "label_score": self.label_score,
            "label_threshold": self.label_threshold,
            "label_drift": self.label_drift,
            "label_reason": self.label_reason,
            "label_shares": None
            if self.label_shares is None
            else self.label_shares.to_dict(orient="index"),
        }


def silent_rows(frame: pd.DataFrame) -> pd.Series:
    """Which rows are prediction-log rows of silent windows (all ``False`` without the column)."""
    if SILENT not in frame.columns:
        return pd.Series(False, index=frame.index)
    return frame[SILENT].eq(True)


def _numeric(frame: pd.DataFrame, columns: list[str], name: str) -> pd.DataFrame:
    """The feature columns as floats, infinities as NaN; fails naming missing columns."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{name} lacks {len(missing)} feature column(s): {missing[:5]}; drift compares the "
            f"{DEFAULT_FEATURE_SET} features (models of another feature set are not monitored)"
        )
    values = frame[columns].astype("float64").replace([np.inf, -np.inf], np.nan)
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


def reference_labels(reference: pd.DataFrame) -> pd.Series | None:
    """What production's predicted labels are compared with: the reference model's predictions
    on the reference (``predicted``), else the true labels (``label``; a less accurate model
    then looks drifted on undrifted data)."""
    for column in (PREDICTED, LABEL):
        if column in reference:
            return reference[column].astype(str).reset_index(drop=True)
    return None


def _distances(reference: pd.DataFrame, current: pd.DataFrame) -> tuple[pd.Series, dict]:
    """Per-feature normed Wasserstein distance of the features with values on both sides, and
    the reason each other feature was skipped."""
    scores, skipped = {}, {}
    for column in current.columns:
        if reference[column].notna().sum() == 0:
            skipped[column] = "no value in the reference"
        elif current[column].notna().sum() == 0:
            skipped[column] = "no value in this batch"
        else:
            scores[column] = _test(FEATURE_METHOD, "num", reference[column], current[column])
    return pd.Series(scores, dtype=float), skipped


def compare(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    config: DriftConfig = DriftConfig(),
    report: bool = True,
) -> DriftResult:
    """Drift of ``current`` against ``reference`` on the 88 features and the labels.

    Both frames need the 88 eGeMAPS columns. Current rows of silent windows (:data:`SILENT`) are
    left out of every test and counted (``silent_rows``). Current ``label`` (the served model's
    predictions) is compared with :func:`reference_labels` when both exist. A batch with no rows,
    a feature without values and labels too few to judge get a reason instead of an error.
    ``report=True`` also runs the Evidently report (seconds) kept as ``snapshot`` for
    :func:`save`; the figures are the same either way.
    """
    columns = list(feature_names())
    silent = silent_rows(current)
    current = current[~silent]
    ref = _numeric(reference, columns, "reference")
    cur = _numeric(current, columns, "current")
    n, m = len(cur), len(ref)
    if n == 0:
        empty = pd.Series(dtype=float)
        return DriftResult(
            m, 0, empty, empty, config.share_threshold(), reason="no rows",
            silent_rows=int(silent.sum()),
        )  # fmt: skip
    scores, skipped = _distances(ref, cur)
    scores = scores.sort_values(ascending=False, kind="stable")
    thresholds = pd.Series({c: config.feature_threshold(c, n, m) for c in scores.index})
    result = DriftResult(
        m, n, scores, thresholds, config.share_threshold(), skipped,
        calibrated=config.calibration is not None, silent_rows=int(silent.sum()),
    )  # fmt: skip
    ref_labels = reference_labels(reference)
    if ref_labels is not None and LABEL in current:
        _judge_labels(result, ref_labels, current[LABEL], config)
        if result.label_score is not None:
            ref[LABEL] = ref_labels
            cur[LABEL] = current[LABEL].astype(str).reset_index(drop=True)
    if report:
        result.snapshot = _report(ref, cur, result)
    return result


def _judge_labels(
    result: DriftResult, reference: pd.Series, current: pd.Series, config: DriftConfig
) -> None:
    labelled = current.dropna().astype(str).reset_index(drop=True)
    if len(labelled) < config.min_label_rows:
        result.label_reason = (
            f"only {len(labelled)} predicted label(s); at least {config.min_label_rows} needed"
        )
        return
    result.label_shares = _label_shares(reference, labelled)
    result.label_score = _test(LABEL_METHOD, "cat", reference, labelled)
    result.label_threshold = config.label_threshold(len(labelled), len(reference))


def calibrate(
    reference: pd.DataFrame,
    config: DriftConfig = DriftConfig(),
    quantile: float = 0.95,
    days_per_child: int = 6,
    min_children: int = 8,
    seed: int = 0,
) -> Calibration:
    """Thresholds from single-child batches of the reference (see :class:`Calibration`).

    ``reference`` needs ``child_id`` (and ``predicted`` or ``label`` for the label threshold).
    Each child is compared with the other children, whole and in ``days_per_child - 1`` random
    subsets of its clips (of random size, from ``config.min_label_rows`` up), as days of
    different lengths. Raises ``ValueError`` with fewer than ``min_children`` children.
    """
    children = reference["child_id"].astype(str).to_numpy()
    names = pd.unique(children)
    if len(names) < min_children:
        raise ValueError(
            f"{len(names)} children in the reference; calibrating on single-child batches needs "
            f"at least {min_children}"
        )
    rng = np.random.default_rng(seed)
    columns = list(feature_names())
    values = _numeric(reference, columns, "reference")
    labels = reference_labels(reference)
    distances, label_scores, sizes = [], [], []
    for name in names:
        own = np.flatnonzero(children == name)
        rest = np.flatnonzero(children != name)
        low = min(config.min_label_rows, len(own))
        sizes_drawn = rng.integers(low, len(own) + 1, days_per_child - 1)
        batches = [own] + [rng.choice(own, s, replace=False) for s in sizes_drawn]
        for batch in batches:
            scores, _ = _distances(values.iloc[rest], values.iloc[batch])
            distances.append(scores.reindex(columns))
            sizes.append((len(batch), len(rest)))
            if labels is not None and len(batch) >= config.min_label_rows:
                label_scores.append(
                    _test(LABEL_METHOD, "cat", labels.iloc[rest], labels.iloc[batch])
                )
    table = pd.DataFrame(distances)
    thresholds = table.quantile(quantile).fillna(config.features.floor)
    shares = [
        float(np.mean([row[c] >= max(thresholds[c], config.features.at(n, m)) for c in columns]))
        for (_, row), (n, m) in zip(table.iterrows(), sizes, strict=True)
    ]
    return Calibration(
        feature_thresholds={c: float(v) for c, v in thresholds.items()},
        drift_share=float(np.quantile(shares, quantile)),
        label_threshold=float(np.quantile(label_scores, quantile)) if label_scores else None,
        quantile=quantile,
        children=len(names),
        batches=len(table),
    )


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
            per_column_threshold={c: float(v) for c, v in result.thresholds.items()},
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
        Dataset.from_pandas(current[[*columns, *categorical]], data_definition=definition),
        Dataset.from_pandas(reference[[*columns, *categorical]], data_definition=definition),
    )


def save(result: DriftResult, html_uri: str) -> dict[str, str]:
    """Write the Evidently HTML report and a JSON file (our figures + Evidently's metrics).

    The JSON goes beside the HTML with a ``.json`` suffix; both may be local or ``s3://``. A
    batch that could not be judged (no Evidently report) gets a page saying why.
    """
    json_uri = re.sub(r"(\.html?)?$", ".json", html_uri, count=1)
    document: dict[str, object] = result.summary()
    if result.snapshot is not None:
        document["evidently"] = json.loads(result.snapshot.json())
        page = result.snapshot.get_html_str(as_iframe=False)
    else:
        page = render("VocalBaby drift report", [("Not judged", [result.reason or ""])])
    storage.write_bytes(html_uri, page.encode())
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

    Keeps the 88 features, ``label``, ``timestamp``, and ``model_version`` and :data:`SILENT`
    when logged (silent-window rows: see :func:`silent_rows`); raises
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
    return frame[required + [c for c in (MODEL_VERSION, SILENT) if c in frame.columns]]


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
