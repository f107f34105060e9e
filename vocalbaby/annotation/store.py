"""Human annotations of recordings: an append-only log of revisions per recording and annotator.

Layout under the store root (a local folder or an ``s3://`` prefix)::

    <recording_id>/@<annotator>/<revision, 6 digits>.json

Every change is a new revision written with an atomic create-only write
(:func:`vocalbaby.storage.create`), so nothing is ever overwritten: two writers that start from
the same revision cannot both succeed, and the second gets :class:`ConflictError` naming who
saved first and when. Each revision holds the whole segment list with its provenance (who set
each label and when, the model's suggestion and version), so the latest revision of each
annotator is the current state and the earlier ones are the history.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from vocalbaby import storage
from vocalbaby.labels import CLASSES

ANNOTATOR_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
ORIGINS = ("model", "split", "merge", "added")
BOUNDARY_TOLERANCE_S = 0.05
MIN_SEGMENT_S = 0.01


class AnnotationError(ValueError):
    """An annotation that cannot be stored; the message says which field and why."""


class ConflictError(RuntimeError):
    """Someone saved this recording's annotation after the revision the writer started from."""

    def __init__(self, current: Revision | None, base_revision: int) -> None:
        self.current = current
        self.base_revision = base_revision
        if current is None:
            message = (
                f"nothing is saved yet, but you edited revision {base_revision}; "
                "reload before saving again"
            )
        else:
            message = (
                f"{current.recording_id} was saved by {current.annotator} at {current.saved_at} "
                f"(revision {current.revision}) after the revision you edited ({base_revision}); "
                "reload to see that version before saving again"
            )
        super().__init__(message)


@dataclass(frozen=True)
class AnnotatedSegment:
    """One stretch of a recording with its label and where that label came from.

    ``suggested_*`` keep the model's original output for the stretch (split halves inherit it);
    ``labelled_by``/``labelled_at`` are set once a person chose or confirmed ``label``.
    """

    start_s: float
    end_s: float
    label: str | None = None
    suggested_label: str | None = None
    suggested_probabilities: dict[str, float] | None = None
    origin: str = "model"
    labelled_by: str | None = None
    labelled_at: str | None = None

    @property
    def confirmed(self) -> bool:
        """Whether a person set or confirmed the label (only those are exported)."""
        return self.label is not None and self.labelled_by is not None


@dataclass(frozen=True)
class Revision:
    """One saved state of one annotator's work on one recording."""

    recording_id: str
    annotator: str
    revision: int
    saved_at: str
    audio_uri: str
    segments: tuple[AnnotatedSegment, ...]
    model_version: str | None = None
    reviewed: bool = False
    action: str = "edit"
    recording: dict[str, object] = field(default_factory=dict)

    def to_json(self) -> bytes:
        """The stored form (UTF-8 JSON)."""
        return json.dumps(asdict(self), indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Revision:
        """Parse a stored revision."""
        raw = json.loads(data)
        raw["segments"] = tuple(AnnotatedSegment(**s) for s in raw["segments"])
        return cls(**raw)


def now() -> str:
    """The current UTC time, ISO 8601 with microseconds (orders saves of different people)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def check_annotator(name: str) -> str:
    """``name`` if it is a usable annotator name (letters, digits, ``_.-``; at most 64)."""
    if not ANNOTATOR_PATTERN.fullmatch(name or ""):
        raise AnnotationError(
            f"annotator name {name!r}: use 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return name


def check_segments(segments: list[AnnotatedSegment], duration_s: float) -> None:
    """Raise :class:`AnnotationError` unless the segments are sorted, disjoint and in range."""
    for i, seg in enumerate(segments):
        where = f"segment {i} ({seg.start_s:.3f}-{seg.end_s:.3f} s)"
        if not seg.start_s >= 0 or not seg.end_s <= duration_s + BOUNDARY_TOLERANCE_S:
            raise AnnotationError(f"{where}: outside the recording (0-{duration_s:.3f} s)")
        if not seg.end_s - seg.start_s >= MIN_SEGMENT_S:
            raise AnnotationError(f"{where}: shorter than {MIN_SEGMENT_S * 1000:.0f} ms")
        if seg.label is not None and seg.label not in CLASSES:
            raise AnnotationError(f"{where}: unknown label {seg.label!r}; use one of {CLASSES}")
        if seg.origin not in ORIGINS:
            raise AnnotationError(f"{where}: unknown origin {seg.origin!r}")
        if i and seg.start_s < segments[i - 1].end_s - 1e-6:
            raise AnnotationError(f"{where}: overlaps the previous segment")


class AnnotationStore:
    """The revisions under one root; see the module docstring for the layout."""

    def __init__(self, root: str) -> None:
        self.root = str(root)

    def _folder(self, recording_id: str, annotator: str) -> str:
        parts = PurePosixPath(recording_id).parts
        if not parts or any(p in {"..", "."} or p.startswith("@") for p in parts):
            raise AnnotationError(f"recording id {recording_id!r} cannot be stored")
        return storage.join(self.root, *parts, "@" + check_annotator(annotator))

    def revisions(self, recording_id: str, annotator: str) -> list[int]:
        """Revision numbers saved by ``annotator`` for the recording, ascending."""
        folder = self._folder(recording_id, annotator)
        names = (PurePosixPath(uri).name for uri in storage.list_keys(folder))
        return sorted(int(n[:-5]) for n in names if re.fullmatch(r"\d{6}\.json", n))

    def load(self, recording_id: str, annotator: str, revision: int) -> Revision:
        """One stored revision."""
        uri = storage.join(self._folder(recording_id, annotator), f"{revision:06d}.json")
        return Revision.from_json(storage.read_bytes(uri))

    def latest(self, recording_id: str, annotator: str) -> Revision | None:
        """The annotator's current state of the recording, or ``None`` before a first save."""
        numbers = self.revisions(recording_id, annotator)
        return self.load(recording_id, annotator, numbers[-1]) if numbers else None

    def save(self, draft: Revision, base_revision: int) -> Revision:
        """Store ``draft`` as the revision after ``base_revision``; returns what was stored.

        Raises :class:`ConflictError` when the annotator's latest revision is not
        ``base_revision`` (another tab or person with the same name saved in between).
        """
        check_segments(list(draft.segments), float(draft.recording.get("duration_s", 1e9)))
        current = self.latest(draft.recording_id, draft.annotator)
        if (current.revision if current else 0) != base_revision:
            raise ConflictError(current, base_revision)
        stored = replace(draft, revision=base_revision + 1, saved_at=now())
        uri = storage.join(
            self._folder(draft.recording_id, draft.annotator), f"{stored.revision:06d}.json"
        )
        try:
            storage.create(uri, stored.to_json())
        except FileExistsError:
            raise ConflictError(
                self.latest(draft.recording_id, draft.annotator), base_revision
            ) from None
        return stored

    def index(self) -> dict[tuple[str, str], int]:
        """``(recording_id, annotator) -> latest revision number`` for the whole store."""
        found: dict[tuple[str, str], int] = {}
        for uri in storage.list_keys(self.root):
            rel = PurePosixPath(self._relative(uri))
            if len(rel.parts) < 3 or not re.fullmatch(r"\d{6}\.json", rel.name):
                continue
            if not rel.parent.name.startswith("@"):
                continue
            key = (str(rel.parent.parent), rel.parent.name[1:])
            found[key] = max(found.get(key, 0), int(rel.name[:-5]))
        return found

    def _relative(self, uri: str) -> str:
        if storage.is_s3(self.root):
            return uri[len(self.root.rstrip("/")) + 1 :]
        return Path(uri).relative_to(self.root).as_posix()

    def all_latest(self) -> list[Revision]:
        """Every annotator's current state of every recording in the store."""
        return [self.load(rec, who, n) for (rec, who), n in sorted(self.index().items())]
