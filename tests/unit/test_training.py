import numpy as np
import optuna
import pandas as pd
import pytest

from vocalbaby import training
from vocalbaby.labels import CLASSES


@pytest.fixture(scope="module")
def grouped_data() -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    rng = np.random.default_rng(1)
    labels = pd.Series(np.tile(np.repeat(CLASSES, [6, 8, 3, 2, 7]), 8))
    groups = pd.Series(np.repeat([f"kid{i}" for i in range(8)], 26))
    centres = labels.map({c: i for i, c in enumerate(CLASSES)}).to_numpy()[:, None]
    features = pd.DataFrame(rng.standard_normal((len(labels), 5)) + 1.5 * centres)
    features.columns = [f"f{i}" for i in range(5)]
    return features, labels, groups


def test_smote_adds_only_synthetic_rows_after_the_originals(grouped_data) -> None:
    features, labels, _ = grouped_data
    prepared = training.prepare(features, labels)
    n = len(labels)
    pd.testing.assert_frame_equal(prepared.features.iloc[:n], features.reset_index(drop=True))
    assert not prepared.synthetic[:n].any() and prepared.synthetic[n:].all()
    assert set(prepared.class_counts().values()) == {max(labels.value_counts())}
    assert prepared.class_counts(False) == labels.value_counts().reindex(CLASSES).to_dict()


def test_a_class_with_one_clip_is_replicated_not_smoted() -> None:
    features = pd.DataFrame({"a": [0.0, 0.1, 0.2, 5.0], "b": [1.0, 1.1, 1.2, 9.0]})
    labels = pd.Series(["junk", "junk", "junk", "crying"])
    prepared = training.prepare(features, labels)
    assert prepared.class_counts()["crying"] == 3
    assert (prepared.features.loc[prepared.labels == "crying", "a"] == 5.0).all()


def test_grouped_folds_never_share_a_child(grouped_data) -> None:
    _, labels, groups = grouped_data
    for train_idx, test_idx in training.grouped_folds(labels, groups, folds=4, seed=0):
        assert not set(groups.iloc[train_idx]) & set(groups.iloc[test_idx])


def test_cross_validation_learns_separable_data(grouped_data) -> None:
    features, labels, groups = grouped_data
    scores = training.cross_validate(features, labels, groups, training.DEFAULT_PARAMS, folds=4)
    assert len(scores) == 4
    assert np.mean(scores) > 0.6


def test_tuning_persists_and_resumes_its_study(tmp_path, grouped_data) -> None:
    features, labels, groups = grouped_data
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    lines: list[str] = []
    kwargs = {"folds": 3, "storage": storage, "study_name": "t", "log": lines.append}
    first = training.tune(features, labels, groups, n_trials=3, **kwargs)
    assert len(first.trials) == 3
    assert first.best_uar > 0.5
    assert len(lines) == 3 and "trial 0" in lines[0]
    second = training.tune(features, labels, groups, n_trials=4, **kwargs)
    assert len(second.trials) == 4
    assert len(lines) == 4


def test_the_study_name_changes_with_labels_children_space_and_settings(grouped_data) -> None:
    features, labels, groups = grouped_data
    space = training.XGBOOST_SPACE

    def name(**changes) -> str:
        args = {"features": features, "labels": labels, "groups": groups, "space": space}
        args |= {"folds": 4, "seed": 0} | changes
        return training.study_name(**args)

    same = name()
    assert same == name() and same.startswith("vocalbaby-")
    corrected = labels.copy()
    corrected.iloc[0] = next(c for c in CLASSES if c != labels.iloc[0])  # one label corrected
    narrower = space | {"max_depth": training.Param(2, 6, integer=True)}
    changed = [
        name(labels=corrected),
        name(groups=groups.replace({groups.iloc[0]: "new-child"})),
        name(space=narrower),
        name(folds=3),
        name(seed=1),
        name(features=features.assign(**{features.columns[0]: features.iloc[:, 0] + 1})),
    ]
    assert same not in changed and len(set(changed)) == len(changed)


def test_a_label_correction_starts_a_new_study_and_keeps_the_old(tmp_path, grouped_data) -> None:
    features, labels, groups = grouped_data
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    space = training.XGBOOST_SPACE
    kwargs = {"folds": 3, "storage": storage, "log": lambda _: None}
    first = training.tune(
        features,
        labels,
        groups,
        n_trials=2,
        study_name=training.study_name(features, labels, groups, space, 3, 0),
        **kwargs,
    )
    corrected = labels.copy()
    corrected.iloc[:5] = "junk"
    name = training.study_name(features, corrected, groups, space, 3, 0)
    second = training.tune(features, corrected, groups, n_trials=2, study_name=name, **kwargs)
    assert second.study_name != first.study_name
    assert second.resumed_trials == 0 and len(second.trials) == 2, "new trials, none reused"
    kept = {s.study_name for s in optuna.get_all_study_summaries(storage)}
    assert kept == {first.study_name, second.study_name}
