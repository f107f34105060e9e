"""Child-bootstrap intervals, calibration, breakdowns, PR curves and the multi-metric gate."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import precision_recall_fscore_support

from tests.evaluation import synthetic
from vocalbaby import evaluation, metrics, model
from vocalbaby.labels import CLASSES


def _width(found: dict) -> float:
    return found["high"] - found["low"]


# --- intervals ---------------------------------------------------------------------------------


def test_vectorised_scores_equal_scikit_learn_on_stacked_confusion_matrices() -> None:
    truth, predicted, _ = synthetic.predictions(children=4, clips=10)
    truth[truth == "laughing"] = "junk"  # one class without support
    both = np.stack([metrics.confusion(truth, predicted), metrics.confusion(predicted, truth)])
    found = metrics.scores(both)
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=list(CLASSES), zero_division=0
    )
    np.testing.assert_allclose(found["recall"][0], recall)
    np.testing.assert_allclose(found["precision"][0], precision)
    np.testing.assert_allclose(found["f1"][0], f1)
    assert found["uar"][0] == pytest.approx(recall[support > 0].mean())
    assert found["macro_f1"][0] == pytest.approx(f1[support > 0].mean())
    assert found["uar"][1] == pytest.approx(metrics.uar(predicted, truth))


def test_interval_contains_the_point_estimate_and_narrows_with_more_children() -> None:
    widths = []
    for children in (8, 80):
        truth, predicted, child = synthetic.predictions(children)
        found = evaluation.intervals(truth, predicted, child, seed=1)
        report = metrics.report(truth, predicted)
        assert found["uar"]["estimate"] == pytest.approx(report["uar"])
        assert found["n_groups"] == children
        for value in (found["uar"], found["macro_f1"], *found["recall"].values()):
            assert value["low"] <= value["estimate"] <= value["high"]
        widths.append(_width(found["uar"]))
    assert widths[1] < widths[0] / 2  # ten times the children: about a third of the width


def test_children_not_clips_are_resampled() -> None:
    truth, predicted, child = synthetic.predictions(children=12, clips=50)
    by_child = evaluation.intervals(truth, predicted, child)
    by_clip = evaluation.intervals(truth, predicted, np.arange(len(truth)))
    assert _width(by_child["uar"]) > 1.5 * _width(by_clip["uar"])  # children differ
    one_child = evaluation.intervals(truth, predicted, np.zeros(len(truth)))
    assert one_child["uar"]["low"] == one_child["uar"]["high"] == one_child["uar"]["estimate"]


def test_class_without_clips_has_no_interval_and_text_shows_intervals() -> None:
    truth, predicted, child = synthetic.predictions(children=10)
    keep = (truth != "laughing").to_numpy()
    truth, predicted, child = truth[keep], predicted[keep], child[keep]
    report = evaluation.with_intervals(metrics.report(truth, predicted), truth, predicted, child)
    assert report["intervals"]["recall"]["laughing"] is None
    text = metrics.format_text(report)
    low, high = report["intervals"]["uar"]["low"], report["intervals"]["uar"]["high"]
    assert f"95% CI over 10 children: UAR {low:.3f}-{high:.3f}" in text


def test_ece_is_near_zero_when_calibrated_and_large_when_overconfident() -> None:
    proba, labels = synthetic.calibrated_proba(20_000)
    assert evaluation.reliability(proba, labels)["ece"] < 0.02
    sharp = pd.DataFrame(model.apply_temperature(proba.to_numpy(), 1 / 3), columns=CLASSES)
    table = evaluation.reliability(sharp, labels)
    assert table["ece"] > 0.1
    assert table["bins"]["count"].sum() == len(labels)
    busy = table["bins"][table["bins"]["count"] >= 200]
    assert len(busy) >= 5 and (busy["confidence"] > busy["accuracy"]).all()


def test_temperature_scaling_lowers_ece_and_keeps_every_prediction() -> None:
    proba, labels = synthetic.calibrated_proba(5_000, seed=2)
    sharp = pd.DataFrame(model.apply_temperature(proba.to_numpy(), 1 / 3), columns=CLASSES)
    calibration = evaluation.calibrate(sharp, labels)
    assert calibration.applied
    assert calibration.temperature == pytest.approx(3.0, rel=0.1)
    assert calibration.ece_after < calibration.ece_before / 3
    rescaled = model.apply_temperature(sharp.to_numpy(), calibration.temperature)
    np.testing.assert_array_equal(rescaled.argmax(axis=1), sharp.to_numpy().argmax(axis=1))


def test_temperature_is_kept_out_when_it_does_not_lower_ece() -> None:
    proba, labels = synthetic.calibrated_proba(300, seed=3)
    found = evaluation.calibrate(proba, labels)
    assert found.ece_after <= found.ece_before
    assert found.applied == (found.temperature == found.fitted_temperature != 1.0)
    if not found.applied:
        assert found.temperature == 1.0 and found.ece_after == found.ece_before


# --- breakdowns and PR curves ------------------------------------------------------------------


def test_breakdowns_score_each_group_and_list_the_worst() -> None:
    truth = pd.Series(["crying", "junk"] * 20)
    predicted = truth.copy()
    predicted[:10] = "junk"  # the first 10 clips (corpus A) lose their crying
    manifest = pd.DataFrame(
        {
            "corpus": ["A"] * 10 + ["B"] * 30,
            "age_months": [3] * 20 + [14] * 20,
            "gender": [np.nan] * 40,  # no values: no gender breakdown
        }
    )
    groupings = evaluation.attributes(manifest)
    assert list(groupings.columns) == ["corpus", "age band"]
    tables = evaluation.breakdowns(truth, predicted, groupings)
    corpus = tables["corpus"]
    assert corpus.loc["A", "UAR"] == pytest.approx(0.5)
    assert corpus.loc["A", "recall crying"] == 0.0
    assert corpus.loc["B", "UAR"] == 1.0
    assert np.isnan(corpus.loc["B", "recall laughing"])
    assert tables["age band"]["clips"].to_dict() == {"0-5 mo": 20, "12-17 mo": 20}
    worst = evaluation.worst_groups(tables, n=2)
    assert worst.iloc[0][["attribute", "group"]].tolist() == ["corpus", "A"]
    assert worst.iloc[1][["attribute", "group"]].tolist() == ["age band", "0-5 mo"]


def test_pr_curves_cover_present_classes() -> None:
    proba, labels = synthetic.calibrated_proba(500, seed=4)
    labels[labels == "laughing"] = "junk"
    curves = evaluation.pr_curves(proba, labels)
    assert set(curves) == set(CLASSES) - {"laughing"}
    for label, curve in curves.items():
        assert curve["support"] == (labels == label).sum()
        assert curve["prevalence"] < curve["average_precision"] <= 1  # better than chance


# --- the gate ----------------------------------------------------------------------------------


def _report(truth, predicted, child) -> dict:
    return evaluation.with_intervals(metrics.report(truth, predicted), truth, predicted, child)


@pytest.fixture(scope="module")
def good() -> tuple[pd.Series, pd.Series, pd.Series]:
    rng = np.random.default_rng(5)
    truth, _, child = synthetic.predictions(children=30)
    predicted = truth.where(rng.random(len(truth)) < 0.85, "junk")
    return truth, predicted, child


def _difference(truth, first, second, child) -> dict:
    return evaluation.paired_difference(truth, first, second, child, n_boot=500)


def test_a_good_model_passes_every_criterion(good) -> None:
    truth, predicted, child = good
    baseline = truth.where(np.random.default_rng(6).random(len(truth)) < 0.6, "junk")
    decision = evaluation.gate(
        _report(*good), evaluation.GateCriteria(), _difference(truth, predicted, baseline, child)
    )
    assert decision["passed"] and decision["reasons"] == []
    assert {"passed", "uar", "min_uar", "criteria", "reasons", "not_judged"} <= set(decision)
    names = [c["criterion"] for c in decision["criteria"]]
    assert names[:2] == ["UAR", "UAR, lower 95% bound"]
    assert {f"recall of {c}" for c in CLASSES} < set(names)
    assert "UAR - ComParE recipe, lower 95% bound (paired, by child)" in names


def test_shuffled_predictions_fail_the_gate_naming_the_criteria(good) -> None:
    truth, predicted, child = good
    shuffled = pd.Series(np.random.default_rng(0).permutation(predicted.to_numpy()))
    decision = evaluation.gate(_report(truth, shuffled, child), evaluation.GateCriteria())
    assert not decision["passed"]
    assert any(r.startswith("UAR ") for r in decision["reasons"])
    assert any(r.startswith("UAR, lower 95% bound") for r in decision["reasons"])


def test_one_class_never_recognised_fails_on_its_recall_alone(good) -> None:
    truth, predicted, child = good
    degraded = predicted.mask(truth == "crying", "junk")
    decision = evaluation.gate(_report(truth, degraded, child), evaluation.GateCriteria())
    assert decision["uar"] > 0.6
    assert not decision["passed"]
    assert decision["reasons"] == ["recall of crying 0.000 < 0.200"]


def test_a_model_that_never_predicts_a_rare_class_fails_even_with_four_clips(good) -> None:
    """With four laughing clips in the test split, the old gate skipped laughing altogether."""
    truth, predicted, child = good
    rare = truth.mask((truth == "laughing") & (truth.index % 40 != 0), "junk")  # keep 4 or so
    assert 0 < (rare == "laughing").sum() < 10
    never = predicted.mask(rare == "laughing", "junk").mask(predicted == "laughing", "junk")
    decision = evaluation.gate(_report(rare, never, child), evaluation.GateCriteria())
    assert decision["uar"] > 0.6 and not decision["passed"]
    (reason,) = decision["reasons"]
    assert reason.startswith("recall of laughing, upper 95% bound") and "fewer than 30" in reason
    found = predicted.mask(rare == "laughing", "laughing")  # finds every laughing clip
    assert evaluation.gate(_report(rare, found, child), evaluation.GateCriteria())["passed"]


def test_classes_absent_from_the_test_split_are_named_not_judged(good) -> None:
    truth, predicted, child = good
    keep = truth != "laughing"
    decision = evaluation.gate(
        _report(truth[keep], predicted[keep], child[keep]), evaluation.GateCriteria()
    )
    assert decision["not_judged"] == ["laughing"]
    assert not any("laughing" in c["criterion"] for c in decision["criteria"])


LEADS = (0.3, -0.15, 0.25, -0.1, 0.15, -0.1, 0.1, -0.05)  # per child, mean 0.05


def test_a_lead_over_the_baseline_within_noise_does_not_promote() -> None:
    """Eight children, a model about 4 UAR points ahead on average but behind on half of them:
    the point estimate clears a 0.02 margin (the old gate promoted), the paired interval does
    not."""
    rng = np.random.default_rng(11)
    truth, _, child = synthetic.predictions(children=8, clips=40, seed=3)
    lead = child.map(dict(zip([f"kid{i}" for i in range(8)], LEADS, strict=True)))
    draw = rng.random(len(truth))
    baseline = truth.where(draw < 0.6, "junk")
    model = truth.where(draw < 0.6 + lead, "junk")
    difference = _difference(truth, model, baseline, child)
    assert difference["estimate"] > 0.02 > difference["low"]
    criteria = evaluation.GateCriteria(baseline_margin=0.02, min_class_recall=None)
    decision = evaluation.gate(_report(truth, model, child), criteria, difference)
    assert not decision["passed"]
    (reason,) = decision["reasons"]
    assert reason.startswith("UAR - ComParE recipe, lower 95% bound (paired, by child)")


def test_the_paired_difference_cancels_what_both_models_share() -> None:
    truth, predicted, child = synthetic.predictions(children=12, clips=30, seed=4)
    same = evaluation.paired_difference(truth, predicted, predicted, child, n_boot=300)
    assert same == {"estimate": 0.0, "low": 0.0, "high": 0.0, "n_groups": 12, "level": 0.95}
    better = predicted.where(np.random.default_rng(1).random(len(truth)) > 0.3, truth)
    paired = evaluation.paired_difference(truth, better, predicted, child, n_boot=500)
    first = evaluation.intervals(truth, better, child, n_boot=500)["uar"]
    second = evaluation.intervals(truth, predicted, child, n_boot=500)["uar"]
    assert paired["low"] > 0
    assert paired["high"] - paired["low"] < (first["high"] - first["low"]) + (
        second["high"] - second["low"]
    )


def test_criteria_can_be_switched_off(good) -> None:
    report = _report(*good)
    only_uar = evaluation.GateCriteria(
        min_uar_ci_low=None, min_class_recall=None, baseline_margin=None
    )
    decision = evaluation.gate(report, only_uar, {"estimate": -1.0, "low": -1.0, "high": -1.0})
    assert decision["passed"]
    assert decision["criteria"] == [
        {"criterion": "UAR", "value": report["uar"], "threshold": 0.5, "passed": True}
    ]
