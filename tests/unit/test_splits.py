import pandas as pd

from vocalbaby import dataset, splits


def test_demo_splits_are_child_disjoint_and_stratified(demo_dataset) -> None:
    manifest = dataset.read(demo_dataset)
    result = splits.split(manifest, seed=0)
    assert result.grouped_by_child
    assert set(result.split) == {"train", "valid", "test"}
    assert splits.overlaps(manifest, result.split) == {"child_id": []}
    share = result.split.value_counts(normalize=True)
    assert 0.1 < share["test"] < 0.35
    assert manifest.loc[result.split == "train", "label"].nunique() == 5


def test_identical_audio_of_different_children_stays_in_one_split() -> None:
    manifest = pd.DataFrame(
        {
            "clip_id": [f"c{i}" for i in range(40)],
            "child_id": [f"kid{i % 8}" for i in range(40)],
            "label": ["junk", "crying"] * 20,
            "sha256": [f"h{i}" for i in range(39)] + ["h0"],
        }
    )
    result = splits.split(manifest, seed=3)
    assert result.split.iloc[0] == result.split.iloc[39]
    assert splits.overlaps(manifest, result.split)["sha256"] == []


def test_without_child_ids_clips_are_split_and_flagged() -> None:
    manifest = pd.DataFrame(
        {
            "clip_id": [f"c{i}" for i in range(30)],
            "child_id": pd.NA,
            "label": ["junk", "crying", "canonical"] * 10,
        }
    )
    result = splits.split(manifest)
    assert not result.grouped_by_child
    assert result.split.value_counts().to_dict().keys() == {"train", "valid", "test"}
