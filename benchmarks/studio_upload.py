"""Studio benchmark: upload-to-timeline time of one long recording, through the real server.

Builds a recording of ``--minutes`` by tiling the clips of ``--clips`` (a folder of wav files),
starts ``vocalbaby annotate`` on 127.0.0.1 with ``--model``, POSTs the file to /api/upload as a
browser does, polls /api/jobs until it is classified and /api/recordings until its class bands
are listed, and prints JSON: upload, queue-to-done and total seconds, windows, the server's
peak resident memory.

    python benchmarks/studio_upload.py --clips ../shared/data/real-dev/audio \
        --model artifacts/models --minutes 10
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from vocalbaby import audio

POLL_S = 0.05


def long_recording(clips: Path, minutes: float, out: Path) -> Path:
    """``minutes`` of the clips under ``clips`` one after another, 16 kHz mono PCM WAV."""
    parts = [audio.load(p).samples for p in sorted(clips.rglob("*.wav"))[:200]]
    if not parts:
        raise SystemExit(f"{clips}: no wav files")
    tile = np.concatenate(parts)
    need = int(minutes * 60 * audio.SAMPLE_RATE)
    samples = np.tile(tile, need // len(tile) + 1)[:need]
    sf.write(out, samples, audio.SAMPLE_RATE, subtype="PCM_16")
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path)
    body = json.loads(conn.getresponse().read())
    conn.close()
    return body


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "recordings"
        folder.mkdir()
        first = sorted(args.clips.rglob("*.wav"))[0]
        (folder / "seed.wav").write_bytes(first.read_bytes())  # the session needs one file
        recording = long_recording(args.clips, args.minutes, Path(tmp) / "day.wav")
        port = free_port()
        command = [sys.executable, "-m", "vocalbaby_cli", "annotate", str(folder)]
        command += ["--port", str(port), "--model", args.model, "--store", f"{tmp}/store"]
        log = open(Path(tmp) / "server.log", "wb")  # noqa: SIM115 - closed with the server
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=os.environ)
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    get(port, "/api/config")
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit((Path(tmp) / "server.log").read_text()) from None
                    time.sleep(0.2)
            before = rss_mb(server.pid)
            start = time.perf_counter()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            with recording.open("rb") as body:
                conn.request(
                    "POST",
                    "/api/upload?name=day.wav",
                    body=body,
                    headers={"Content-Length": str(recording.stat().st_size)},
                )
                job = json.loads(conn.getresponse().read())
            uploaded = time.perf_counter() - start
            peak = before
            while True:
                state = {j["id"]: j for j in get(port, "/api/jobs")["jobs"]}[job["id"]]
                peak = max(peak, rss_mb(server.pid))
                if state["state"] in {"done", "failed"}:
                    break
                time.sleep(POLL_S)
            items = {i["id"]: i for i in get(port, "/api/recordings")["recordings"]}
            total = time.perf_counter() - start
            bands = items["day.wav"]["bands"] if "day.wav" in items else []
            print(
                json.dumps(
                    {
                        "minutes": args.minutes,
                        "bytes": recording.stat().st_size,
                        "job": state["state"],
                        "error": state["error"],
                        "upload_s": round(uploaded, 2),
                        "classify_s": state["seconds"],
                        "upload_to_timeline_s": round(total, 2),
                        "windows": get(port, "/api/recording/day.wav")
                        .get("suggestions", [])
                        .__len__(),
                        "bands": len(bands),
                        "server_rss_mb": {"before": round(before), "peak": round(peak)},
                        "cpus": os.cpu_count(),
                    },
                    indent=2,
                )
            )
        finally:
            server.terminate()
            server.wait(30)
            log.close()


if __name__ == "__main__":
    main()
