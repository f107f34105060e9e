"""Annotation app benchmark: start-up (classifying a folder) and API latency, printed as JSON.

Runs the real catalog and the real ASGI app in-process (Starlette's test client, no network):

- ``startup``: recordings/s to classify a folder, as ``vocalbaby annotate FOLDER`` does on start;
- ``save``: p50/p95 of PUT /api/annotation (one new revision each) on a local store;
- ``list``: p50/p95 of GET /api/recordings once every recording has two annotators' revisions.

    python benchmarks/annotate.py --folder ../shared/data/real-dev/audio --model artifacts/models
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from starlette.testclient import TestClient

from vocalbaby.annotation.catalog import from_folder
from vocalbaby.annotation.store import AnnotationStore
from vocalbaby.model import ModelBundle
from vocalbaby_annotate.app import create_app


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    """p50 and p95 in milliseconds."""
    ordered = sorted(samples_ms)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
    }


def timed(call) -> float:
    start = time.perf_counter()
    response = call()
    assert response.status_code == 200, response.text
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, required=True, help="Folder of recordings.")
    parser.add_argument(
        "--model", default="artifacts/models", help="Model bundle or models folder."
    )
    parser.add_argument("--limit", type=int, default=300, help="Recordings used for the API part.")
    args = parser.parse_args()

    start = time.perf_counter()
    catalog = from_folder(args.folder, ModelBundle.load(args.model))
    startup_s = time.perf_counter() - start
    ids = [r.id for r in catalog.recordings.values() if not r.error][: args.limit]
    with tempfile.TemporaryDirectory() as store_dir:
        app = create_app(catalog, AnnotationStore(store_dir))
        client = TestClient(app, base_url="http://127.0.0.1")  # a Host the app accepts
        saves = []
        for who in ("alice", "bob"):
            for rec_id in ids:
                segments = client.get(f"/api/recording/{rec_id}").json()["suggestions"]
                labelled = [dict(s, labelled_by=who, labelled_at="t") for s in segments]
                body = {"annotator": who, "base_revision": 0, "segments": labelled}
                saves.append(
                    timed(lambda b=body, r=rec_id: client.put(f"/api/annotation/{r}", json=b))
                )
        lists = [timed(lambda: client.get("/api/recordings?annotator=alice")) for _ in range(20)]
    print(
        json.dumps(
            {
                "recordings": len(catalog.recordings),
                "startup": {
                    "seconds": round(startup_s, 2),
                    "recordings_per_s": round(len(catalog.recordings) / startup_s, 1),
                },
                "save": {"requests": len(saves), **percentiles(saves)},
                "list": {
                    "recordings": len(catalog.recordings),
                    "revisions": len(saves),
                    **percentiles(lists),
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
