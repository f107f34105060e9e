"""Feature-extraction throughput (clips/s) of VocalBaby's extractor against reference approaches.

Prints JSON. Approaches, all on the same 0.4 s clips:
- ``process_file_loop``: ``opensmile.Smile.process_file`` per file, one process;
- ``smile_call_pool``: a fresh ``opensmile.Smile`` call per clip in a process pool;
- ``vocalbaby_threads_N``: :func:`vocalbaby.features.extract_batch` (reused engines) with N threads;
- ``compute_floor``: one ``Smile`` call over all clips concatenated (no per-call overhead;
  not usable for per-clip features, shown as the bound).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import opensmile

from vocalbaby import audio, dataset, features, synthetic

REAL_DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "real-dev"


def _smile() -> opensmile.Smile:
    return opensmile.Smile(feature_set=features.FEATURE_SET, feature_level=features.FEATURE_LEVEL)


def _smile_chunk(signals: list[np.ndarray]) -> int:
    smile = _smile()
    for signal in signals:
        smile(signal, audio.SAMPLE_RATE)
    return len(signals)


def _clips(source: str | None, count: int) -> list[Path]:
    if source:
        root = Path(source)
    elif (REAL_DEV / "metadata.csv").exists():
        root = REAL_DEV
    else:
        root = synthetic.generate(Path(tempfile.mkdtemp()) / "demo", clips=max(count, 100))
    manifest = dataset.read(root)
    return [Path(u) for u in manifest["uri"].head(count)]


def _rate(run: Callable[[], object], clips: int, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return clips / best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dataset", help="dataset folder (default: ../shared/data/real-dev, else demo)"
    )
    parser.add_argument("--clips", type=int, default=400, help="clips per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="best of N runs")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    paths = _clips(args.dataset, args.clips)
    signals = [audio.load(p).samples for p in paths]
    n, workers = len(signals), args.workers
    features.extract_batch(signals[:8], workers=workers)  # warm the engines
    smile = _smile()
    chunks = [signals[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_smile_chunk, [[s] for s in signals[:workers]]))  # start the workers
        pool_rate = _rate(lambda: sum(pool.map(_smile_chunk, chunks)), n, args.repeats)
    rates = {
        "process_file_loop": _rate(
            lambda: [smile.process_file(str(p)) for p in paths[:100]], min(n, 100), 1
        ),
        "smile_call_pool": pool_rate,
        "vocalbaby_threads_1": _rate(
            lambda: features.extract_batch(signals, workers=1), n, args.repeats
        ),
        f"vocalbaby_threads_{workers}": _rate(
            lambda: features.extract_batch(signals, workers=workers), n, args.repeats
        ),
        "compute_floor_1_core": _rate(
            lambda: smile(np.concatenate(signals), audio.SAMPLE_RATE), n, 1
        ),
    }
    print(
        json.dumps(
            {
                "clips": n,
                "clip_seconds": round(
                    float(np.mean([len(s) for s in signals])) / audio.SAMPLE_RATE, 3
                ),
                "source": str(paths[0].parent.parent),
                "cpu_count": os.cpu_count(),
                "workers": workers,
                "machine": platform.machine(),
                "opensmile": opensmile.__version__,
                "clips_per_second": {k: round(v, 1) for k, v in rates.items()},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
