"""The model bundle: median imputer + classifier + label order + feature names + metadata.

A bundle is a folder (local or ``s3://``) of three JSON files, no pickles: the classifier
(``booster.json``, an XGBoost booster in XGBoost's own format, or ``linear.json``, a linear SVM,
see :mod:`vocalbaby.linear`), ``imputer.json`` (per-feature medians) and ``bundle.json``
(classes, feature names, openSMILE config, training metadata).

>>> bundle = ModelBundle.load("artifacts/models/latest")  # doctest: +SKIP
>>> bundle.predict_proba(features_frame).columns.tolist()  # doctest: +SKIP
['canonical', 'non_canonical', 'crying', 'laughing', 'junk']
"""

from __future__ import annotations

import json
import os
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xgboost as xgb

from vocalbaby import storage
from vocalbaby.features import (
    DEFAULT_FEATURE_SET,
    FEATURE_SETS,
    extractor_config,
    feature_names,
)
from vocalbaby.linear import FAMILY as LINEAR_SVM
from vocalbaby.linear import LinearClassifier
from vocalbaby.normalisation import RecordingNormalisation

BOOSTER_FILE, IMPUTER_FILE, BUNDLE_FILE = "booster.json", "imputer.json", "bundle.json"
LINEAR_FILE = "linear.json"
XGBOOST = "xgboost"
FAMILIES = (XGBOOST, LINEAR_SVM)  # in order of preference: XGBoost unless the SVM earns it
LATEST_POINTER = "latest.json"
FORMAT_VERSION = 1


Recordings = Sequence[Hashable] | pd.Series | None


class ModelError(RuntimeError):
    """A model bundle is missing, unreadable, or does not fit the features it is given."""


@dataclass
class ModelBundle:
    """Everything needed to turn features into class probabilities: an XGBoost ``booster``, or
    a ``linear`` SVM in its place (``booster`` is then ``None``)."""

    booster: xgb.Booster | None
    medians: pd.Series
    classes: list[str]
    feature_names: list[str]
    feature_config: dict[str, object] = field(default_factory=extractor_config)
    metadata: dict[str, object] = field(default_factory=dict)
    temperature: float = 1.0  # probability calibration (1: none); never changes the argmax
    normalisation: RecordingNormalisation | None = None  # per-recording, before imputation
    linear: LinearClassifier | None = None

    @property
    def family(self) -> str:
        """The classifier's model family: ``"xgboost"`` or ``"linear_svm"``."""
        return LINEAR_SVM if self.linear is not None else XGBOOST

    @property
    def feature_set(self) -> str:
        """The openSMILE feature set the model was trained on (serving extracts the same)."""
        return str(self.feature_config.get("feature_set", DEFAULT_FEATURE_SET))

    @property
    def version(self) -> str:
        """The bundle's version string (set when it is trained)."""
        return str(self.metadata.get("version", "unversioned"))

    def _matrix(self, features: pd.DataFrame, recordings: Recordings = None) -> np.ndarray:
        if list(features.columns) == self.feature_names:  # as extracted: no selection to make
            frame = features
        else:
            missing = [c for c in self.feature_names if c not in features.columns]
            if missing:
                raise ModelError(
                    f"missing feature column(s): {missing[:10]} ({len(missing)} in all)"
                )
            frame = features[self.feature_names]
        if not all(pd.api.types.is_numeric_dtype(t) for t in frame.dtypes):
            frame = frame.apply(pd.to_numeric, errors="coerce")
        if self.normalisation is not None:
            frame = self.normalisation.apply(frame, recordings)
        values = frame.to_numpy(dtype=np.float64)
        return np.where(np.isnan(values), self.medians.to_numpy(dtype=np.float64), values)

    def predict_proba(self, features: pd.DataFrame, recordings: Recordings = None) -> pd.DataFrame:
        """Class probabilities, one row per input row, columns in :attr:`classes` order.

        ``recordings`` names each row's recording, for a bundle with per-recording
        :attr:`normalisation` (``None``: every row is a recording of its own); others ignore it.
        """
        values = self._matrix(features, recordings)
        if self.linear is not None:
            found = self.linear.predict_proba(values)
            proba = np.zeros((len(features), len(self.classes)))
            proba[:, [self.classes.index(c) for c in self.linear.classes]] = found
        else:
            found = self.booster.inplace_predict(values.astype(np.float32))
            proba = np.asarray(found).reshape(len(features), -1)
        if self.temperature != 1.0:
            proba = apply_temperature(proba, self.temperature)
        return pd.DataFrame(proba, index=features.index, columns=self.classes)

    def predict(self, features: pd.DataFrame, recordings: Recordings = None) -> pd.Series:
        """The most probable class of each row."""
        return self.predict_proba(features, recordings).idxmax(axis=1).rename("label")

    def importance(self) -> pd.Series:
        """Each feature's share of the model's importance (sums to 1), largest first: total
        split gain for XGBoost, mean absolute weight on 0..1-scaled features for a linear SVM."""
        if self.linear is not None:
            found = pd.Series(self.linear.importance(), index=self.feature_names)
        else:
            gain = self.booster.get_score(importance_type="total_gain")
            names = {f"f{i}": name for i, name in enumerate(self.feature_names)}
            found = pd.Series({names.get(k, k): v for k, v in gain.items()}, dtype=float)
        return (found / (found.sum() or 1.0)).sort_values(ascending=False)

    def save(self, uri: str | os.PathLike[str]) -> str:
        """Write the bundle's files under ``uri`` (a folder or S3 prefix) and return ``uri``."""
        uri = str(uri)
        if self.linear is not None:
            storage.write_bytes(storage.join(uri, LINEAR_FILE), _dumps(self.linear.to_dict()))
        else:
            raw = bytes(self.booster.save_raw("json"))
            storage.write_bytes(storage.join(uri, BOOSTER_FILE), raw)
        storage.write_bytes(storage.join(uri, IMPUTER_FILE), _dumps(self.medians.to_dict()))
        manifest = {
            "format_version": FORMAT_VERSION,
            "classes": self.classes,
            "feature_names": self.feature_names,
            "feature_config": self.feature_config,
            "metadata": self.metadata,
            "temperature": self.temperature,
            "normalisation": self.normalisation.to_dict() if self.normalisation else None,
        }
        storage.write_bytes(storage.join(uri, BUNDLE_FILE), _dumps(manifest))
        return uri

    @classmethod
    def load(cls, uri: str | os.PathLike[str]) -> ModelBundle:
        """Load a bundle folder, or the bundle a ``latest.json`` pointer file names."""
        uri = resolve(str(uri))
        try:
            manifest = json.loads(storage.read_bytes(storage.join(uri, BUNDLE_FILE)))
            medians = json.loads(storage.read_bytes(storage.join(uri, IMPUTER_FILE)))
            booster, classifier = _classifier(uri)
        except FileNotFoundError as exc:
            raise ModelError(f"{uri}: not a model bundle ({exc} missing)") from exc
        if manifest.get("format_version") != FORMAT_VERSION:
            raise ModelError(f"{uri}: unsupported bundle format {manifest.get('format_version')}")
        return cls(
            booster=booster,
            medians=pd.Series(medians, dtype=np.float64).reindex(manifest["feature_names"]),
            classes=manifest["classes"],
            feature_names=manifest["feature_names"],
            feature_config=manifest["feature_config"],
            metadata=manifest["metadata"],
            temperature=float(manifest.get("temperature", 1.0)),
            normalisation=RecordingNormalisation.from_dict(manifest["normalisation"])
            if manifest.get("normalisation")
            else None,
            linear=classifier,
        )


def _classifier(uri: str) -> tuple[xgb.Booster | None, LinearClassifier | None]:
    """The bundle's XGBoost booster or, when it has none, its linear SVM."""
    linear_uri = storage.join(uri, LINEAR_FILE)
    if storage.exists(linear_uri):
        return None, LinearClassifier.from_dict(json.loads(storage.read_bytes(linear_uri)))
    booster = xgb.Booster()
    booster.load_model(bytearray(storage.read_bytes(storage.join(uri, BOOSTER_FILE))))
    return booster, None


def extractor_config_for(names: Sequence[str]) -> dict[str, object]:
    """The extractor configuration of the feature set whose names are ``names`` (the default
    set's for columns of no known set, e.g. toy features in tests)."""
    for name in FEATURE_SETS:
        if list(names) == list(feature_names(name)):
            return extractor_config(name)
    return extractor_config()


def apply_temperature(proba: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities rescaled as ``softmax(log(p) / temperature)``: the argmax never changes."""
    logits = np.log(np.clip(proba, 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    scaled = np.exp(logits)
    return scaled / scaled.sum(axis=1, keepdims=True)


def _dumps(obj: object) -> bytes:
    return json.dumps(obj, indent=2, sort_keys=True, default=str, allow_nan=True).encode()


def resolve(uri: str) -> str:
    """Follow a models folder's ``latest.json`` pointer; other URIs are returned as they are."""
    pointer = storage.join(uri, LATEST_POINTER)
    if storage.exists(pointer):
        return json.loads(storage.read_bytes(pointer))["uri"]
    return uri


def publish_latest(models_uri: str, bundle_uri: str, version: str) -> None:
    """Point ``models_uri/latest.json`` at a saved bundle."""
    storage.write_bytes(
        storage.join(models_uri, LATEST_POINTER), _dumps({"uri": bundle_uri, "version": version})
    )
