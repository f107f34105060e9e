"""Read and write bytes at a local path or an ``s3://bucket/key`` URI.

S3 access goes through boto3, which honours the standard AWS variables, including
``AWS_ENDPOINT_URL_S3`` for S3-compatible servers.
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

TEMPORARY_SUFFIX = ".tmp"  # local files being written; list_keys never returns them


class StorageUnavailable(OSError):
    """The S3 endpoint could not be reached (connection refused, reset or timed out)."""


def is_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` says S3 could not be reached: :class:`StorageUnavailable`, or botocore's
    connection and HTTP client errors (refused, reset, timed out)."""
    if isinstance(exc, StorageUnavailable):
        return True
    from botocore import exceptions  # boto is imported only once S3 is used

    return isinstance(exc, exceptions.ConnectionError | exceptions.HTTPClientError)


@contextmanager
def _reaching(uri: str, action: str) -> Iterator[None]:
    """Turn botocore's connection failures into :class:`StorageUnavailable` naming ``uri``."""
    try:
        yield
    except Exception as exc:
        if not is_unreachable(exc):
            raise
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        where = endpoint or "the default AWS S3 endpoint"
        raise StorageUnavailable(f"S3 unreachable at {where} while {action} {uri}: {exc}") from exc


def is_s3(uri: str | os.PathLike[str]) -> bool:
    """Whether ``uri`` names an S3 object or prefix."""
    return str(uri).startswith("s3://")


def join(base: str | os.PathLike[str], *parts: str) -> str:
    """Join path parts onto a local path or an S3 URI."""
    if is_s3(base):
        return "/".join([str(base).rstrip("/"), *(p.strip("/") for p in parts)])
    return str(Path(base, *parts))


def split_s3(uri: str) -> tuple[str, str]:
    """Split ``s3://bucket/key`` into ``(bucket, key)``."""
    parsed = urlparse(uri)
    return parsed.netloc, parsed.path.lstrip("/")


def _s3_client():
    """A client for the S3 endpoint and credentials currently in the environment."""
    keys = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_PROFILE")
    return _cached_client(tuple(os.environ.get(k) for k in keys))


@functools.cache
def _cached_client(_env: tuple[str | None, ...]):
    import boto3

    # A new session: boto3's default one keeps the credentials it resolved first.
    return boto3.session.Session().client("s3")


def read_bytes(uri: str | os.PathLike[str]) -> bytes:
    """Return the bytes stored at ``uri``; raises ``FileNotFoundError`` when absent and
    :class:`StorageUnavailable` when S3 cannot be reached."""
    if not is_s3(uri):
        return Path(uri).read_bytes()
    bucket, key = split_s3(str(uri))
    client = _s3_client()
    try:
        with _reaching(str(uri), "reading"):
            return client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except client.exceptions.NoSuchKey as exc:
        raise FileNotFoundError(uri) from exc


@contextmanager
def _temporary_beside(path: Path, data: bytes) -> Iterator[Path]:
    """A complete file holding ``data`` under a unique name in ``path``'s folder, removed after
    (each writer gets its own, so no writer can truncate a file another one publishes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}{TEMPORARY_SUFFIX}")
    try:
        with tmp.open("xb") as file:  # exclusive: fails rather than share a name
            file.write(data)
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(uri: str | os.PathLike[str], data: bytes) -> None:
    """Store ``data`` at ``uri`` atomically (readers see the old or the new bytes, never part),
    creating local parent folders as needed; the last of concurrent writers wins."""
    if not is_s3(uri):
        with _temporary_beside(Path(uri), data) as tmp:
            tmp.replace(uri)
        return
    bucket, key = split_s3(str(uri))
    with _reaching(str(uri), "writing"):
        _s3_client().put_object(Bucket=bucket, Key=key, Body=data)


def create(uri: str | os.PathLike[str], data: bytes) -> None:
    """Store ``data`` at ``uri`` only if nothing is there yet; else raise ``FileExistsError``.

    Atomic: locally a complete temporary file is hard-linked into place (``link`` fails if the
    name exists, and readers never see a half-written file); on S3 a conditional put
    (``If-None-Match: *``). Of two writers racing for one key exactly one succeeds.
    """
    if not is_s3(uri):
        with _temporary_beside(Path(uri), data) as tmp:
            os.link(tmp, uri)
        return
    bucket, key = split_s3(str(uri))
    client = _s3_client()
    try:
        with _reaching(str(uri), "creating"):
            client.put_object(Bucket=bucket, Key=key, Body=data, IfNoneMatch="*")
    except client.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"PreconditionFailed", "412"}:
            raise FileExistsError(uri) from exc
        raise


def exists(uri: str | os.PathLike[str]) -> bool:
    """Whether an object or file exists at ``uri``."""
    if not is_s3(uri):
        return Path(uri).exists()
    bucket, key = split_s3(str(uri))
    with _reaching(str(uri), "looking up"):
        response = _s3_client().list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
    return any(obj["Key"] == key for obj in response.get("Contents", []))


def list_keys(prefix_uri: str) -> list[str]:
    """Full URIs of every object under an S3 prefix or every file under a local folder
    (never a temporary file still being written)."""
    if not is_s3(prefix_uri):
        root = Path(prefix_uri)
        return sorted(
            str(p)
            for p in root.rglob("*")
            if p.is_file() and not (p.name.startswith(".") and p.name.endswith(TEMPORARY_SUFFIX))
        )
    bucket, prefix = split_s3(prefix_uri)
    paginator = _s3_client().get_paginator("list_objects_v2")
    with _reaching(prefix_uri, "listing"):
        return sorted(
            f"s3://{bucket}/{obj['Key']}"
            for page in paginator.paginate(Bucket=bucket, Prefix=prefix.rstrip("/") + "/")
            for obj in page.get("Contents", [])
        )
