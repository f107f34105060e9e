"""Agreement between annotators: matched segments, Cohen's kappa per pair, disagreements.

Two annotators' segments of one recording are the same item when they overlap by at least
:data:`MIN_IOU` (intersection over union), matched greedily from the largest overlap, so moving a
boundary a little keeps the item. Only confirmed labels (:attr:`AnnotatedSegment.confirmed`)
count. For 0.4 s clips labelled whole, an item is simply a clip.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from sklearn.metrics import cohen_kappa_score

from vocalbaby.annotation.store import AnnotatedSegment, Revision
from vocalbaby.labels import CLASSES

MIN_IOU = 0.5


@dataclass(frozen=True)
class PairAgreement:
    """How two annotators agree on the items they both labelled."""

    first: str
    second: str
    items: int
    agreement: float
    kappa: float | None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (kappa ``None`` when undefined: fewer than 2 items or one label)."""
        return {
            "annotators": [self.first, self.second],
            "items": self.items,
            "agreement": round(self.agreement, 4),
            "kappa": None if self.kappa is None else round(self.kappa, 4),
        }


def iou(a: AnnotatedSegment, b: AnnotatedSegment) -> float:
    """Intersection over union of two time spans."""
    inter = min(a.end_s, b.end_s) - max(a.start_s, b.start_s)
    union = max(a.end_s, b.end_s) - min(a.start_s, b.start_s)
    return max(inter, 0.0) / union if union > 0 else 0.0


def matches(
    first: Iterable[AnnotatedSegment], second: Iterable[AnnotatedSegment]
) -> list[tuple[AnnotatedSegment, AnnotatedSegment]]:
    """Pairs of confirmed segments that are the same item (greedy, largest overlap first)."""
    a = [s for s in first if s.confirmed]
    b = [s for s in second if s.confirmed]
    candidates = sorted(
        ((iou(x, y), i, j) for (i, x), (j, y) in itertools.product(enumerate(a), enumerate(b))),
        reverse=True,
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    pairs = []
    for overlap, i, j in candidates:
        if overlap < MIN_IOU:
            break
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            pairs.append((a[i], b[j]))
    return sorted(pairs, key=lambda p: p[0].start_s)


def disagrees(revisions: list[Revision]) -> bool:
    """Whether two annotators of one recording gave a matched item different labels."""
    return any(
        x.label != y.label
        for r, s in itertools.combinations(revisions, 2)
        for x, y in matches(r.segments, s.segments)
    )


def pairwise(revisions: Iterable[Revision]) -> list[PairAgreement]:
    """Cohen's kappa for every pair of annotators over the recordings they both labelled."""
    by_recording: dict[str, dict[str, Revision]] = {}
    for rev in revisions:
        by_recording.setdefault(rev.recording_id, {})[rev.annotator] = rev
    labels: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    for per_annotator in by_recording.values():
        for p, q in itertools.combinations(sorted(per_annotator), 2):
            left, right = labels.setdefault((p, q), ([], []))
            for x, y in matches(per_annotator[p].segments, per_annotator[q].segments):
                left.append(str(x.label))
                right.append(str(y.label))
    return [_agreement(p, q, left, right) for (p, q), (left, right) in sorted(labels.items())]


def _agreement(first: str, second: str, left: list[str], right: list[str]) -> PairAgreement:
    items = len(left)
    agreement = sum(x == y for x, y in zip(left, right, strict=True)) / items if items else 0.0
    defined = items >= 2 and len(set(left) | set(right)) > 1
    kappa = float(cohen_kappa_score(left, right, labels=list(CLASSES))) if defined else None
    return PairAgreement(first, second, items, agreement, kappa)
