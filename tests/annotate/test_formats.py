"""Lab formats (TextGrid, ELAN, RTTM, CSV): round trips, imports, `predict --out` by extension."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from praatio import textgrid
from pympi import Elan
from typer.testing import CliRunner

from tests.annotate.conftest import BROKEN, LONG_RECORDING
from vocalbaby import dataset
from vocalbaby.annotation import formats
from vocalbaby.annotation.formats import FormatError, Interval, Timeline
from vocalbaby_cli.app import app

MODEL = [
    Interval(0.0, 0.4, "junk", 0.91),
    Interval(0.4, 0.8, "crying", 0.55),
    Interval(1.2, 1.6, "junk", 0.7),
]
ALICE = [Interval(0.0, 0.4, "junk"), Interval(0.4, 0.75, "laughing"), Interval(0.8, 1.2, "crying")]


def timeline(recording: str = "rec 1.wav") -> Timeline:
    return Timeline(recording, 1.6, {"model": list(MODEL), "alice": list(ALICE)})


def without_confidence(intervals: list[Interval]) -> list[Interval]:
    return [Interval(i.start_s, i.end_s, i.label) for i in intervals]


@pytest.mark.parametrize("suffix", [".TextGrid", ".eaf"])
def test_textgrid_and_elan_keep_every_tier_and_interval(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"out{suffix}"
    assert formats.write([timeline()], path) == [path]

    (back,) = formats.read(path)

    assert back.tiers == {"model": without_confidence(MODEL), "alice": ALICE}
    assert back.duration_s == pytest.approx(1.6)


def test_rttm_and_csv_keep_recordings_and_confidence(tmp_path: Path) -> None:
    two = [timeline("a b.wav"), Timeline("x/y.wav", 0.8, {"model": MODEL[:2]})]
    formats.write(two, tmp_path / "t.rttm")
    formats.write(two, tmp_path / "t.csv")

    rttm = {t.recording: t for t in formats.read(tmp_path / "t.rttm")}
    csv = {t.recording: t for t in formats.read(tmp_path / "t.csv")}

    assert rttm["x/y.wav"].tiers == {"rttm": MODEL[:2]}
    assert sorted(rttm["a_b.wav"].tiers["rttm"], key=lambda i: (i.start_s, i.label)) == sorted(
        MODEL + ALICE, key=lambda i: (i.start_s, i.label)
    )
    assert csv["a b.wav"].tiers == timeline().tiers and csv["x/y.wav"].tiers == {"model": MODEL[:2]}
    line = (tmp_path / "t.rttm").read_text().splitlines()[0]
    assert line == "SPEAKER a_b.wav 1 0.000 0.400 <NA> <NA> junk 0.9100 <NA>"


def test_overlapping_windows_become_disjoint_intervals(tmp_path: Path) -> None:
    hopped = Timeline(
        "r", 1.0, {"model": [Interval(0.0, 0.4, "junk"), Interval(0.2, 0.6, "crying")]}
    )
    formats.write([hopped], tmp_path / "r.TextGrid")

    (back,) = formats.read(tmp_path / "r.TextGrid")

    assert back.tiers["model"] == [Interval(0.0, 0.4, "junk"), Interval(0.4, 0.6, "crying")]


def test_a_textgrid_made_in_praat_is_read_with_labels_normalised(tmp_path: Path) -> None:
    grid = textgrid.Textgrid()
    entries = [(0.0, 0.5, "Non-canonical"), (0.5, 0.9, ""), (0.9, 1.3, "CRY")]
    grid.addTier(textgrid.IntervalTier("infant", entries, 0.0, 2.0))
    grid.addTier(textgrid.PointTier("events", [(0.3, "x")], 0.0, 2.0))
    grid.save(str(tmp_path / "p.TextGrid"), format="short_textgrid", includeBlankSpaces=True)

    (back,) = formats.read(tmp_path / "p.TextGrid")

    assert back.tiers == {
        "infant": [Interval(0.0, 0.5, "non_canonical"), Interval(0.9, 1.3, "crying")]
    }
    assert back.duration_s == 2.0


def test_unknown_labels_and_broken_files_are_refused_with_where(tmp_path: Path) -> None:
    eaf = Elan.Eaf()
    eaf.add_tier("infant")
    eaf.add_annotation("infant", 100, 500, "shout")
    eaf.to_file(str(tmp_path / "bad.eaf"))
    with pytest.raises(FormatError, match=r"tier infant at 100 ms.*unknown label 'shout'"):
        formats.read(tmp_path / "bad.eaf")
    (tmp_path / "broken.TextGrid").write_text("not a textgrid")
    with pytest.raises(FormatError, match="not a readable textgrid file"):
        formats.read(tmp_path / "broken.TextGrid")
    with pytest.raises(FormatError, match="unknown format"):
        formats.write([timeline()], tmp_path / "t.txt")


@pytest.mark.parametrize("suffix", [".TextGrid", ".eaf", ".rttm"])
def test_predict_writes_the_lab_format_named_by_the_extension(
    review_folder: Path, small_model: Path, tmp_path: Path, suffix: str
) -> None:
    runner = CliRunner()
    prelabels = tmp_path / "pre.json"
    args = ["predict", str(review_folder / LONG_RECORDING), "--model", str(small_model)]
    assert runner.invoke(app, [*args, "--out", str(prelabels)]).exit_code == 0
    expected = [
        (s["start_s"], s["end_s"], s["label"])
        for s in json.loads(prelabels.read_text())["results"][0]["segments"]
    ]

    out = tmp_path / f"timeline{suffix}"
    result = runner.invoke(app, [*args, "--out", str(out)])

    assert result.exit_code == 0, result.output
    (back,) = formats.read(out)
    (tier,) = back.tiers.values()
    assert [(round(i.start_s, 3), round(i.end_s, 3), i.label) for i in tier] == expected


def test_predict_writes_one_textgrid_per_recording(
    review_folder: Path, small_model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "timeline.TextGrid"
    result = CliRunner().invoke(
        app, ["predict", str(review_folder), "--model", str(small_model), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.glob("timeline-*.TextGrid"))
    assert names == [
        "timeline-crying_clip.TextGrid",
        "timeline-junk_clip.TextGrid",
        "timeline-long.TextGrid",
    ]
    assert Path(BROKEN).stem not in " ".join(names)


def test_an_imported_textgrid_tier_is_exported_for_training(
    review_folder: Path, tmp_path: Path
) -> None:
    grid = Timeline(LONG_RECORDING, 1.6, {"infant": ALICE, "mother": [Interval(0, 1, "junk")]})
    formats.write([grid], tmp_path / "long.TextGrid")
    store, runner = tmp_path / "store", CliRunner()
    common = ["--store", str(store), "--annotator", "lab-coder"]
    source = [str(tmp_path / "long.TextGrid"), str(review_folder / LONG_RECORDING)]

    missing = runner.invoke(app, ["import-annotations", *source, "--tier", "child", *common])
    imported = runner.invoke(app, ["import-annotations", *source, "--tier", "infant", *common])
    exported = runner.invoke(
        app, ["export-annotations", str(tmp_path / "out"), "--store", str(store)]
    )

    assert missing.exit_code == 2 and "no tier 'child'" in missing.output
    assert (
        imported.exit_code == 0
        and "stored 3 segment(s) of long.wav as revision 1" in imported.output
    )
    assert exported.exit_code == 0, exported.output
    assert len(dataset.read(tmp_path / "out")) == 3
    clips = pd.read_csv(tmp_path / "out" / "metadata.csv").sort_values("start_s")
    assert clips["label"].tolist() == ["junk", "laughing", "crying"]
    assert set(clips["annotator"]) == {"lab-coder"}
