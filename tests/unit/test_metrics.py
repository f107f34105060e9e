import pytest

from vocalbaby import metrics, plots


def test_uar_is_macro_recall_over_present_classes() -> None:
    truth = ["crying"] * 8 + ["junk"] * 2
    pred = ["crying"] * 8 + ["crying", "junk"]
    result = metrics.report(truth, pred)
    assert result["uar"] == pytest.approx((1.0 + 0.5) / 2)
    assert result["accuracy"] == pytest.approx(0.9)
    assert result["per_class"]["junk"] == {
        "precision": 1.0,
        "recall": 0.5,
        "f1": pytest.approx(2 / 3),
        "support": 2,
    }
    assert result["per_class"]["laughing"]["support"] == 0
    labels = result["labels"]
    assert result["confusion_matrix"][labels.index("junk")][labels.index("crying")] == 1


def test_majority_guessing_scores_chance_uar_despite_high_accuracy() -> None:
    truth = ["non_canonical"] * 90 + ["crying"] * 5 + ["junk"] * 5
    result = metrics.report(truth, ["non_canonical"] * 100)
    assert result["accuracy"] == 0.9
    assert result["uar"] == pytest.approx(1 / 3)


def test_text_and_png() -> None:
    result = metrics.report(["crying", "junk"], ["crying", "crying"])
    assert "UAR 0.500" in metrics.format_text(result)
    assert plots.confusion_matrix_png(result).startswith(b"\x89PNG")


def test_confusion_counts_pairs_and_ignores_unknown_labels() -> None:
    truth = ["crying", "junk", "junk", "laughing", "noise"]
    predicted = ["crying", "crying", "junk", "junk", "junk"]
    counts = metrics.confusion(truth, predicted, labels=["crying", "junk", "laughing"])
    assert counts.tolist() == [[1, 0, 0], [1, 1, 0], [0, 1, 0]]
    per_child = metrics.group_confusions(truth, predicted, ["a", "a", "b", "b", "b"])
    assert per_child.shape == (2, 5, 5) and per_child.sum() == 4
