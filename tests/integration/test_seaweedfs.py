"""The SeaweedFS test server speaks S3 and really checks request signatures."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.servers.seaweedfs import S3Server

pytestmark = pytest.mark.integration


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    """A fresh, empty bucket."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    s3_server.client().create_bucket(Bucket=name)
    return name


def test_put_get_list(s3_server: S3Server, bucket: str) -> None:
    s3 = s3_server.client()
    s3.put_object(Bucket=bucket, Key="clips/a.wav", Body=b"RIFF-a")
    s3.put_object(Bucket=bucket, Key="clips/b.wav", Body=b"RIFF-b")
    s3.put_object(Bucket=bucket, Key="metadata.csv", Body=b"clip_id,label\n")

    assert s3.get_object(Bucket=bucket, Key="clips/b.wav")["Body"].read() == b"RIFF-b"
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="clips/")
    assert [obj["Key"] for obj in listed["Contents"]] == ["clips/a.wav", "clips/b.wav"]
    assert bucket in {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_env_points_boto3_at_server(
    s3_server: S3Server, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    s3_server.client().put_object(Bucket=bucket, Key="k", Body=b"v")

    assert boto3.client("s3").get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"


def _client(server: S3Server, **kwargs: Any) -> Any:
    """A client for `server` without retries, with `kwargs` overriding the real credentials."""
    options = {
        "endpoint_url": server.endpoint_url,
        "aws_access_key_id": server.access_key,
        "aws_secret_access_key": server.secret_key,
        "region_name": server.region,
        "config": Config(retries={"max_attempts": 1}),
    }
    return boto3.client("s3", **(options | kwargs))


@pytest.mark.parametrize(
    ("credentials", "error_code"),
    [
        ({"aws_secret_access_key": "wrong-secret"}, "SignatureDoesNotMatch"),
        ({"aws_access_key_id": "AKUNKNOWN"}, "InvalidAccessKeyId"),
        (
            {"config": Config(signature_version=UNSIGNED, retries={"max_attempts": 1})},
            "AccessDenied",
        ),
    ],
    ids=["wrong-secret", "unknown-key", "anonymous"],
)
def test_bad_credentials_are_rejected(
    s3_server: S3Server, bucket: str, credentials: dict[str, Any], error_code: str
) -> None:
    s3_server.client().put_object(Bucket=bucket, Key="private", Body=b"secret")
    intruder = _client(s3_server, **credentials)

    for call in (
        lambda: intruder.list_objects_v2(Bucket=bucket),
        lambda: intruder.get_object(Bucket=bucket, Key="private"),
        lambda: intruder.put_object(Bucket=bucket, Key="intruder", Body=b"x"),
    ):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert excinfo.value.response["Error"]["Code"] == error_code
    keys = [obj["Key"] for obj in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["private"]
