"""Self-contained HTML reports and the calibrated model bundle."""

import re
from pathlib import Path

import numpy as np
import pandas as pd

from tests.evaluation import synthetic
from vocalbaby import metrics, model, plots, report, training


def self_contained(page: str) -> bool:
    """No resource is fetched from elsewhere: every ``src`` is an embedded data URI."""
    sources = re.findall(r'src="([^"]*)"', page)
    return bool(sources) and all(s.startswith("data:image/png;base64,") for s in sources)


def test_report_embeds_images_and_escapes_text(tmp_path) -> None:
    png = plots.confusion_matrix_png(metrics.report(["junk", "crying"], ["junk", "junk"]))
    table = pd.DataFrame({"UAR": [0.8123, np.nan]}, index=["model", "baseline"])
    uri = report.write(
        str(tmp_path / "r" / "report.html"),
        "A <b>title</b>",
        [("Scores", ["x < y & z", table, png])],
        note="SYNTHETIC",
    )
    page = Path(uri).read_text()
    assert self_contained(page)
    assert "A &lt;b&gt;title&lt;/b&gt;" in page and "x &lt; y &amp; z" in page
    assert "0.812" in page and "SYNTHETIC" in page
    assert "http" not in page.replace("http-equiv", "")


def test_calibrated_bundle_keeps_its_temperature_and_its_predictions(tmp_path) -> None:
    features, labels, _ = synthetic.features(children=6, clips=20)
    bundle = training.train(features, labels, training.DEFAULT_PARAMS | {"num_boost_round": 20})
    raw = bundle.predict_proba(features)
    bundle.temperature = 2.0
    loaded = type(bundle).load(bundle.save(tmp_path / "bundle"))
    assert loaded.temperature == 2.0
    soft = loaded.predict_proba(features)
    np.testing.assert_allclose(soft, model.apply_temperature(raw.to_numpy(), 2.0), rtol=1e-5)
    assert (soft.max(axis=1) < raw.max(axis=1)).all()
    pd.testing.assert_series_equal(loaded.predict(features), bundle.predict(features))
