"""Train/valid/test splits grouped by child: no child, and no identical audio, in two splits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

SPLITS = ("train", "valid", "test")


SEARCHED_SEEDS = 25  # test splits tried to give every class its minimum of test clips


@dataclass(frozen=True)
class SplitResult:
    """The split of each clip, whether children could be kept apart, and the test split's
    clips per class against the minimum asked for (``short``: classes below it)."""

    split: pd.Series
    grouped_by_child: bool
    test_counts: dict[str, int] = field(default_factory=dict)
    short: dict[str, int] = field(default_factory=dict)


def groups(manifest: pd.DataFrame) -> pd.Series:
    """A group id per clip: its child, merged with any clip sharing its audio hash.

    Clips without a child id form their own group (clip-level splitting for them).
    """
    child = manifest["child_id"].astype("string").fillna("clip:" + manifest["clip_id"].astype(str))
    parent = {g: g for g in child.unique()}

    def find(g: str) -> str:
        while parent[g] != g:
            parent[g] = parent[parent[g]]
            g = parent[g]
        return g

    if "sha256" in manifest.columns:
        for members in child.groupby(manifest["sha256"]).unique():
            for other in members[1:]:
                parent[find(other)] = find(members[0])
    return child.map(find)


def _holdout(labels: np.ndarray, group_ids: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of a stratified, grouped hold-out of about ``fraction`` of the clips."""
    n_splits = max(2, round(1 / fraction))
    n_groups = len(np.unique(group_ids))
    splitter = StratifiedGroupKFold(
        n_splits=min(n_splits, n_groups), shuffle=True, random_state=seed
    )
    _, held = next(splitter.split(np.zeros(len(labels)), labels, group_ids))
    mask = np.zeros(len(labels), dtype=bool)
    mask[held] = True
    return mask


def _test_split(
    labels: np.ndarray, group_ids: np.ndarray, fraction: float, seed: int, minimum: int
) -> tuple[np.ndarray, dict[str, int]]:
    """The first grouped hold-out (seeds ``seed``, ``seed + 1``, ...) that gives each class
    ``minimum`` test clips (or the share of its clips ``fraction`` promises, if fewer), else the
    one closest to it; and the classes left short with their counts."""
    names, totals = np.unique(labels, return_counts=True)
    wanted = {n: min(minimum, int(c * fraction)) for n, c in zip(names, totals, strict=True)}
    best, best_gap, best_short = None, None, {}
    for attempt in range(SEARCHED_SEEDS if minimum else 1):
        mask = _holdout(labels, group_ids, fraction, seed + 1000 * attempt)
        counts = dict(zip(*np.unique(labels[mask], return_counts=True), strict=True))
        short = {n: int(counts.get(n, 0)) for n in names if counts.get(n, 0) < wanted[n]}
        gap = sum(wanted[n] - c for n, c in short.items())
        if best is None or gap < best_gap:
            best, best_gap, best_short = mask, gap, short
        if not short:
            break
    return best, best_short


def split(
    manifest: pd.DataFrame,
    valid_fraction: float = 0.15,
    test_fraction: float = 0.2,
    seed: int = 0,
    min_test_clips: int = 0,
) -> SplitResult:
    """Assign each clip to train/valid/test, grouped by child and stratified by label.

    With ``min_test_clips``, several grouped test splits are tried until every class has that
    many test clips (a class with fewer clips in all: the share of them the test fraction
    promises); the result says which classes stayed short. Needs at least three groups
    (children, or clips when no child id is given).
    """
    group_ids = groups(manifest).to_numpy()
    labels = manifest["label"].to_numpy()
    if len(np.unique(group_ids)) < 3:
        raise ValueError("need at least 3 children (or clips) to make train/valid/test splits")
    split_of = np.full(len(manifest), "train", dtype=object)
    test, short = _test_split(labels, group_ids, test_fraction, seed, min_test_clips)
    split_of[test] = "test"
    rest = np.flatnonzero(~test)
    valid = _holdout(labels[rest], group_ids[rest], valid_fraction / (1 - test_fraction), seed + 1)
    split_of[rest[valid]] = "valid"
    grouped = bool(manifest["child_id"].notna().all())
    counts = pd.Series(labels[test]).value_counts()
    return SplitResult(
        pd.Series(split_of, index=manifest.index, name="split"),
        grouped,
        {str(k): int(v) for k, v in counts.items()},
        short,
    )


def overlaps(manifest: pd.DataFrame, split_of: pd.Series) -> dict[str, list[str]]:
    """Children and audio hashes found in more than one split (empty lists when disjoint)."""
    found = {}
    for column in ("child_id", "sha256"):
        if column not in manifest.columns:
            continue
        spread = split_of.groupby(manifest[column]).nunique()
        found[column] = sorted(str(v) for v in spread[spread > 1].index)
    return found


def select(
    features: pd.DataFrame, data_splits: pd.DataFrame, names: Sequence[str]
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Features, labels and group ids of the clips in the named splits.

    ``features`` is indexed by clip id; ``data_splits`` has ``clip_id``, ``label``, ``child_id``,
    ``sha256`` and ``split`` columns. Clips without features are left out; the order of
    ``data_splits`` is kept.
    """
    rows = data_splits.set_index("clip_id")
    rows = rows[rows["split"].isin(list(names))]
    rows = rows.loc[rows.index.intersection(features.index)]
    group_ids = groups(rows.reset_index()).set_axis(rows.index)
    return features.loc[rows.index], rows["label"], group_ids
