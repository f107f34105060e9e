"""Lab formats: Praat TextGrid, ELAN ``.eaf``, RTTM and CSV, written and read back.

A :class:`Timeline` is one recording's labelled intervals in named tiers (``model`` for the
model's predictions, the annotator's name for corrected annotations). TextGrid and ELAN files
hold one recording each (written with praatio and pympi-ling, the ``annotate`` extra); RTTM and
CSV hold any number. Silent or unlabelled stretches are gaps. Reading normalises labels to the
five classes (``Non-canonical`` works) and refuses an unknown one, naming tier and time.

RTTM lines are ``SPEAKER <recording> 1 <onset> <duration> <NA> <NA> <class> <confidence> <NA>``,
the class in the speaker-name column as infant voice-type classifiers write it.
"""

from __future__ import annotations

import csv
import importlib
import io
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vocalbaby.annotation.store import AnnotatedSegment, Revision
from vocalbaby.inference import Prediction
from vocalbaby.labels import UnknownLabelError, normalize_label

SUFFIXES = (".textgrid", ".eaf", ".rttm", ".csv")
SINGLE_RECORDING = (".textgrid", ".eaf")
MODEL_TIER = "model"
CSV_COLUMNS = ["recording", "tier", "start_s", "end_s", "label", "confidence"]


class FormatError(ValueError):
    """A file that cannot be read or written in a lab format; the message says where and why."""


@dataclass(frozen=True)
class Interval:
    """One labelled stretch; ``confidence`` is the model's top probability, when there is one."""

    start_s: float
    end_s: float
    label: str
    confidence: float | None = None


@dataclass
class Timeline:
    """One recording's tiers of labelled intervals."""

    recording: str
    duration_s: float
    tiers: dict[str, list[Interval]] = field(default_factory=dict)


def from_prediction(prediction: Prediction, recording: str | None = None) -> Timeline:
    """The model's labelled segments as a ``model`` tier (silent and failed windows are gaps)."""
    intervals = [
        Interval(
            s.start_s, s.end_s, s.label, max(s.probabilities.values()) if s.probabilities else None
        )
        for s in prediction.segments
        if s.label is not None
    ]
    return Timeline(recording or prediction.file, prediction.duration_s, {MODEL_TIER: intervals})


def from_revision(revision: Revision, duration_s: float) -> Timeline:
    """An annotator's confirmed segments as a tier named after them."""
    intervals = [
        Interval(s.start_s, s.end_s, s.label) for s in revision.segments if s.confirmed and s.label
    ]
    return Timeline(revision.recording_id, duration_s, {revision.annotator: intervals})


def to_segments(timeline: Timeline, tier: str, annotator: str) -> tuple[AnnotatedSegment, ...]:
    """A tier as segments confirmed by ``annotator`` (origin ``added``), for the store."""
    if tier not in timeline.tiers:
        raise FormatError(
            f"{timeline.recording}: no tier {tier!r}; tiers: {sorted(timeline.tiers)}"
        )
    stamp = datetime.now(UTC).isoformat(timespec="microseconds")
    return tuple(
        AnnotatedSegment(
            i.start_s, i.end_s, i.label, origin="added", labelled_by=annotator, labelled_at=stamp
        )
        for i in timeline.tiers[tier]
    )


def _disjoint(intervals: list[Interval]) -> list[Interval]:
    """Sorted intervals, each started no earlier than the previous end (overlapping windows)."""
    out: list[Interval] = []
    for i in sorted(intervals, key=lambda i: i.start_s):
        start = max(i.start_s, out[-1].end_s) if out else i.start_s
        if i.end_s - start > 1e-6:
            out.append(Interval(start, i.end_s, i.label, i.confidence))
    return out


def write(timelines: list[Timeline], path: Path) -> list[Path]:
    """Write ``timelines`` in the format named by ``path``'s suffix; returns the files written.

    TextGrid and ELAN hold one recording: with several, one file per recording is written
    beside ``path`` as ``<stem>-<recording stem><suffix>``.
    """
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise FormatError(f"{path}: unknown format; use one of {', '.join(SUFFIXES)}")
    if suffix in {".rttm", ".csv"}:
        text = to_rttm(timelines) if suffix == ".rttm" else to_csv(timelines)
        path.write_text(text)
        return [path]
    writer = write_textgrid if suffix == ".textgrid" else write_eaf
    if len(timelines) == 1:
        writer(timelines[0], path)
        return [path]
    written: list[Path] = []
    for timeline in timelines:
        target = path.with_name(f"{path.stem}-{Path(timeline.recording).stem}{path.suffix}")
        n = 2
        while target in written:
            target = path.with_name(f"{path.stem}-{Path(timeline.recording).stem}-{n}{path.suffix}")
            n += 1
        writer(timeline, target)
        written.append(target)
    return written


def read(path: Path) -> list[Timeline]:
    """Read any of the four formats (by suffix) into timelines."""
    suffix = path.suffix.lower()
    readers = {".textgrid": read_textgrid, ".eaf": read_eaf, ".rttm": read_rttm, ".csv": read_csv}
    if suffix not in readers:
        raise FormatError(f"{path}: unknown format; use one of {', '.join(SUFFIXES)}")
    try:
        found = readers[suffix](path)
    except FormatError:
        raise
    except (OSError, ValueError, KeyError, IndexError, UnicodeDecodeError) as exc:
        raise FormatError(f"{path}: not a readable {suffix[1:]} file ({exc})") from exc
    return found if isinstance(found, list) else [found]


def _library(name: str) -> Any:
    """praatio or pympi, or a :class:`FormatError` saying which extra installs it."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise FormatError(
            f"{name} is needed for this format: pip install 'vocalbaby[annotate]'"
        ) from exc


def _label(raw: str, where: str) -> str:
    try:
        return normalize_label(raw)
    except UnknownLabelError as exc:
        raise FormatError(f"{where}: {exc}") from None


def write_textgrid(timeline: Timeline, path: Path) -> None:
    """A long-format TextGrid with one interval tier per tier of ``timeline``."""
    textgrid = _library("praatio.textgrid")

    end = max([timeline.duration_s, *(i.end_s for t in timeline.tiers.values() for i in t)])
    grid = textgrid.Textgrid(minTimestamp=0.0, maxTimestamp=end)
    for name, intervals in timeline.tiers.items():
        entries = [(i.start_s, i.end_s, i.label) for i in _disjoint(intervals)]
        grid.addTier(textgrid.IntervalTier(name, entries, 0.0, end))
    grid.save(str(path), format="long_textgrid", includeBlankSpaces=True, reportingMode="error")


def read_textgrid(path: Path) -> Timeline:
    """Every interval tier of a TextGrid (blank intervals are gaps)."""
    textgrid = _library("praatio.textgrid")

    grid = textgrid.openTextgrid(str(path), includeEmptyIntervals=False, reportingMode="error")
    tiers = {}
    for name in grid.tierNames:
        tier = grid.getTier(name)
        if not isinstance(tier, textgrid.IntervalTier):
            continue
        tiers[name] = [
            Interval(start, end, _label(label, f"{path} tier {name} at {start:.3f} s"))
            for start, end, label in tier.entries
            if label.strip()
        ]
    return Timeline(path.stem, grid.maxTimestamp, tiers)


def write_eaf(timeline: Timeline, path: Path, media: str | None = None) -> None:
    """An ELAN file with one tier per tier of ``timeline`` (times in whole milliseconds)."""
    elan = _library("pympi.Elan")

    eaf = elan.Eaf(author="vocalbaby")
    eaf.remove_tier("default")
    if media:
        eaf.add_linked_file(media)
    for name, intervals in timeline.tiers.items():
        eaf.add_tier(name)
        for i in _disjoint(intervals):
            start, end = round(i.start_s * 1000), round(i.end_s * 1000)
            if end > start:
                eaf.add_annotation(name, start, end, i.label)
    eaf.to_file(str(path))


def read_eaf(path: Path) -> Timeline:
    """Every tier of an ELAN file with time-aligned annotations."""
    elan = _library("pympi.Elan")

    eaf = elan.Eaf(str(path))
    tiers = {}
    for name in eaf.get_tier_names():
        rows = sorted(eaf.get_annotation_data_for_tier(name))
        tiers[name] = [
            Interval(
                row[0] / 1000, row[1] / 1000, _label(row[2], f"{path} tier {name} at {row[0]} ms")
            )
            for row in rows
            if str(row[2]).strip()
        ]
    ends = [i.end_s for t in tiers.values() for i in t]
    return Timeline(path.stem, max(ends, default=0.0), tiers)


def to_rttm(timelines: list[Timeline]) -> str:
    """RTTM ``SPEAKER`` lines, one per interval of every tier (tiers are not kept)."""
    lines = []
    for timeline in timelines:
        rec = re.sub(r"\s+", "_", timeline.recording)  # RTTM fields are space-separated
        for intervals in timeline.tiers.values():
            for i in _disjoint(intervals):
                conf = "<NA>" if i.confidence is None else f"{i.confidence:.4f}"
                lines.append(
                    f"SPEAKER {rec} 1 {i.start_s:.3f} {i.end_s - i.start_s:.3f} "
                    f"<NA> <NA> {i.label} {conf} <NA>"
                )
    return "".join(line + "\n" for line in lines)


def read_rttm(path: Path) -> list[Timeline]:
    """``SPEAKER`` lines of an RTTM file, a ``rttm`` tier per recording."""
    found: dict[str, Timeline] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        fields = line.split()
        if not fields or fields[0] != "SPEAKER":
            continue
        if len(fields) < 8:
            raise FormatError(f"{path} line {number}: an RTTM line has 10 fields")
        start, duration = float(fields[3]), float(fields[4])
        if not (math.isfinite(start) and math.isfinite(duration)) or duration <= 0 or start < 0:
            raise FormatError(f"{path} line {number}: bad onset or duration")
        conf = fields[8] if len(fields) > 8 else "<NA>"
        timeline = found.setdefault(fields[1], Timeline(fields[1], 0.0, {"rttm": []}))
        timeline.tiers["rttm"].append(
            Interval(
                start,
                round(start + duration, 6),  # onset + duration, without float noise
                _label(fields[7], f"{path} line {number}"),
                None if conf == "<NA>" else float(conf),
            )
        )
        timeline.duration_s = max(timeline.duration_s, start + duration)
    return list(found.values())


def to_csv(timelines: list[Timeline]) -> str:
    """One row per interval: recording, tier, start_s, end_s, label, confidence."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for timeline in timelines:
        for tier, intervals in timeline.tiers.items():
            for i in intervals:
                conf = "" if i.confidence is None else f"{i.confidence:.4f}"
                writer.writerow(
                    [timeline.recording, tier, f"{i.start_s:.3f}", f"{i.end_s:.3f}", i.label, conf]
                )
    return buffer.getvalue()


def read_csv(path: Path) -> list[Timeline]:
    """The CSV :func:`to_csv` writes."""
    found: dict[str, Timeline] = {}
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in CSV_COLUMNS[:5] if c not in (reader.fieldnames or [])]
        if missing:
            raise FormatError(f"{path}: missing column(s) {', '.join(missing)}")
        for number, row in enumerate(reader, 2):
            timeline = found.setdefault(row["recording"], Timeline(row["recording"], 0.0))
            end = float(row["end_s"])
            timeline.tiers.setdefault(row["tier"], []).append(
                Interval(
                    float(row["start_s"]),
                    end,
                    _label(row["label"], f"{path} line {number}"),
                    float(row["confidence"]) if row.get("confidence") else None,
                )
            )
            timeline.duration_s = max(timeline.duration_s, end)
    return list(found.values())
