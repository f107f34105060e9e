"""The JSON input of ``/predict_features``: one row of the 88 named eGeMAPS features.

Every feature is required (a missing one is a 400 naming it); ``null`` is allowed and imputed
with the model's training median, like a feature openSMILE could not compute. Other keys are
ignored; infinite values and NaN are refused.
"""

from __future__ import annotations

from collections.abc import Sequence

import pydantic

from vocalbaby import features


def feature_row_model(names: Sequence[str]) -> type[pydantic.BaseModel]:
    """A pydantic model with one required ``float | None`` field per feature name (its alias)."""
    fields: dict[str, object] = {
        f"f{i}": (float | None, pydantic.Field(alias=name)) for i, name in enumerate(names)
    }
    return pydantic.create_model(
        "FeatureRow",
        __config__=pydantic.ConfigDict(extra="ignore", allow_inf_nan=False),
        **fields,
    )


ROW_FEATURE_SET = features.DEFAULT_FEATURE_SET  # a model trained on another set takes audio only
FeatureRow = feature_row_model(features.feature_names(ROW_FEATURE_SET))
