"""Leave-one-corpus-out evaluation (synthetic feature tables with known corpus effects)."""

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from vocalbaby import baselines, generalisation, metrics, training
from vocalbaby.generalisation import Recipe
from vocalbaby.labels import CLASSES
from vocalbaby.model import FAMILIES

FAST = {"num_boost_round": 30, "max_depth": 3}


def corpora_data(confounded: bool, seed: int = 0) -> tuple[pd.DataFrame, ...]:
    """Three corpora of crying and junk. Each corpus shifts features 1-5. With ``confounded``
    the class is only visible through a corpus-specific feature (so a model learns the corpus,
    not the class); otherwise through feature 0, the same in every corpus."""
    rng = np.random.default_rng(seed)
    rows = []
    for k, corpus in enumerate(["A", "B", "C"]):
        for child in range(10):
            label = np.array(["crying", "junk"])[rng.integers(0, 2, 12)]
            x = rng.normal(0, 1, (12, 6))
            x[:, 1:] += 3 * k
            signal = 3 + k if confounded else 0
            x[:, signal] += np.where(label == "crying", 3.0, -3.0)
            for i in range(12):
                rows.append((f"{corpus}{child}-{i}", corpus, f"{corpus}{child}", label[i], *x[i]))
    frame = pd.DataFrame(
        rows, columns=["clip_id", "corpus", "child", "label", *[f"f{i}" for i in range(6)]]
    ).set_index("clip_id")
    return frame.filter(like="f"), frame["label"], frame["child"], frame["corpus"]


@pytest.fixture(scope="module")
def shared_signal() -> tuple[pd.DataFrame, ...]:
    return corpora_data(confounded=False)


def test_units_are_corpora_and_clips_without_one_go_to_grouped_folds(shared_signal) -> None:
    _, labels, groups, corpus = shared_signal
    corpus = corpus.where(~corpus.eq("C"))  # corpus C unlabelled
    units = generalisation.held_out_units(corpus, labels, groups, folds=3)
    assert set(units[corpus.notna()]) == {"A", "B"}
    folds = set(units[corpus.isna()])
    assert folds == {f"{generalisation.NO_CORPUS} fold {k}" for k in (1, 2, 3)}
    assert (groups.groupby(units).nunique() > 0).all()
    assert (units.groupby(groups).nunique() == 1).all(), "a child was split across units"


def test_a_single_corpus_falls_back_to_grouped_folds_of_recordings(shared_signal) -> None:
    _, labels, groups, _ = shared_signal
    one = pd.Series("only", index=labels.index)
    units = generalisation.held_out_units(one, labels, groups, folds=4)
    assert units.nunique() == 4 and not units.eq("only").any()
    assert (units.groupby(groups).nunique() == 1).all()


class Spy:
    """A fit that records what it was trained on and predicts the majority class."""

    def __init__(self) -> None:
        self.trained_on: list[pd.Index] = []

    def __call__(self, x, y, groups, params) -> object:
        self.trained_on.append(x.index)
        majority = y.value_counts().idxmax()

        class Model:
            def predict(self, features: pd.DataFrame) -> Sequence[str]:
                return [majority] * len(features)

        return Model()


def test_no_recipe_ever_trains_on_the_corpus_it_predicts_and_extra_rows_come_from_training(
    shared_signal,
) -> None:
    features, labels, groups, corpus = shared_signal
    units = generalisation.held_out_units(corpus, labels, groups)
    with_extra, without = Spy(), Spy()
    asked: list[pd.Index] = []

    def extra(train: pd.Index) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
        asked.append(train)
        copies = features.loc[train].set_axis([f"{c}~aug" for c in train])
        return copies, labels.loc[train].set_axis(copies.index), groups.loc[train]

    predictions = generalisation.predict_held_out(
        features,
        labels,
        groups,
        units,
        {"with": Recipe(with_extra, {}), "without": Recipe(without, {}, uses_extra=False)},
        extra=extra,
    )
    assert predictions.groupby("model")["clip_id"].apply(sorted).map(len).eq(len(labels)).all()
    for unit, train, seen_with, seen_without in zip(
        units.unique(), asked, with_extra.trained_on, without.trained_on, strict=True
    ):
        held = set(units.index[units == unit])
        assert not held & set(train)
        assert not held & {c.removesuffix("~aug") for c in seen_with}
        assert len(seen_with) == 2 * len(seen_without) == 2 * len(train)


def test_loco_exposes_a_model_that_learned_the_corpus_instead_of_the_class() -> None:
    """Grouped CV within the corpora cannot tell the two datasets apart; LOCO can."""
    results = {}
    for confounded in (False, True):
        features, labels, groups, corpus = corpora_data(confounded)
        units = generalisation.held_out_units(corpus, labels, groups)
        within = training.cross_validate(features, labels, groups, FAST, folds=3)
        recipes = {generalisation.REFERENCE: generalisation.recipes(FAST)[generalisation.REFERENCE]}
        predictions = generalisation.predict_held_out(features, labels, groups, units, recipes)
        summary = generalisation.summarise(predictions, n_boot=200)
        pooled = summary["models"][generalisation.REFERENCE]["pooled"]["uar"]["estimate"]
        results[confounded] = (float(np.mean(within)), pooled)
    assert results[False][0] > 0.9 and results[True][0] > 0.9
    assert results[False][1] > 0.9
    assert results[True][1] < 0.75


def test_summary_scores_match_the_metrics_and_pair_with_the_compare_recipe(shared_signal) -> None:
    features, labels, groups, corpus = shared_signal
    corpus = corpus.replace({"C": "synth-A"})
    units = generalisation.held_out_units(corpus, labels, groups)
    predictions = generalisation.predict_held_out(
        features, labels, groups, units, generalisation.recipes(FAST)
    )
    summary = generalisation.summarise(predictions, n_boot=200)
    xgb = summary["models"][generalisation.REFERENCE]
    compare = summary["models"][baselines.COMPARE_RECIPE]
    rows = predictions[predictions["model"] == generalisation.REFERENCE]
    base = predictions[predictions["model"] == baselines.COMPARE_RECIPE]
    assert xgb["pooled"]["uar"]["estimate"] == pytest.approx(
        metrics.uar(rows["label"], rows["prediction"])
    )
    for unit, part in rows.groupby("unit"):
        found = xgb["held_out"][unit]
        assert found["clips"] == len(part) and set(found["recall"]) == set(part["label"])
        assert found["synthetic"] == (unit == "synth-A")
        difference = found["vs_compare_recipe"]
        expected = metrics.uar(part["label"], part["prediction"]) - metrics.uar(
            part["label"], base[base["unit"] == unit]["prediction"]
        )
        assert difference["estimate"] == pytest.approx(expected)
        assert difference["low"] <= difference["estimate"] <= difference["high"]
    assert compare["pooled"]["vs_compare_recipe"] is None
    shown = generalisation.table(summary)
    assert "synth-A (synthetic)" in set(shown["held out"])
    assert {"recall crying", "recall junk"} <= set(shown.columns)
    assert not {f"recall {c}" for c in CLASSES if c not in ("crying", "junk")} & set(shown)
    head = generalisation.headline(summary)
    assert head["synthetic_held_out"] == ["synth-A"]
    assert head["lowest_real_recall"]["corpus"] in {"A", "B"}


def test_a_normalised_recipe_predicts_each_held_out_recording_over_its_own_clips(
    shared_signal,
) -> None:
    features, labels, groups, corpus = shared_signal
    units = generalisation.held_out_units(corpus, labels, groups)
    option = generalisation.Options(prior_clips=1.0)
    recipe = generalisation.recipes(FAST, options=[option])[option.name]
    assert recipe.by_recording and not recipe.uses_extra
    predictions = generalisation.predict_held_out(
        features, labels, groups, units, {"normalised": recipe}
    )
    held = predictions[predictions["unit"] == "C"].set_index("clip_id")
    model = recipe.fit(features[corpus != "C"], labels[corpus != "C"], groups[corpus != "C"], FAST)
    clips = features[corpus == "C"]
    expected = model.predict(clips, groups[corpus == "C"])
    assert (held.loc[clips.index, "prediction"] == expected.to_numpy()).all()
    assert model.normalisation is not None


def test_the_simplest_variant_within_the_margin_of_the_best_is_chosen() -> None:
    options = generalisation.option_grid(True, 1.0)
    uars = [0.40, 0.45, 0.415, 0.44]

    def summary(values: list[float]) -> dict:
        pooled = [{"pooled": {"uar": {"estimate": v}}} for v in values]
        return {"models": {o.name: p for o, p in zip(options, pooled, strict=True)}}

    assert generalisation.choose(summary(uars), options) == options[1]
    assert generalisation.choose(summary(uars), options, min_gain=0.05) == options[0]
    assert generalisation.choose(summary([0.5, 0.51, 0.2, 0.2]), options) == options[0]


def test_each_family_competes_in_every_variant_xgboost_first() -> None:
    options = generalisation.option_grid(True, 1.0, FAMILIES)
    assert [o.family for o in options] == ["xgboost"] * 4 + ["linear_svm"] * 4
    assert options[0].name == generalisation.REFERENCE
    assert options[4].name == generalisation.LINEAR
    assert options[7].name.startswith(generalisation.LINEAR + " + augmented + normalised")
    assert len({o.name for o in options}) == 8
    recipes = generalisation.recipes(FAST, options=options)
    assert recipes[options[4].name].params == {}  # the SVM chooses its C on each training part
    assert recipes[options[0].name].params == dict(FAST)


def test_a_linear_svm_variant_is_trained_and_predicts_held_out_corpora(shared_signal) -> None:
    features, labels, groups, corpus = shared_signal
    units = generalisation.held_out_units(corpus, labels, groups)
    option = generalisation.Options(family="linear_svm")
    recipe = generalisation.recipes(FAST, options=[option])[option.name]
    predictions = generalisation.predict_held_out(
        features, labels, groups, units, {option.name: recipe}
    )
    held = predictions[predictions["unit"] == "C"].set_index("clip_id")
    model = recipe.fit(features[corpus != "C"], labels[corpus != "C"], groups[corpus != "C"], {})
    assert model.family == "linear_svm"
    clips = features[corpus == "C"]
    assert (held.loc[clips.index, "prediction"] == model.predict(clips).to_numpy()).all()


def test_tuning_holds_whole_corpora_out_when_there_are_corpora() -> None:
    children = pd.Series(["a", "a", "b", "c", "d"], name="group")
    corpus = pd.Series(["X", "X", "Y", None, "Y"])
    found = generalisation.tuning_groups(corpus, children)
    assert found.tolist() == ["corpus:X", "corpus:X", "corpus:Y", "recording:c", "corpus:Y"]
    one = pd.Series(["X", "X", None, None, "X"])
    assert generalisation.tuning_groups(one, children) is children
    labels = pd.Series(["crying", "junk"] * 10)
    corpora = pd.Series(np.repeat(["A", "B", "C", "D"], 5))
    groups = generalisation.tuning_groups(corpora, pd.Series(np.arange(20).astype(str)))
    for train, test in training.grouped_folds(labels, groups, folds=4, seed=0):
        assert not set(corpora.iloc[train]) & set(corpora.iloc[test])
