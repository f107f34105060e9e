"""Latency and throughput of ``POST /predict`` with one 0.4 s wav clip per request. Prints JSON.

Starts ``bentoml serve`` on 127.0.0.1 (the model ``VOCALBABY_MODEL_TAG`` or ``vocalbaby:latest``
from ``BENTOML_HOME``; ``--demo-model`` trains one on synthetic data in a temporary store), or
measures a running server given with ``--url``. Two phases, each bounded in requests and time:

- latency: ``--latency-requests`` sequential requests from one client: p50/p95/p99;
- throughput: ``--requests`` requests from ``--clients`` concurrent clients: requests/s, errors,
  and (for a server started here) its CPU time per request, which, unlike requests/s, hardly
  depends on what else the machine is running.

A server started here is measured side by side, in the same run and with the same clip, with
the seed-style peer (:mod:`benchmarks.seed_peer`: save the upload, ``Smile.process_file``,
imputer, XGBoost, on uvicorn), serving the same model; ``vs_peer`` gives the ratios.

Targets on 2 cores: p50 <= 12 ms at one client, >= 120 requests/s with no errors at 16 clients,
>= 2x the peer's requests/s.

    python benchmarks/serve.py --demo-model
    python benchmarks/serve.py --url http://127.0.0.1:3000 --token "$VOCALBABY_API_TOKEN"
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import soundfile as sf

from tests.servers.bento import LocalServer, free_port, process_tree, register_model
from vocalbaby import synthetic

REPO = Path(__file__).resolve().parents[1]
REAL_DEV = REPO.parent / "shared" / "data" / "real-dev"


def clip_bytes(path: Path | None) -> tuple[str, bytes]:
    """The benchmark clip: ``path``, the first real-dev clip, or 0.4 s of seeded noise."""
    if path is None:
        found = sorted((REAL_DEV / "audio").rglob("*.wav")) if REAL_DEV.exists() else []
        path = found[0] if found else None
    if path is not None:
        return path.name, path.read_bytes()
    buffer = io.BytesIO()
    noise = np.random.default_rng(0).normal(0, 0.1, 6400).astype(np.float32)
    sf.write(buffer, noise, 16000, format="WAV", subtype="PCM_16")
    return "noise.wav", buffer.getvalue()


def percentiles(seconds: list[float]) -> dict[str, float]:
    """p50/p95/p99/mean/max in milliseconds."""
    if not seconds:
        return {}
    ms = np.asarray(seconds) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "mean_ms": round(float(statistics.fmean(ms)), 2),
        "max_ms": round(float(ms.max()), 2),
    }


def make_request(url: str, clip: tuple[str, bytes], token: str | None) -> Callable[..., bool]:
    """A function that posts the clip once with a given client and says whether it got 200."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    name, data = clip

    def post(client: httpx.Client) -> bool:
        files = {"files": (name, data, "audio/wav")}
        try:
            response = client.post(url + "/predict", files=files, headers=headers)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    return post


def latency_phase(post: Callable[..., bool], requests: int, cap_s: float) -> dict[str, object]:
    """Sequential requests from one client."""
    times, errors = [], 0
    deadline = time.monotonic() + cap_s
    with httpx.Client(timeout=30) as client:
        for _ in range(5):  # warm-up
            post(client)
        while len(times) + errors < requests and time.monotonic() < deadline:
            started = time.perf_counter()
            ok = post(client)
            if ok:
                times.append(time.perf_counter() - started)
            else:
                errors += 1
    return {"clients": 1, "requests": len(times) + errors, "errors": errors, **percentiles(times)}


def throughput_phase(
    post: Callable[..., bool], requests: int, clients: int, cap_s: float
) -> dict[str, object]:
    """``requests`` requests shared by ``clients`` concurrent clients, stopped after ``cap_s``."""
    lock = threading.Lock()
    issued, times, errors = 0, [], 0
    deadline = time.monotonic() + cap_s

    def client_loop() -> None:
        nonlocal issued, errors
        with httpx.Client(timeout=30) as client:
            while time.monotonic() < deadline:
                with lock:
                    if issued >= requests:
                        return
                    issued += 1
                started = time.perf_counter()
                ok = post(client)
                with lock:
                    if ok:
                        times.append(time.perf_counter() - started)
                    else:
                        errors += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(client_loop) for _ in range(clients)]:
            future.result()
    elapsed = time.perf_counter() - started
    done = len(times) + errors
    return {
        "clients": clients,
        "requests": done,
        "errors": errors,
        "seconds": round(elapsed, 2),
        "requests_per_s": round(len(times) / elapsed, 1),
        "capped": done < requests,
        **percentiles(times),
    }


def tree_cpu_s(root: int) -> float:
    """CPU seconds (user + system) used so far by a process and its live descendants (Linux)."""
    total = 0.0
    for pid in process_tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def run(args: argparse.Namespace, url: str, server_pid: int | None = None) -> dict[str, object]:
    """Both phases against ``url``; given the server's process, its CPU per request too."""
    post = make_request(url, clip_bytes(args.clip), args.token)
    result: dict[str, object] = {
        "url": url,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load_average_1m": os.getloadavg()[0],
        "latency": latency_phase(post, args.latency_requests, args.time_cap),
    }
    cpu_before = tree_cpu_s(server_pid) if server_pid else 0.0
    throughput = throughput_phase(post, args.requests, args.clients, args.time_cap)
    if server_pid and throughput["requests"]:
        cpu_ms = (tree_cpu_s(server_pid) - cpu_before) * 1000 / throughput["requests"]
        throughput["server_cpu_ms_per_request"] = round(cpu_ms, 2)
        throughput["capacity_on_2_cores_rps"] = round(2000 / cpu_ms, 1)
    result["throughput"] = throughput
    return result


@contextlib.contextmanager
def seed_peer(env: dict[str, str], log: Path) -> Iterator[tuple[str, int]]:
    """The seed-style peer on uvicorn, 127.0.0.1: its URL and process id, until exit."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "benchmarks.seed_peer:app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    with open(log, "ab") as out:
        process = subprocess.Popen(
            command, cwd=REPO, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        else:
            raise RuntimeError(f"the seed-style peer did not start:\n{log.read_text()[-2000:]}")
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(20)


def with_local_server(args: argparse.Namespace) -> dict[str, object]:
    """Start a server (optionally with a demo model in a temporary store) and the seed-style
    peer on the same model, measure both, stop them."""
    with tempfile.TemporaryDirectory(prefix="vocalbaby-bench-") as tmp:
        env = {"VOCALBABY_API_TOKEN": args.token} if args.token else {}
        if args.demo_model:
            env["BENTOML_HOME"] = os.environ["BENTOML_HOME"] = str(Path(tmp, "bentoml"))
            env["VOCALBABY_MODEL_TAG"] = register_model(synthetic.generate(Path(tmp, "demo"), 200))
        log = Path(tmp, "server.log")
        with LocalServer(env=env, log_path=log) as server:
            result = run(args, server.url, server.process.pid)
        result["server_errors_logged"] = log.read_text(errors="replace").count("[ERROR]")
        if args.no_peer:
            return result
        peer_args = argparse.Namespace(**{**vars(args), "token": None})
        with seed_peer(env, Path(tmp, "peer.log")) as (url, pid):
            peer = run(peer_args, url, pid)
    ours, theirs = result["throughput"], peer["throughput"]
    return {
        "vocalbaby": result,
        "seed_peer": peer,
        "vs_peer": {
            "requests_per_s_ratio": round(ours["requests_per_s"] / theirs["requests_per_s"], 2),
            "p50_ms_one_client": [result["latency"]["p50_ms"], peer["latency"]["p50_ms"]],
            "cpu_ms_per_request": [
                ours.get("server_cpu_ms_per_request"),
                theirs.get("server_cpu_ms_per_request"),
            ],
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="measure this running server instead of starting one")
    parser.add_argument("--token", help="API token (also passed to a server started here)")
    parser.add_argument("--demo-model", action="store_true", help="train a demo model first")
    parser.add_argument("--clip", type=Path, help="wav clip to send (default: a real-dev clip)")
    parser.add_argument("--latency-requests", type=int, default=200)
    parser.add_argument("--requests", type=int, default=800, help="throughput-phase requests")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--time-cap", type=float, default=60.0, help="seconds per phase, at most")
    parser.add_argument("--no-peer", action="store_true", help="skip the seed-style peer")
    args = parser.parse_args()
    if args.url and not args.url.startswith(("http://127.0.0.1", "http://localhost")):
        parser.error("--url must be a server on 127.0.0.1 or localhost")
    result = run(args, args.url.rstrip("/")) if args.url else with_local_server(args)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
