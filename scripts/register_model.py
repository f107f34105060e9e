"""Register a gated model bundle in the BentoML store and print its tag (release workflow).

    python scripts/register_model.py s3://bucket/vocalbaby/models        # the current model
    python scripts/register_model.py artifacts/models/20261104T101010Z-ab12cd34

Takes a bundle folder or a models folder (its ``latest.json``), local or ``s3://``, and refuses a
bundle whose ``evaluation.json`` is missing or failed the UAR gate. Then
``VOCALBABY_MODEL_TAG=<tag> bentoml build`` packs it into a Bento.
"""

from __future__ import annotations

import json
import sys

from vocalbaby import model, storage
from vocalbaby_service import model_store


def register(uri: str) -> str:
    """Load the gated bundle at ``uri`` and register it; return the BentoML model tag."""
    bundle_uri = model.resolve(uri)
    evaluation = json.loads(storage.read_bytes(storage.join(bundle_uri, "evaluation.json")))
    gate = evaluation["gate"]
    if not gate["passed"]:
        raise SystemExit(f"{bundle_uri}: test UAR {gate['uar']:.3f} failed the gate")
    bundle = model.ModelBundle.load(bundle_uri)
    metadata = {
        "version": bundle.version,
        "source": bundle_uri,
        "metrics": evaluation["metrics"],
        "feature_config": bundle.feature_config,
        "git_commit": bundle.metadata.get("git_commit"),
    }
    return model_store.register(bundle, metadata=metadata, labels={"stage": "released"})


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(register(sys.argv[1]))
