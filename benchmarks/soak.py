"""Soak: mixed valid, long and hostile traffic against ``bentoml serve`` on 127.0.0.1. JSON out.

Starts the service (the model ``VOCALBABY_MODEL_TAG`` or ``vocalbaby:latest`` from
``BENTOML_HOME``; ``--demo-model`` trains one in a temporary store) with a token and a prediction
log, then ``--clients`` clients send up to ``--requests`` requests for at most ``--max-seconds``:

- ``clip``: one 0.4 s clip to ``/predict`` (most requests);
- ``long``: a ``--long-seconds`` recording (FLAC, 22.05 kHz stereo) within the limits;
- ``features``: 8 rows to ``/predict_features``;
- ``zip_heavy``: a 200 KB zip of a 190 MiB zero-filled WAV (8 channels, 48 kHz, 260 s: within
  the limits, so decoded and classified) — heavy valid input, as often as ``long``;
- ``hostile``: in turn a wrong token, corrupt bytes, a 384 kHz 16-channel file, a recording
  longer than the limit, 513 feature rows, a non-multipart body (all must be refused, 4xx).

Clients behave like well-written ones: a 503 ``busy`` answer is retried after its
``Retry-After`` (counted), until the run's time is up. It prints, per kind, the final answers by
status and p50/p99 latency (retries included); the 5xx count of final answers and the busy
refusals seen on the way; the slowest hostile refusal; the server's RSS (the whole process
tree, and its largest process) after 20 clips, when warm (one request of every valid kind
served, the prediction log shipped), at its peak and at the end (the log shipped again), and
end over warm; and,
after a clean stop, the prediction-log rows against the rows the 200 answers classified. Before
the mix, two long requests run at once while clips are sent one by one: their latency.

    python benchmarks/soak.py --demo-model --requests 2000 --max-seconds 150   # short run
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import shutil
import tempfile
import threading
import time
import zipfile
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import soundfile as sf

from benchmarks.serve import clip_bytes, percentiles
from tests.servers.bento import LocalServer, process_tree, register_model
from vocalbaby import synthetic
from vocalbaby.features import feature_names

TOKEN = "soak-token-0123456789abcdef0123456789"
LOG_INTERVAL_S = 5  # the prediction log's shipping interval in the soak
MiB = 2**20


def encoded(samples: np.ndarray, rate: int, fmt: str = "WAV", subtype: str = "PCM_16") -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def zipped(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, data)
    return buffer.getvalue()


def requests_by_kind(long_seconds: float, feature_names: list[str]) -> dict[str, list[dict]]:
    """httpx keyword arguments (plus ``path`` and ``headers``) of each kind of request."""
    rng = np.random.default_rng(0)
    name, clip = clip_bytes(None)
    t = np.arange(int(long_seconds * 22_050)) / 22_050
    tone = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.002 * rng.standard_normal(len(t))
    long = np.stack([tone, tone], axis=1).astype(np.float32)
    row = dict.fromkeys(feature_names, 0.1)

    def audio(file: str, data: bytes) -> dict:
        return {"path": "/predict", "files": {"files": (file, data, "audio/wav")}}

    return {
        "clip": [audio(name, clip)],
        "long": [audio("long.flac", encoded(long, 22_050, "FLAC"))],
        "features": [{"path": "/predict_features", "json": {"rows": [row] * 8}}],
        "zip_heavy": [
            {
                "path": "/predict_zip",
                "files": {
                    "file": (
                        "zeros.zip",
                        zipped(
                            "zeros.wav", encoded(np.zeros((190 * MiB // 16, 8), np.int16), 48_000)
                        ),
                        "application/zip",
                    )
                },
            }
        ],
        "hostile": [
            {**audio(name, clip), "headers": {"Authorization": "Bearer wrong"}},
            audio("corrupt.wav", b"RIFF" + bytes(rng.integers(0, 255, 4000, dtype=np.uint8))),
            audio("wide.wav", encoded(np.zeros((38_400, 16), np.float32), 384_000)),
            audio("too_long.wav", encoded(np.zeros(700 * 8_000, np.int16), 8_000)),
            {"path": "/predict_features", "json": {"rows": [row] * 513}},
            {"path": "/predict", "json": {"files": []}},
        ],
    }


def rss_mib(root: int) -> tuple[float, float]:
    """Resident memory of a process tree: the total and its largest process, in MiB."""
    sizes = []
    for pid in process_tree(root):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        kib = next(
            (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0
        )
        sizes.append(kib / 1024)
    return round(sum(sizes), 1), round(max(sizes, default=0.0), 1)


class Sampler(threading.Thread):
    """RSS of the server's tree every 0.2 s; the peak of each figure."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root, self.peak, self.stop_event = root, (0.0, 0.0), threading.Event()

    def run(self) -> None:
        while not self.stop_event.wait(0.2):
            now = rss_mib(self.root)
            self.peak = (max(self.peak[0], now[0]), max(self.peak[1], now[1]))


def classified(body: object, path: str) -> int:
    """Prediction-log rows of a 200 answer (classified and silent segments)."""
    if path == "/predict_features":
        return len(body)
    return sum(
        sum(s["label"] is not None or s["silent"] for s in r["segments"]) if "segments" in r else 1
        for r in body["results"]
    )


def soak(args: argparse.Namespace, url: str, kinds: dict[str, list[dict]]) -> dict[str, object]:
    """Send the mix from ``args.clients`` clients; answers and latencies per kind."""
    plan = itertools.cycle(
        ["long", "zip_heavy"]
        + ["hostile"] * 2
        + ["features"] * 4
        + ["clip"] * (args.long_every - 8)
    )
    variants = {kind: itertools.cycle(reqs) for kind, reqs in kinds.items()}
    lock = threading.Lock()
    issued, rows, busy = 0, 0, 0
    statuses: dict[str, Counter] = defaultdict(Counter)
    times: dict[str, list[float]] = defaultdict(list)
    deadline = time.monotonic() + args.max_seconds

    def client_loop() -> None:
        nonlocal issued, rows, busy
        auth = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=url, timeout=180) as client:
            while time.monotonic() < deadline:
                with lock:
                    if issued >= args.requests:
                        return
                    issued += 1
                    kind = next(plan)
                    request = dict(next(variants[kind]))
                path = request.pop("path")
                headers = {**auth, **request.pop("headers", {})}
                started = time.perf_counter()
                while True:
                    try:
                        response = client.post(path, headers=headers, **request)
                        status = str(response.status_code)
                        if response.status_code == 503:
                            status += f" {response.json().get('error')}"
                    except httpx.HTTPError as exc:
                        status, response = f"no answer ({type(exc).__name__})", None
                    wait_s = float(response.headers.get("retry-after", 0)) if response else 0
                    if status != "503 busy" or time.monotonic() + wait_s >= deadline:
                        break
                    with lock:
                        busy += 1
                    time.sleep(wait_s)
                took = time.perf_counter() - started
                with lock:
                    statuses[kind][status] += 1
                    times[kind].append(took)
                    if response is not None and response.status_code == 200:
                        rows += classified(response.json(), path)

    started = time.perf_counter()
    with ThreadPoolExecutor(args.clients) as pool:
        for future in [pool.submit(client_loop) for _ in range(args.clients)]:
            future.result()
    return {
        "requests": issued,
        "seconds": round(time.perf_counter() - started, 1),
        "by_kind": {
            kind: {"answers": dict(statuses[kind]), **percentiles(times[kind])} for kind in statuses
        },
        "5xx": sum(n for c in statuses.values() for s, n in c.items() if s[:1] == "5"),
        "503_busy_retried": busy,
        "no_answer": sum(n for c in statuses.values() for s, n in c.items() if s[:1] == "n"),
        "slowest_hostile_s": round(max(times["hostile"], default=0.0), 2),
        "rows_classified_by_200s": rows,
    }


def warm_up(url: str, kinds: dict[str, list[dict]], pid: int) -> tuple[int, tuple[float, float]]:
    """Warm the server as production warms it: 20 clips (RSS then: the ``after_20_clips``
    figure), then one request of every other valid kind (features, a long recording, the heavy
    ZIP), so every code path, decoder and pool has run once; then wait until the prediction
    log has shipped. Returns the rows the warm-up logged, and the RSS after the clips."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=url, timeout=180) as client:
        for _ in range(20):
            client.post("/predict", files=kinds["clip"][0]["files"], headers=auth)
        rows, clips_rss = 20, rss_mib(pid)
        for kind in ("features", "long", "zip_heavy"):
            request = dict(kinds[kind][0])
            path = request.pop("path")
            response = client.post(path, headers={**auth, **request.pop("headers", {})}, **request)
            response.raise_for_status()
            rows += classified(response.json(), path)
    time.sleep(LOG_INTERVAL_S + 1)
    return rows, clips_rss


def long_pair(url: str, kinds: dict[str, list[dict]], small: int) -> dict[str, object]:
    """Two long requests at once, and ``small`` clip requests sent one by one meanwhile."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    long_request, clip = kinds["long"][0], kinds["clip"][0]
    with ThreadPoolExecutor(2) as pool, httpx.Client(base_url=url, timeout=180) as client:
        longs = [
            pool.submit(client.post, "/predict", headers=auth, files=long_request["files"])
            for _ in range(2)
        ]
        time.sleep(1)
        times, codes = [], Counter()
        while len(times) < small and not all(f.done() for f in longs):
            started = time.perf_counter()
            codes[client.post("/predict", headers=auth, files=clip["files"]).status_code] += 1
            times.append(time.perf_counter() - started)
        long_codes = Counter(f.result().status_code for f in longs)
        rows = sum(
            classified(f.result().json(), "/predict") for f in longs if f.result().is_success
        )
    rows += codes[200]  # one clip each
    return {
        "long_answers": dict(long_codes),
        "small_answers": dict(codes),
        "rows_classified_by_200s": rows,
        **percentiles(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo-model", action="store_true", help="train a demo model first")
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--max-seconds", type=float, default=1800.0)
    parser.add_argument("--long-seconds", type=float, default=120.0)
    parser.add_argument("--long-every", type=int, default=100, help="one long request per N")
    parser.add_argument(
        "--pair-small",
        type=int,
        default=200,
        help="small requests sent one by one during two long ones, before the mix",
    )
    parser.add_argument("--server-log", type=Path, help="copy the server's log here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vocalbaby-soak-") as tmp:
        log_dir = Path(tmp, "prediction_log")
        env = {
            "VOCALBABY_API_TOKEN": TOKEN,
            "VOCALBABY_PREDICTION_LOG_URI": str(log_dir),
            "VOCALBABY_PREDICTION_LOG_INTERVAL_S": str(LOG_INTERVAL_S),
        }
        if args.demo_model:
            env["BENTOML_HOME"] = os.environ["BENTOML_HOME"] = str(Path(tmp, "bentoml"))
            env["VOCALBABY_MODEL_TAG"] = register_model(synthetic.generate(Path(tmp, "demo"), 200))
        server = LocalServer(env=env, log_path=Path(tmp, "server.log")).start()
        kinds = requests_by_kind(args.long_seconds, list(feature_names()))
        pid = server.process.pid
        warm_rows, clips_rss = warm_up(server.url, kinds, pid)
        sampler = Sampler(pid)
        warm_rss = rss_mib(pid)
        sampler.start()
        pair = long_pair(server.url, kinds, args.pair_small)
        result = soak(args, server.url, kinds)
        result["small_during_two_long"] = pair
        result["rows_classified_by_200s"] += pair["rows_classified_by_200s"]
        time.sleep(LOG_INTERVAL_S + 1)  # the prediction log's writer has shipped what it held
        end_rss = rss_mib(pid)
        sampler.stop_event.set()
        exit_code = server.stop()
        if args.server_log:
            shutil.copyfile(Path(tmp, "server.log"), args.server_log)
        files = sorted(log_dir.rglob("*.parquet"))
        logged = sum(len(pd.read_parquet(f, columns=["label"])) for f in files)
        result |= {
            "rss_mib_tree_and_largest": {
                "after_20_clips": clips_rss,
                "warm": warm_rss,
                "peak": sampler.peak,
                "end": end_rss,
                "end_over_warm": [
                    round(e / w - 1, 3) for e, w in zip(end_rss, warm_rss, strict=True)
                ],
            },
            "server_exit_code": exit_code,
            "log_rows": logged - warm_rows,
            "log_rows_missing": result["rows_classified_by_200s"] - (logged - warm_rows),
            "server_errors_logged": [
                line[:300]
                for line in Path(tmp, "server.log").read_text(errors="replace").splitlines()
                if "[ERROR]" in line or "Traceback" in line
            ][:5],
            "args": vars(args),
        }
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
