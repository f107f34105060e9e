import pytest

from vocalbaby import metrics


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


def test_text_png_and_gate() -> None:
    result = metrics.report(["crying", "junk"], ["crying", "crying"])
    assert "UAR 0.500" in metrics.format_text(result)
    assert metrics.confusion_matrix_png(result).startswith(b"\x89PNG")
    assert metrics.gate(result, 0.6) == {"passed": False, "uar": 0.5, "min_uar": 0.6}
