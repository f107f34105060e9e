"""Feature extraction: VocalBaby's extractor before and after issue 17, and openSMILE's floor.

Prints JSON; every figure comes from this one run, on the same clips and worker count:
- ``old_per_clip``: the extractor before issue 17: opensmile's full eGeMAPSv02 config, one
  executor task per clip, the engine reset in the background after each clip;
- ``new_batched``: :func:`vocalbaby.features.extract_batch` now: the config without the
  components that feed no functional, chunks of clips per task, reset in the worker thread;
- ``floor``: openSMILE's compute floor: one ``opensmile.Smile`` call per worker thread over its
  share of the clips concatenated into one long signal (no per-clip cost; not per-clip features);
- ``floor_pruned_config``: the same floor with the pruned config.
Rates (clips per wall-clock second, and per CPU second of the process: the steadier figure
when other work shares the cores) and ratios to the floor are medians over ``--rounds`` rounds,
each running every path once. Also printed: single-clip latency (``extract_one`` against the
old path, p50/p90 over ``--latency-calls`` isolated calls), the peak RSS growth of a fresh
process extracting every clip with each path (engines included), and parity: per feature,
max |new - per-clip opensmile.Smile| / that feature's standard deviation, on the clips and on
``--demo-clips`` synthetic demo clips.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import opensmile
import pandas as pd

from vocalbaby import audio, dataset, features, synthetic

REAL_DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "real-dev"


def _paths(root: Path, count: int) -> list[Path]:
    return [Path(u) for u in dataset.read(root)["uri"].head(count)]


def _load(paths: Sequence[Path]) -> list[np.ndarray]:
    return [audio.load(p).samples for p in paths]


def _old_path(pool: features.EnginePool, workers: int) -> Callable[[list[np.ndarray]], list]:
    """The extractor before issue 17: one task per clip, background reset, full config."""

    def one(samples: np.ndarray) -> np.ndarray:
        with pool.borrow() as engine:
            return engine(samples)

    def run(signals: list[np.ndarray]) -> list[np.ndarray]:
        with ThreadPoolExecutor(workers) as threads:
            return list(threads.map(one, signals))

    return run


def _floor(pruned: bool, workers: int) -> Callable[[list[np.ndarray]], object]:
    """One engine per worker thread over its share of the clips as one long signal."""

    def one(share: np.ndarray) -> np.ndarray:
        if pruned:
            return features._Engine()(share)
        return opensmile.Smile(features.FEATURE_SET, features.FEATURE_LEVEL)(share, 16_000)

    def run(signals: list[np.ndarray]) -> list[np.ndarray]:
        shares = [np.concatenate(signals[i::workers]) for i in range(workers)]
        with ThreadPoolExecutor(workers) as threads:
            return list(threads.map(one, shares))

    return run


def _rates(
    runs: dict[str, Callable[[], object]], clips: int, rounds: int
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Clips per wall-clock second and per CPU second of this process (medians over ``rounds``
    rounds, each running every path once), and each path's median per-round ratio to ``floor``.

    CPU time counts every thread of the process and moves less than wall time when other
    processes share the cores; per-round ratios cancel slow changes in that load.
    """
    seconds: dict[str, dict[str, list[float]]] = {"second": {}, "cpu_second": {}}
    for _ in range(rounds):
        for name, run in runs.items():
            started, cpu_started = time.perf_counter(), time.process_time()
            run()
            seconds["second"].setdefault(name, []).append(time.perf_counter() - started)
            seconds["cpu_second"].setdefault(name, []).append(time.process_time() - cpu_started)
    rates = {
        unit: {name: round(clips / float(np.median(s)), 1) for name, s in by_name.items()}
        for unit, by_name in seconds.items()
    }
    ratios = {
        unit: {
            name: round(float(np.median(np.array(by_name["floor"]) / np.array(s))), 3)
            for name, s in by_name.items()
            if name != "floor"
        }
        for unit, by_name in seconds.items()
    }
    return rates, ratios


def _latency_ms(signals: list[np.ndarray], old_pool: features.EnginePool, calls: int) -> dict:
    """p50/p90 of single-clip extraction, old path and ``extract_one``, alternating."""
    times: dict[str, list[float]] = {"old": [], "new": []}

    def old(samples: np.ndarray) -> None:
        with old_pool.borrow() as engine:
            engine(samples)

    for i in range(calls):
        samples = signals[i % len(signals)]
        for name, call in (("old", old), ("new", features.extract_one)):
            time.sleep(0.03)  # an isolated request: the previous reset has finished
            started = time.perf_counter()
            call(samples)
            times[name].append((time.perf_counter() - started) * 1000)
    return {
        name: {f"p{q}": round(float(np.percentile(t, q)), 2) for q in (50, 90)}
        for name, t in times.items()
    }


def _rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_rss_growth_mb(path: str, clips: list[str], workers: int) -> float:
    """In a fresh process: peak RSS growth (sampled every 2 ms) while extracting every clip."""
    signals = _load([Path(c) for c in clips])
    before, peak, done = _rss_mb(), [0.0], threading.Event()

    def sample() -> None:
        while not done.wait(0.002):
            peak[0] = max(peak[0], _rss_mb())

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        if path == "old_per_clip":
            _old_path(features.EnginePool(workers, pruned=False), workers)(signals)
        else:
            features.extract_batch(signals, workers=workers)
    finally:
        done.set()
        sampler.join()
    return round(max(peak[0], _rss_mb()) - before, 1)


def _parity(signals: list[np.ndarray], workers: int) -> dict[str, object]:
    """New batched features against per-clip ``opensmile.Smile``, per feature."""
    smile = opensmile.Smile(features.FEATURE_SET, features.FEATURE_LEVEL)
    names = list(features.feature_names())
    reference = pd.DataFrame([smile(s, 16_000)[0, :, 0] for s in signals], columns=names)
    new = features.extract(signals, workers=workers)
    deviation = features.deviation(reference, new).sort_values(ascending=False)
    return {
        "clips": len(signals),
        "features_identical": int((deviation == 0).sum()),
        "max_abs_diff_over_std": float(deviation.iloc[0]),
        "worst_features": {k: float(v) for k, v in deviation.head(3).items()},
        "passes_1e-4": bool((deviation <= 1e-4).all()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dataset", help="dataset folder (default: ../shared/data/real-dev, else demo clips)"
    )
    parser.add_argument("--clips", type=int, default=200, help="clips per measurement [200]")
    parser.add_argument("--rounds", type=int, default=7, help="rates: rounds, medians [7]")
    parser.add_argument(
        "--workers", type=int, default=features.extraction_threads(), help="threads [all]"
    )
    parser.add_argument(
        "--latency-calls", type=int, default=60, help="single-clip calls per path [60]"
    )
    parser.add_argument(
        "--demo-clips", type=int, default=100, help="synthetic clips for the parity check [100]"
    )
    args = parser.parse_args()

    root = Path(args.dataset) if args.dataset else REAL_DEV
    real = (root / "metadata.csv").exists()
    demo = synthetic.generate(
        Path(tempfile.mkdtemp(prefix="vocalbaby-bench-")) / "demo",
        clips=args.demo_clips if real else max(args.clips, args.demo_clips),
    )
    root = root if real else demo
    paths = _paths(root, args.clips)
    signals = _load(paths)
    n, workers = len(signals), min(args.workers, features.extraction_threads())
    old_pool = features.EnginePool(workers, pruned=False)
    old = _old_path(old_pool, workers)
    old(signals[: 2 * workers])  # make and warm the engines of both paths
    features.extract_batch(signals[: 2 * workers], workers=workers)
    rates, ratios = _rates(
        {
            "old_per_clip": lambda: old(signals),
            "new_batched": lambda: features.extract_batch(signals, workers=workers),
            "floor": lambda: _floor(False, workers)(signals),
            "floor_pruned_config": lambda: _floor(True, workers)(signals),
        },
        n,
        args.rounds,
    )
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=spawn, max_tasks_per_child=1) as child:
        memory = {
            name: child.submit(_peak_rss_growth_mb, name, list(map(str, paths)), workers).result()
            for name in ("old_per_clip", "new_batched")
        }
    parity = {str(root): _parity(signals, workers)}
    if root != demo:
        parity[f"demo ({args.demo_clips} clips)"] = _parity(
            _load(_paths(demo, args.demo_clips)), workers
        )
    report = {
        "clips": n,
        "clip_seconds": round(float(np.mean([len(s) for s in signals])) / audio.SAMPLE_RATE, 3),
        "source": str(root),
        "cpu_count": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "workers": workers,
        "machine": platform.machine(),
        "opensmile": opensmile.__version__,
        "clips_per": rates,
        "ratio_to_floor": ratios,
        "single_clip_latency_ms": _latency_ms(signals, old_pool, args.latency_calls),
        "peak_rss_growth_mb": memory,
        "parity_max_abs_diff_over_std": parity,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
