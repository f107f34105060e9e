"""The service's building blocks without a server: limits, prediction log, middleware."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.servers.seaweedfs import S3Server
from vocalbaby import storage
from vocalbaby_service import auth, service
from vocalbaby_service.admission import Admission, Throughput
from vocalbaby_service.errors import RequestError, reshape
from vocalbaby_service.limits import Limits
from vocalbaby_service.middleware import DEADLINE_KEY, Gatekeeper
from vocalbaby_service.prediction_log import PredictionLog, Records
from vocalbaby_service.spool import Spool, read_frames

# --- limits -------------------------------------------------------------------------------------


def test_limits_from_env() -> None:
    limits = Limits.from_env({"VOCALBABY_MAX_FILES": "3", "VOCALBABY_MAX_AUDIO_SECONDS": "2.5"})

    assert (limits.max_files, limits.max_audio_s) == (3, 2.5)
    assert limits.max_upload_bytes == Limits().max_upload_bytes


@pytest.mark.parametrize("value", ["many", "0", "-4"])
def test_bad_limit_names_the_variable(value: str) -> None:
    with pytest.raises(ValueError, match="VOCALBABY_MAX_ZIP_MEMBERS"):
        Limits.from_env({"VOCALBABY_MAX_ZIP_MEMBERS": value})


# --- prediction log -----------------------------------------------------------------------------


class Tally:
    def __init__(self) -> None:
        self.rows = 0

    def __call__(self, rows: int) -> None:
        self.rows += rows


FEATURES, CLASSES = ["f1", "f2"], ["a", "b"]


def rows(n: int, start: int = 0) -> Records:
    """``n`` records whose ``x`` column counts from ``start``."""
    return Records(
        features=np.full((n, 2), 0.5, np.float32),
        probabilities=np.tile(np.array([0.25, 0.75], np.float32), (n, 1)),
        labels=["b"] * n,
        columns={"x": list(range(start, start + n)), "endpoint": "test"},
    )


def new_log(uri: str, **options: object) -> PredictionLog:
    """A log whose spool is a new folder beside ``uri`` unless ``spool_folder`` is given."""
    options.setdefault("spool_folder", Path(f"{uri}-spool-{uuid.uuid4().hex[:8]}"))
    return PredictionLog(uri, FEATURES, CLASSES, **options)


def read_log(uri: str) -> pd.DataFrame:
    keys = [k for k in storage.list_keys(uri) if k.endswith(".parquet")]
    frames = [pd.read_parquet(io.BytesIO(storage.read_bytes(k))) for k in keys]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def wait_for(condition, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_log_flushes_full_batches_in_the_background(tmp_path: Path) -> None:
    written = Tally()
    log = new_log(str(tmp_path), batch_rows=10, interval_s=3600, on_write=written)

    log.append(rows(6))
    log.append(rows(6, start=6))
    wait_for(lambda: written.rows == 12)

    files = list(tmp_path.rglob("*.parquet"))
    assert len(files) == 1 and files[0].parent.name.startswith("date=")
    logged = read_log(str(tmp_path))
    assert list(logged.columns) == [*FEATURES, "label", *CLASSES, "x", "endpoint"]
    assert list(logged["x"]) == list(range(12))
    assert set(logged["label"]) == {"b"} and set(logged["endpoint"]) == {"test"}
    log.close()


def test_log_flushes_on_interval_and_on_close(tmp_path: Path) -> None:
    written = Tally()
    log = new_log(str(tmp_path), batch_rows=1000, interval_s=0.2, on_write=written)

    log.append(rows(3))
    wait_for(lambda: written.rows == 3)
    log.append(rows(2, start=3))
    log.close()

    assert written.rows == 5
    assert sorted(read_log(str(tmp_path))["x"]) == list(range(5))
    assert len({p.name for p in tmp_path.rglob("*.parquet")}) == 2


def test_full_buffer_drops_rows_instead_of_blocking(tmp_path: Path) -> None:
    dropped = Tally()
    log = new_log(str(tmp_path), batch_rows=1000, interval_s=3600, capacity_rows=5, on_drop=dropped)

    assert log.append(rows(4))
    assert not log.append(rows(2))
    log.close()
    assert not log.append(rows(1))  # closed

    assert dropped.rows == 3
    assert len(read_log(str(tmp_path))) == 4


def test_storage_errors_are_counted_not_raised(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("a file, not a folder")
    failed = Tally()
    log = new_log(str(tmp_path / "file"), batch_rows=1, interval_s=3600, on_error=failed)

    log.append(rows(2))
    log.close()

    assert failed.rows == 2


CRASH = """
import os, signal, sys, time
from pathlib import Path
from tests.service.test_modules import new_log, rows

log = new_log(sys.argv[1], spool_folder=Path(sys.argv[2]), interval_s=3600)
log.append(rows(5))
log.append(rows(3, start=5))
time.sleep(1.5)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_rows_spooled_before_a_crash_are_shipped_on_the_next_start(tmp_path: Path) -> None:
    uri, spool = str(tmp_path / "log"), tmp_path / "spool"
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH, uri, str(spool)], cwd=Path(__file__).parents[2], check=False
    )
    assert crashed.returncode == -9
    assert not list(tmp_path.rglob("*.parquet")) and list(spool.glob("*.spool"))

    written = Tally()
    log = new_log(uri, spool_folder=spool, interval_s=3600, on_write=written)
    wait_for(lambda: written.rows == 8)
    log.close()

    assert sorted(read_log(uri)["x"]) == list(range(8))
    assert not list(spool.iterdir())


def test_a_live_process_spool_is_not_recovered(tmp_path: Path) -> None:
    uri, spool = str(tmp_path / "log"), tmp_path / "spool"
    first = new_log(uri, spool_folder=spool, interval_s=3600)
    first.append(rows(4))
    wait_for(lambda: bool(first._spool.frames()))

    second = new_log(uri, spool_folder=spool, interval_s=3600)
    second.append(rows(1, start=4))
    second.close()
    assert sorted(read_log(uri)["x"]) == [4]
    first.close()

    assert sorted(read_log(uri)["x"]) == list(range(5))


def test_torn_last_frame_is_ignored(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append(pd.DataFrame({"x": [1, 2]}))
    spool.append(pd.DataFrame({"x": [3]}))
    with open(spool.path, "ab") as file:
        file.write((1000).to_bytes(8, "big") + b"cut short")

    assert [list(f["x"]) for f in read_frames(spool.path)] == [[1, 2], [3]]


def test_rows_that_cannot_be_written_stay_spooled_and_are_retried(tmp_path: Path) -> None:
    blocked = tmp_path / "log"
    blocked.write_text("a file, not a folder")
    accepted, written, failed = Tally(), Tally(), Tally()
    log = new_log(
        str(blocked), interval_s=0.2, on_accept=accepted, on_write=written, on_error=failed
    )

    log.append(rows(3))
    wait_for(lambda: failed.rows >= 3)
    blocked.unlink()
    wait_for(lambda: written.rows == 3)
    log.close()

    assert accepted.rows == 3
    assert sorted(read_log(str(blocked))["x"]) == [0, 1, 2]


@pytest.mark.integration
def test_log_to_s3(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    bucket = f"log-{uuid.uuid4().hex[:12]}"
    s3_server.client().create_bucket(Bucket=bucket)
    log = new_log(
        f"s3://{bucket}/predictions",
        spool_folder=tmp_path / "spool",
        batch_rows=1000,
        interval_s=3600,
    )

    log.append(rows(7))
    log.close()

    (key,) = storage.list_keys(f"s3://{bucket}/predictions")
    assert "/predictions/date=" in key
    assert len(read_log(f"s3://{bucket}/predictions")) == 7


# --- middleware ---------------------------------------------------------------------------------


async def _echo(request: Request) -> JSONResponse:
    return JSONResponse({"bytes": len(await request.body())})


def guarded_app(
    token: str | None,
    max_body_bytes: int = 1000,
    endpoint: Callable[[Request], Awaitable[JSONResponse]] = _echo,
    admission: Admission | None = None,
    timeout_s: float = 60,
) -> Gatekeeper:
    app = Starlette(
        routes=[
            Route(p, endpoint, methods=["GET", "POST", "OPTIONS"]) for p in ("/predict", "/healthz")
        ]
    )
    return Gatekeeper(
        app,
        token=token,
        max_body_bytes=max_body_bytes,
        endpoints={"/predict"},
        admission=admission or Admission(running=2, queued=2),
        timeout_s=timeout_s,
    )


def call(app: Gatekeeper, method: str, path: str, **kwargs: object) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(go())


def test_without_a_token_everything_is_open() -> None:
    assert call(guarded_app(None), "POST", "/predict", content=b"abc").json() == {"bytes": 3}


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer nope"}, 401),
        ({"Authorization": "Basic s3cret"}, 401),
        ({"Authorization": "s3cret"}, 401),
        ({"Authorization": "Bearer s3cret"}, 200),
        ({"Authorization": "bearer s3cret"}, 200),
    ],
)
def test_token_is_required(headers: dict[str, str], status: int) -> None:
    assert call(guarded_app("s3cret"), "POST", "/predict", headers=headers).status_code == status


def test_health_and_preflight_need_no_token() -> None:
    app = guarded_app("s3cret")

    assert call(app, "GET", "/healthz").status_code == 200
    assert call(app, "OPTIONS", "/predict").status_code == 200


def test_declared_oversized_body_is_refused_unread() -> None:
    response = call(guarded_app(None, max_body_bytes=10), "POST", "/predict", content=b"x" * 11)

    assert response.status_code == 413
    assert response.json()["error"] == "upload_too_large"


def test_streamed_oversized_body_is_cut_off() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 4

    app = guarded_app(None, max_body_bytes=10)

    assert call(app, "POST", "/predict", content=chunks()).status_code == 413
    assert call(app, "POST", "/predict", content=b"x" * 10).json() == {"bytes": 10}


def _held_requests(
    admission: Admission, count: int, timeout_s: float = 60, hold_s: float = 0.05
) -> tuple[list[httpx.Response], int]:
    """``count`` concurrent POSTs to an endpoint that holds every request until ``hold_s``
    after all have arrived or been refused; the answers, and how many bodies it read."""
    release = asyncio.Event()
    bodies = 0

    async def held(request: Request) -> JSONResponse:
        nonlocal bodies
        bodies += 1
        await request.body()
        await release.wait()
        return JSONResponse({"deadline_in_s": request.scope[DEADLINE_KEY] - time.monotonic()})

    app = guarded_app(None, endpoint=held, admission=admission, timeout_s=timeout_s)

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            sent = [
                asyncio.create_task(client.post("/predict", content=b"x")) for _ in range(count)
            ]
            while admission.inside + sum(t.done() for t in sent) < count:
                await asyncio.sleep(0.01)
            await asyncio.sleep(hold_s)
            release.set()
            return list(await asyncio.gather(*sent))

    return asyncio.run(go()), bodies


def test_a_full_server_is_refused_with_retry_after_before_the_body_is_read() -> None:
    admission = Admission(running=2, queued=1)
    responses, bodies = _held_requests(admission, count=5)

    assert sorted(r.status_code for r in responses) == [200, 200, 200, 503, 503]
    assert bodies == 3
    refused = [r for r in responses if r.status_code == 503]
    assert all(r.headers["retry-after"] == "2" and r.json()["error"] == "busy" for r in refused)
    ok = [r.json()["deadline_in_s"] for r in responses if r.status_code == 200]
    assert all(0 < left <= 60 for left in ok)
    assert admission.inside == 0


async def _turns(admission: Admission, costs: list[float], deadline_s: float) -> list[str]:
    """Requests of ``costs`` audio seconds asking for a turn at once, each holding it 0.3 s:
    ``"ok"`` or the refusal's message."""

    async def one(cost: float) -> str:
        try:
            async with admission.turn(cost, time.monotonic() + deadline_s):
                await asyncio.sleep(0.3)
        except RequestError as exc:
            assert exc.error_type == "busy" and exc.retry_after_s == 2
            return exc.message
        return "ok"

    return list(await asyncio.gather(*(one(c) for c in costs)))


def test_a_request_waits_for_a_work_turn_no_longer_than_its_deadline() -> None:
    admission = Admission(running=1, queued=4)

    answers = asyncio.run(_turns(admission, [1, 1], deadline_s=0.1))

    assert answers[0] == "ok"
    assert "no turn before the request's deadline" in answers[1]
    assert admission.load == (0, 0)


def test_heavy_requests_leave_half_the_turns_to_small_ones() -> None:
    admission = Admission(running=4, queued=8, heavy_audio_s=30)
    order: list[str] = []

    async def one(name: str, cost: float, start_s: float) -> None:
        await asyncio.sleep(start_s)
        async with admission.turn(cost, time.monotonic() + 10):
            order.append(f"{name} in")
            await asyncio.sleep(0.3)

    async def go() -> None:
        heavy = [one(f"heavy{i}", 60, 0) for i in range(3)]
        await asyncio.gather(*heavy, one("small", 0.4, 0.05))

    asyncio.run(go())

    assert order[:3] == ["heavy0 in", "heavy1 in", "small in"]  # heavy2 waits for heavy0/1
    assert admission.load == (0, 0)


def test_work_that_the_measured_rate_cannot_finish_by_its_deadline_is_refused() -> None:
    admission = Admission(running=4, queued=4, throughput=Throughput(min_busy_s=0.2))

    async def go() -> list[str]:
        # measured: 100 s of audio in 0.3 s of work, about 330 s of audio per second
        assert await _turns(admission, [50, 50], deadline_s=10) == ["ok", "ok"]
        rate = admission.throughput.rate()
        assert rate is not None and 200 < rate < 340, rate
        # 100 s in progress; 3000 s more cannot be done in 5 s at that rate, 500 s can
        return await _turns(admission, [100, 3000, 500], deadline_s=5)

    answers = asyncio.run(go())

    assert answers[0] == answers[2] == "ok"
    assert "would not be done by its deadline" in answers[1]
    assert asyncio.run(_turns(admission, [3000, 0.4], deadline_s=0.1)) == ["ok", "ok"]  # small


def test_work_beyond_the_audio_budget_is_refused_at_once() -> None:
    admission = Admission(running=4, queued=4, max_audio_s=100)
    started = time.monotonic()

    answers = asyncio.run(_turns(admission, [80, 30, 20], deadline_s=10))

    assert answers[0] == answers[2] == "ok"
    assert "80 s of audio already in progress, at most 100 s" in answers[1]
    assert time.monotonic() - started < 1  # refused, not queued
    assert asyncio.run(_turns(admission, [500], deadline_s=10)) == ["ok"]  # alone: always


# --- CORS -----------------------------------------------------------------------------------------


def test_cors_is_off_unless_origins_are_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOCALBABY_CORS_ORIGINS", raising=False)
    assert service._http_config() == {}

    monkeypatch.setenv("VOCALBABY_CORS_ORIGINS", "https://a.example, https://b.example")
    cors = service._http_config()["cors"]
    assert cors["enabled"] is True
    assert cors["access_control_allow_origins"] == ["https://a.example", "https://b.example"]


# --- one refusal shape ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "error", "message"),
    [
        (415, b'[{"error": "expected multipart"}]', "unsupported_media_type", "expected multipart"),
        (
            400,
            b'{"error": "1 validation error", "detail": [{"loc": ["rows", 0], "msg": "missing"}]}',
            "bad_request",
            "1 validation error; rows.0: missing",
        ),
        (404, b"Not Found", "not_found", "Not Found"),
        (503, b"", "unavailable", "Service Unavailable"),
    ],
)
def test_foreign_error_bodies_are_reshaped(
    status: int, body: bytes, error: str, message: str
) -> None:
    refusal = reshape(status, body)
    assert refusal is not None
    assert (refusal.error_code, refusal.body()) == (
        status,
        {"error": error, "message": message, "files": []},
    )


def test_bodies_in_the_shape_are_left_alone() -> None:
    assert reshape(413, b'{"error": "too_large", "message": "m", "files": []}') is None


def test_unknown_paths_are_refused_in_the_shape() -> None:
    response = call(guarded_app(None), "GET", "/nowhere")
    assert (response.status_code, response.json()["error"]) == (404, "not_found")


# --- fail-closed auth -----------------------------------------------------------------------------

LONG_TOKEN = "t" * auth.MIN_TOKEN_CHARS


@pytest.mark.parametrize(
    ("env", "token"),
    [
        ({}, None),
        ({"VOCALBABY_API_TOKEN": "short-dev-token"}, "short-dev-token"),
        ({"VOCALBABY_ENV": "prod", "VOCALBABY_API_TOKEN": LONG_TOKEN}, LONG_TOKEN),
        ({"VOCALBABY_REQUIRE_TOKEN": "1", "VOCALBABY_API_TOKEN": f" {LONG_TOKEN}\n"}, LONG_TOKEN),
    ],
)
def test_usable_tokens(env: dict[str, str], token: str | None) -> None:
    assert auth.api_token(env) == token


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"VOCALBABY_ENV": "prod"}, "at least 32 characters"),
        ({"VOCALBABY_ENV": "prod", "VOCALBABY_API_TOKEN": "   "}, "at least 32 characters"),
        ({"VOCALBABY_REQUIRE_TOKEN": "1", "VOCALBABY_API_TOKEN": "t" * 31}, "at least 32"),
        ({"VOCALBABY_API_TOKEN": "set-me-out-of-band"}, "placeholder"),
        ({"VOCALBABY_ENV": "prod", "VOCALBABY_API_TOKEN": "CHANGEME"}, "placeholder"),
    ],
)
def test_unusable_tokens_are_refused(env: dict[str, str], reason: str) -> None:
    with pytest.raises(auth.TokenError, match=reason):
        auth.api_token(env)


def test_a_production_service_without_a_token_does_not_start(tmp_path: Path) -> None:
    env = {**os.environ, "VOCALBABY_ENV": "prod", "BENTOML_HOME": str(tmp_path)}
    env.pop("VOCALBABY_API_TOKEN", None)
    run = subprocess.run(
        [sys.executable, "-c", "import vocalbaby_service.service"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0
    assert "TokenError" in run.stderr and "at least 32 characters" in run.stderr


def test_metrics_need_the_token() -> None:
    app = guarded_app("s3cret")
    assert call(app, "GET", "/metrics").status_code == 401


def test_answers_are_declared_json(tmp_path: Path) -> None:
    """A declared media type: BentoML does not rebuild the answer's JSON schema per response."""
    env = {**os.environ, "BENTOML_HOME": str(tmp_path)}
    probe = (
        "from vocalbaby_service.service import VocalBaby; "
        "print(sorted({api.output_spec.mime_type() for api in VocalBaby.apis.values()})); "
        "print(sorted(n for n, api in VocalBaby.apis.items() if not api.output_spec.media_type))"
    )
    run = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split("\n")[:2] == ["['application/json']", "[]"]
