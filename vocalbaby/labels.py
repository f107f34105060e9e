"""The five infant vocalization classes and label normalisation."""

from __future__ import annotations

import re
from collections.abc import Iterable

CLASSES: tuple[str, ...] = ("canonical", "non_canonical", "crying", "laughing", "junk")

_ALIASES = {"noncanonical": "non_canonical", "cry": "crying", "laugh": "laughing"}


class UnknownLabelError(ValueError):
    """Raised when a label is not one of :data:`CLASSES` (after normalisation)."""


def normalize_label(raw: object) -> str:
    """Map a raw label to its canonical class name.

    Case, dashes, spaces and underscores are ignored, so ``"Non-canonical"``,
    ``"non canonical"`` and ``"NON_CANONICAL"`` all give ``"non_canonical"``.

    >>> normalize_label("Non-canonical")
    'non_canonical'
    """
    key = re.sub(r"[\s_\-]+", "", str(raw).strip().lower())
    for name in CLASSES:
        if key == name.replace("_", ""):
            return name
    if key in _ALIASES:
        return _ALIASES[key]
    raise UnknownLabelError(f"unknown label {raw!r}; expected one of {', '.join(CLASSES)}")


def normalize_labels(values: Iterable[object]) -> list[str]:
    """Normalise many labels, raising one error that lists every unknown value and its position."""
    out: list[str] = []
    bad: list[str] = []
    for position, value in enumerate(values):
        try:
            out.append(normalize_label(value))
        except UnknownLabelError:
            bad.append(f"row {position}: {value!r}")
    if bad:
        shown = "; ".join(bad[:20]) + (f"; ... ({len(bad)} in all)" if len(bad) > 20 else "")
        raise UnknownLabelError(f"unknown labels ({shown}); expected one of {', '.join(CLASSES)}")
    return out
