"""The feature explorer: per-class distributions and the PCA projection of labelled windows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler
from starlette.testclient import TestClient

from tests.annotate.conftest import LONG_RECORDING
from vocalbaby import features
from vocalbaby.annotation.catalog import Catalog, from_folder
from vocalbaby.annotation.store import AnnotationStore
from vocalbaby.feature_stats import distribution, pca_2d
from vocalbaby.model import ModelBundle
from vocalbaby_annotate import explorer
from vocalbaby_annotate.app import create_app


@pytest.fixture
def catalog(review_folder: Path, small_model: Path) -> Catalog:
    return from_folder(review_folder, ModelBundle.load(str(small_model)))


@pytest.fixture
def client(catalog: Catalog, tmp_path: Path) -> TestClient:
    app = create_app(catalog, AnnotationStore(str(tmp_path / "store")))
    return TestClient(app, base_url="http://127.0.0.1")


def test_pca_matches_scikit_learn_up_to_sign() -> None:
    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.normal(size=(60, 5)) * [1, 10, 100, 0.1, 3], columns=list("abcde"))
    table["b"] += 2 * table["a"]

    coords, explained = pca_2d(table)

    reference = PCA(2).fit(StandardScaler().fit_transform(table))
    expected = reference.transform(StandardScaler().fit_transform(table))
    assert np.allclose(np.abs(coords), np.abs(expected), atol=1e-8)
    assert explained == pytest.approx(reference.explained_variance_ratio_.tolist())
    empty, nothing = pca_2d(table.iloc[:0])
    assert empty.shape == (0, 2) and nothing == [0.0, 0.0]


def test_distribution_counts_every_value_once_per_class() -> None:
    values = pd.Series([1.0, 2.0, 3.0, 4.0, np.nan, 10.0])
    found = distribution(values, ["a", "a", "b", "b", "b", "b"], bins=3)
    assert found["edges"] == [1.0, 4.0, 7.0, 10.0]
    assert found["classes"]["a"]["counts"] == [2, 0, 0]
    assert found["classes"]["b"]["counts"] == [1, 1, 1] and found["classes"]["b"]["n"] == 3
    assert found["classes"]["b"]["min_q1_median_q3_max"][2] == 4.0


def test_the_explorer_covers_every_labelled_window(catalog: Catalog, client: TestClient) -> None:
    labelled = {
        (r.id, s.start_s): s.suggested_label
        for r in catalog.recordings.values()
        for s in r.suggestions
        if s.suggested_label
    }

    names = client.get("/api/features").json()
    pca = client.get("/api/features/pca").json()
    name = features.feature_names()[0]
    spread = client.get("/api/features/distribution", params={"feature": name}).json()

    assert names["windows"] == len(labelled) == 6 and len(names["features"]) == 88
    assert {(p["recording"], p["start_s"]): p["label"] for p in pca["points"]} == labelled
    assert 0 < pca["explained"][1] <= pca["explained"][0] < 1
    per_class = {c: v["n"] for c, v in spread["classes"].items()}
    assert per_class == pd.Series(list(labelled.values())).value_counts().to_dict()
    assert client.get("/api/features/distribution", params={"feature": "nope"}).status_code == 400


def test_the_explorer_samples_long_recordings_within_its_bound(
    catalog: Catalog, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(explorer, "MAX_WINDOWS", 6)  # 3 recordings: at most 2 windows each
    points = client.get("/api/features/pca").json()["points"]
    long = [p for p in points if p["recording"] == LONG_RECORDING]
    assert [p["start_s"] for p in long] == [0.0, 1.2]  # first and last, evenly spaced
    assert len(points) == 4
