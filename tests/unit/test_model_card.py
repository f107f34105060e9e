"""What the model card tells users about a model's training data."""

from vocalbaby import model_card

LOCO = {
    "pooled_uar": {"estimate": 0.52, "low": 0.47, "high": 0.56},
    "vs_compare_recipe": {"estimate": -0.073, "low": -0.128, "high": -0.026},
    "held_out": ["donateacry", "esc50", "synth-A"],
    "synthetic_held_out": ["synth-A"],
    "lowest_real_recall": {"corpus": "esc50", "class": "junk", "recall": 0.3},
    "level": 0.95,
}


def test_a_model_of_real_corpora_states_them_and_its_loco_figure() -> None:
    meta = {"trained_corpora": ["donateacry", "esc50", "synth-A"], "generalisation": LOCO}
    found = model_card.training_data(meta)
    assert found == {
        "model_family": "xgboost",
        "corpora": ["donateacry", "esc50", "synth-A"],
        "synthetic_demo_data_only": False,
        "leave_one_corpus_out": LOCO,
    }
    text = model_card.describe_training_data(meta)
    assert text.splitlines() == [
        "Trained on: donateacry, esc50, synth-A",
        "Model family: xgboost",
        "Leave-one-corpus-out UAR 0.520 (95% CI 0.470-0.560) over held-out donateacry, esc50, "
        "synth-A; minus the ComParE recipe: -0.073; lowest real-corpus recall: junk 0.30 on "
        "esc50",
    ]


def test_the_demo_model_is_labelled_synthetic_only_and_a_missing_figure_said_so() -> None:
    text = model_card.describe_training_data({"synthetic_demo_data": True})
    assert "SYNTHETIC demo data only" in text
    assert text.endswith("Leave-one-corpus-out: not measured")
    assert model_card.training_data({})["corpora"] == []


def test_a_linear_svm_says_so() -> None:
    text = model_card.describe_training_data({"model_family": "linear_svm"})
    assert text.splitlines()[1] == "Model family: linear_svm"
