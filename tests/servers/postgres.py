"""A real PostgreSQL server (Debian ``postgresql``) on 127.0.0.1 for tests: a fresh cluster.

    with running_postgres() as pg:
        engine = sqlalchemy.create_engine(pg.url("dagster"))

``initdb`` and ``pg_ctl`` run as the ``postgres`` user when the tests run as root (the server
refuses root); the cluster lives in a temporary folder that user owns, listens on 127.0.0.1 only
(password authentication, TLS with a throw-away self-signed certificate, so clients can connect
with ``sslmode=require`` as in production) with its unix socket in that folder, and is removed at
the end.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.servers.process import HOST, free_port, log_tail

USER = "vocalbaby"
START_TIMEOUT_S = 60


def bin_dir() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``: Debian's newest, else on PATH, else None."""
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3])
    )
    if debian:
        return debian[-1].parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@dataclass(frozen=True)
class Postgres:
    """Where a running cluster listens and the password of its superuser ``vocalbaby``."""

    port: int
    password: str
    host: str = HOST
    user: str = USER

    def url(self, database: str, driver: str = "postgresql+psycopg2") -> str:
        """An SQLAlchemy URL of ``database`` (created with :meth:`create_database`)."""
        return f"{driver}://{self.user}:{self.password}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create database ``name``; return its SQLAlchemy URL."""
        import psycopg2

        connection = psycopg2.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname="postgres",
        )
        connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        return self.url(name)


def _as_server_user(command: list[str]) -> list[str]:
    """``command`` run as ``postgres`` when we are root (PostgreSQL refuses to run as root)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1 in ``folder`` (openssl), readable by the server."""
    cert, key = folder / "server.crt", folder / "server.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={HOST}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        capture_output=True,
        check=True,
    )
    key.chmod(0o600)
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        for path in (cert, key):
            os.chown(path, account.pw_uid, account.pw_gid)
    return cert, key


def _run(command: list[str]) -> None:
    result = subprocess.run(_as_server_user(command), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")


@contextmanager
def running_postgres() -> Iterator[Postgres]:
    """Initialise and start a throw-away cluster; stop and delete it afterwards.

    Raises FileNotFoundError when PostgreSQL is not installed.
    """
    binaries = bin_dir()
    if binaries is None:
        raise FileNotFoundError("no PostgreSQL initdb (apt-get install postgresql)")
    # Not under pytest's basetemp: the postgres user cannot enter root's private folders.
    root = Path(tempfile.mkdtemp(prefix="vocalbaby-pg-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(root, account.pw_uid, account.pw_gid)
    data, log = root / "data", root / "server.log"
    server = Postgres(port=free_port(), password=secrets.token_urlsafe(16))
    password_file = root / "password"
    password_file.write_text(server.password)
    password_file.chmod(0o644)
    try:
        _run(
            [
                str(binaries / "initdb"),
                f"--pgdata={data}",
                f"--username={USER}",
                f"--pwfile={password_file}",
                "--auth-host=scram-sha-256",
                "--auth-local=trust",
                "--encoding=UTF8",
                "--no-sync",
            ]
        )
        password_file.unlink()
        cert, key = _self_signed_certificate(root)
        options = (
            f"-c listen_addresses={HOST} -p {server.port} -k {root} "
            f"-c ssl=on -c ssl_cert_file={cert} -c ssl_key_file={key} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        pg_ctl = str(binaries / "pg_ctl")
        start = [pg_ctl, f"--pgdata={data}", f"--log={log}", f"--options={options}", "--wait"]
        try:
            _run([*start, f"--timeout={START_TIMEOUT_S}", "start"])
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\nserver log:\n{log_tail(log)}") from exc
        try:
            yield server
        finally:
            _run([pg_ctl, f"--pgdata={data}", "--mode=fast", "--wait", "stop"])
    finally:
        shutil.rmtree(root, ignore_errors=True)
