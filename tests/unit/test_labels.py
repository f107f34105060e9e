import pytest

from vocalbaby.labels import CLASSES, UnknownLabelError, normalize_label, normalize_labels


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Non-canonical", "non_canonical"),
        ("NON_CANONICAL", "non_canonical"),
        (" canonical ", "canonical"),
        ("Crying", "crying"),
        ("Laughing", "laughing"),
        ("Junk", "junk"),
        ("cry", "crying"),
    ],
)
def test_labels_are_normalised(raw: str, expected: str) -> None:
    assert normalize_label(raw) == expected


def test_unknown_labels_are_listed_with_their_rows() -> None:
    with pytest.raises(UnknownLabelError) as err:
        normalize_labels(["crying", "babble", "junk", "speech"])
    assert "row 1: 'babble'" in str(err.value)
    assert "row 3: 'speech'" in str(err.value)


def test_classes_are_the_five_of_babblecor() -> None:
    assert CLASSES == ("canonical", "non_canonical", "crying", "laughing", "junk")
