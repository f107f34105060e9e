"""The studio's defences, probed against the real server (`vocalbaby annotate` on 127.0.0.1).

Host allow-list, token gate, refusal to listen beyond loopback without a token, bodies refused
while they stream (resident memory measured), and a 4xx naming the field for every bad save.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from tests.annotate.conftest import (
    LONG_RECORDING,
    AnnotateServer,
    make_review_folder,
    running_annotate,
)
from vocalbaby_annotate.security import COOKIE, check_exposure
from vocalbaby_cli.app import app

TOKEN = "t0ken-for-the-hardening-tests"
MB = 1024 * 1024
RSS_GROWTH_LIMIT_MB = 40


@pytest.fixture(scope="module")
def server(
    real_dev: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[AnnotateServer, subprocess.Popen[bytes]]]:
    """The app without a model (segments unlabelled: starts in seconds), shared by the module."""
    tmp_path = tmp_path_factory.mktemp("hardening")
    folder = make_review_folder(real_dev, tmp_path / "recordings")
    env = {"VOCALBABY_ARTIFACTS_URI": str(tmp_path / "no-artifacts")}
    with running_annotate(folder, tmp_path, env=env) as running:
        yield running


def request(
    url: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None
) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def rss_mb(pid: int) -> float:
    """Resident memory of the server and its children (the CLI runs uvicorn in-process)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_a_host_header_of_another_site_is_refused(server) -> None:
    running, _ = server
    status, _, _ = request(running.url, "GET", "/api/recordings", headers={"Host": "evil.example"})
    assert status == 400
    status, _, body = request(running.url, "GET", "/api/recordings")
    assert status == 200 and json.loads(body)["total"] == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "0.0.0.0"], "VOCALBABY_STUDIO_TOKEN"),
        (["--host", "192.168.1.20"], "lets other machines in"),
        (["--token", "short"], "at least 16 characters"),
    ],
)
def test_listening_beyond_loopback_without_a_token_is_refused_at_start(
    review_folder: Path, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(
        app, ["annotate", str(review_folder), *args], env={"VOCALBABY_STUDIO_TOKEN": None}
    )
    assert result.exit_code == 2 and message in re.sub(r"[\s│]+", " ", result.output)


def test_with_a_token_every_request_needs_it(review_folder: Path, tmp_path: Path) -> None:
    env = {"VOCALBABY_ARTIFACTS_URI": str(tmp_path / "none"), "VOCALBABY_STUDIO_TOKEN": TOKEN}
    with running_annotate(review_folder, tmp_path, env=env) as (running, _):
        for path in ("/", "/api/recordings", f"/api/audio/{LONG_RECORDING}", "/static/app.js"):
            assert request(running.url, "GET", path)[0] == 401, path
        wrong = {"Authorization": "Bearer " + TOKEN[:-1] + "x"}
        assert request(running.url, "GET", "/api/recordings", headers=wrong)[0] == 401
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert request(running.url, "GET", "/api/recordings", headers=bearer)[0] == 200

        status, headers, _ = request(running.url, "GET", f"/?token={TOKEN}")
        cookie = headers["set-cookie"]
        assert status == 303 and cookie.startswith(f"{COOKIE}=")
        assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
        signed_in = {"Cookie": cookie.split(";")[0]}
        assert request(running.url, "GET", "/", headers=signed_in)[0] == 200


def test_a_declared_huge_body_is_refused_before_it_is_read(server) -> None:
    running, proc = server
    before = rss_mb(proc.pid)
    parts = urlsplit(running.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        head = (
            f"PUT /api/annotation/{LONG_RECORDING} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Length: {400 * MB}\r\nContent-Type: application/json\r\n\r\n"
        )
        sock.sendall(head.encode() + b"x" * MB)
        reply = sock.recv(200)
    assert reply.startswith(b"HTTP/1.1 413"), reply
    assert rss_mb(proc.pid) - before < RSS_GROWTH_LIMIT_MB


def test_a_chunked_body_is_refused_once_it_passes_the_limit(server) -> None:
    running, proc = server
    before = rss_mb(proc.pid)
    parts = urlsplit(running.url)
    sent = 0
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(
            f"PUT /api/annotation/{LONG_RECORDING} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n".encode()
        )
        chunk = b"%x\r\n%s\r\n" % (MB, b"x" * MB)
        try:
            while sent < 200 * MB:
                sock.sendall(chunk)
                sent += MB
        except OSError:  # the server answered and closed the connection
            pass
        reply = sock.recv(200)
    assert reply.startswith(b"HTTP/1.1 413"), reply
    assert sent < 100 * MB  # refused long before the end
    assert rss_mb(proc.pid) - before < RSS_GROWTH_LIMIT_MB


SEGMENT = {"start_s": 0.0, "end_s": 0.4, "label": "junk", "labelled_by": "p", "labelled_at": "t"}


def save_body(segment: dict | None = None, **fields: object) -> bytes:
    body = {"annotator": "p", "base_revision": 0, "segments": [{**SEGMENT, **(segment or {})}]}
    return json.dumps(body | fields).encode()


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (save_body({"suggested_label": {"a": 1}}), 400, "segments[0].suggested_label"),
        (save_body(base_revision=5), 409, "nothing is saved yet"),
        (save_body().replace(b'"start_s": 0.0', b'"start_s": ' + b"9" * 400), 400, "start_s"),
        (
            save_body().replace(b'"base_revision": 0', b'"base_revision": ' + b"9" * 5000),
            400,
            "body",
        ),
        (save_body(base_revision=10**30), 400, "base_revision"),
        (save_body(base_revision=True), 400, "base_revision"),
        (save_body().replace(b'"end_s": 0.4', b'"end_s": NaN'), 400, "body"),
        (save_body().replace(b'"end_s": 0.4', b'"end_s": 1e999'), 400, "segments[0].end_s"),
        (save_body({"start_s": "0"}), 400, "segments[0].start_s"),
        (save_body({"end_s": False}), 400, "segments[0].end_s"),
        (save_body({"start_s": -1}), 400, "segments[0].start_s"),
        (save_body({"label": ["junk"]}), 400, "segments[0].label"),
        (save_body({"suggested_probabilities": "x"}), 400, "segments[0].suggested_probabilities"),
        (save_body({"suggested_probabilities": {"junk": 2}}), 400, "suggested_probabilities.junk"),
        (save_body({"suggested_probabilities": {"shout": 1}}), 400, "unknown class"),
        (save_body({"origin": 3}), 400, "segments[0].origin"),
        (save_body({"labelled_at": "x" * 1000}), 400, "segments[0].labelled_at"),
        (save_body({"labelled_by": "p q"}), 400, "segments[0].labelled_by"),
        (save_body(reviewed="yes"), 400, "reviewed"),
        (save_body(annotator=5), 400, "annotator"),
        (save_body(segments="all"), 400, "segments"),
        (save_body(segments=[7]), 400, "segments[0]"),
        (b"[1, 2]", 400, "body"),
        (b"[" * 100_000 + b"]" * 100_000, 400, "body"),
        (b"\xff\xfe", 400, "body"),
        (json.dumps({"annotator": "p"}).encode(), 400, "base_revision"),
    ],
)
def test_every_bad_save_gets_a_4xx_naming_the_field(
    server, body: bytes, status: int, field: str
) -> None:
    running, _ = server
    headers = {"Content-Type": "application/json"}
    got, _, reply = request(running.url, "PUT", f"/api/annotation/{LONG_RECORDING}", body, headers)
    assert got == status, reply
    assert field in json.loads(reply)["message"]
    assert not list(running.store.rglob("@p"))  # nothing was stored


def test_a_good_save_still_works(server) -> None:
    running, _ = server
    ok = {**SEGMENT, "labelled_by": "ok"}
    body = json.dumps({"annotator": "ok", "base_revision": 0, "segments": [ok]}).encode()
    got, _, reply = request(running.url, "PUT", f"/api/annotation/{LONG_RECORDING}", body)
    assert got == 200 and json.loads(reply)["revision"] == 1


ALICE, BOB = "alice-own-token-0123456789", "bob-own-token-0123456789"


def test_with_accounts_each_annotator_can_only_save_as_themselves(
    review_folder: Path, tmp_path: Path
) -> None:
    accounts = tmp_path / "accounts.txt"
    accounts.write_text(f"# name token\nalice {ALICE}\nbob {BOB}  # the second coder\n")
    env = {"VOCALBABY_ARTIFACTS_URI": str(tmp_path / "none")}
    args = ("--accounts", str(accounts))
    with running_annotate(review_folder, tmp_path, *args, env=env) as (running, _):
        as_alice = {"Authorization": f"Bearer {ALICE}", "Content-Type": "application/json"}
        config = json.loads(request(running.url, "GET", "/api/config", headers=as_alice)[2])
        assert config["signed_in"] == config["default_annotator"] == "alice"
        path = f"/api/annotation/{LONG_RECORDING}"
        bob_body = {**SEGMENT, "labelled_by": "bob"}
        as_bob = json.dumps({"annotator": "bob", "base_revision": 0, "segments": [bob_body]})
        status, _, reply = request(running.url, "PUT", path, as_bob.encode(), as_alice)
        assert status == 403 and "signed in as alice" in json.loads(reply)["message"]
        alice_body = {**SEGMENT, "labelled_by": "alice"}
        mine = json.dumps({"annotator": "alice", "base_revision": 0, "segments": [alice_body]})
        assert request(running.url, "PUT", path, mine.encode(), as_alice)[0] == 200
        assert request(running.url, "GET", "/api/config")[0] == 401
        status, headers, _ = request(running.url, "GET", f"/?token={BOB}")
        assert status == 303 and BOB in headers["set-cookie"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("alice short\n", "line 1: the token must have at least 16"),
        (f"alice {ALICE}\nbob {ALICE}\n", "line 2: the token of bob is also alice's"),
        (f"bad name {ALICE}\n", "line 1: write NAME TOKEN"),
        ("# nobody\n", "no accounts"),
    ],
)
def test_a_bad_accounts_file_is_refused_at_start(
    review_folder: Path, tmp_path: Path, content: str, message: str
) -> None:
    accounts = tmp_path / "accounts.txt"
    accounts.write_text(content)
    result = CliRunner().invoke(app, ["annotate", str(review_folder), "--accounts", str(accounts)])
    assert result.exit_code == 2 and message in re.sub(r"[\s│]+", " ", result.output)


def test_loopback_needs_nothing_and_accounts_open_other_interfaces() -> None:
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        check_exposure(host, None)
    check_exposure("0.0.0.0", None, accounts=True)
    with pytest.raises(ValueError, match="lets other machines in"):
        check_exposure("lab-pc.local", None)
