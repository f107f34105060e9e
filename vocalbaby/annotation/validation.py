"""Strict checks of annotation data that arrives from outside (a save request, a stored file).

Every check raises :class:`~vocalbaby.annotation.store.AnnotationError` whose message starts with
the path of the offending field (``segments[2].suggested_label: ...``), so a client can say which
input to fix. Numbers must be real JSON numbers (not strings or booleans), finite and in range.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from typing import Any

from vocalbaby.annotation.store import (
    ORIGINS,
    AnnotatedSegment,
    AnnotationError,
    Revision,
    check_annotator,
)
from vocalbaby.labels import CLASSES

MAX_TIME_S = 7 * 24 * 3600.0  # a week: longer than any recording we accept
MAX_REVISION = 999_998  # revisions are stored as 6-digit file names
MAX_TEXT = 64
SEGMENT_KEYS = {"start_s", "end_s"}


def parse_json(body: bytes) -> dict[str, Any]:
    """A JSON object from ``body``; NaN/Infinity, huge integers and deep nesting are refused."""
    try:
        payload = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, >4300 digits
        raise AnnotationError(f"body: not valid JSON ({str(exc)[:120]})") from None
    if not isinstance(payload, dict):
        raise AnnotationError("body: must be a JSON object")
    return payload


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number")


def number(value: object, where: str, low: float = 0.0, high: float = MAX_TIME_S) -> float:
    """``value`` as a float if it is a finite JSON number within ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AnnotationError(f"{where}: must be a number, not {type(value).__name__}")
    try:
        as_float = float(value)
    except OverflowError:
        raise AnnotationError(f"{where}: number out of range") from None
    if not math.isfinite(as_float) or not low <= as_float <= high:
        raise AnnotationError(f"{where}: must be between {low:g} and {high:g}")
    return as_float


def whole_number(value: object, where: str, high: int = MAX_REVISION) -> int:
    """``value`` if it is a JSON integer within ``[0, high]``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
        raise AnnotationError(f"{where}: must be a whole number between 0 and {high}")
    return value


def optional_text(value: object, where: str, allowed: tuple[str, ...] | None = None) -> str | None:
    """``None``, or a string of at most 64 characters (one of ``allowed`` when given)."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise AnnotationError(f"{where}: must be a string of at most {MAX_TEXT} characters or null")
    if allowed is not None and value not in allowed:
        raise AnnotationError(f"{where}: unknown value {value!r}; use one of {list(allowed)}")
    return value


def probabilities(value: object, where: str) -> dict[str, float] | None:
    """``None``, or a mapping of known class names to probabilities in ``[0, 1]``."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise AnnotationError(f"{where}: must be an object of class -> probability or null")
    unknown = sorted(set(value) - set(CLASSES))
    if unknown:
        raise AnnotationError(f"{where}: unknown class(es) {unknown}; use {list(CLASSES)}")
    return {k: number(v, f"{where}.{k}", 0.0, 1.0) for k, v in value.items()}


def segment(raw: object, where: str) -> AnnotatedSegment:
    """One segment from its JSON form, every field type- and range-checked."""
    if not isinstance(raw, dict):
        raise AnnotationError(f"{where}: must be an object")
    missing = sorted(SEGMENT_KEYS - raw.keys())
    if missing:
        raise AnnotationError(f"{where}: missing field(s) {missing}")
    unknown = sorted(raw.keys() - set(AnnotatedSegment.__dataclass_fields__))
    if unknown:
        raise AnnotationError(f"{where}: unknown field(s) {unknown}")
    labelled_by = optional_text(raw.get("labelled_by"), f"{where}.labelled_by")
    if labelled_by is not None:
        try:
            check_annotator(labelled_by)
        except AnnotationError as exc:
            raise AnnotationError(f"{where}.labelled_by: {exc}") from None
    return AnnotatedSegment(
        start_s=number(raw["start_s"], f"{where}.start_s"),
        end_s=number(raw["end_s"], f"{where}.end_s"),
        label=optional_text(raw.get("label"), f"{where}.label", CLASSES),
        suggested_label=optional_text(
            raw.get("suggested_label"), f"{where}.suggested_label", CLASSES
        ),
        suggested_probabilities=probabilities(
            raw.get("suggested_probabilities"), f"{where}.suggested_probabilities"
        ),
        origin=optional_text(raw.get("origin", "model"), f"{where}.origin", ORIGINS) or "model",
        labelled_by=labelled_by,
        labelled_at=optional_text(raw.get("labelled_at"), f"{where}.labelled_at"),
    )


def segments(raw: object, where: str = "segments") -> tuple[AnnotatedSegment, ...]:
    """A non-empty list of segments."""
    if not isinstance(raw, list) or not raw:
        raise AnnotationError(f"{where}: must be a non-empty list")
    return tuple(segment(s, f"{where}[{i}]") for i, s in enumerate(raw))


def check_revision(revision: Revision) -> Revision:
    """``revision`` if its segments pass the checks a save gets (for files already stored)."""
    where = f"{revision.recording_id} by {revision.annotator}: segments"
    segments([asdict(s) for s in revision.segments], where)
    return revision
