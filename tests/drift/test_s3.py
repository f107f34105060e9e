"""The prediction log read from S3 (a real SeaweedFS server on 127.0.0.1)."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.drift.helpers import write_log
from tests.servers.seaweedfs import S3Server
from vocalbaby import drift, storage

pytestmark = pytest.mark.integration


def test_prediction_log_on_s3(
    s3_server: S3Server, monkeypatch: pytest.MonkeyPatch, tmp_path, reference: pd.DataFrame
) -> None:
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    s3_server.client().create_bucket(Bucket="drift-log")
    for path in write_log(tmp_path, "2026-11-05", reference.head(30), batches=2):
        key = path.relative_to(tmp_path).as_posix()
        storage.write_bytes(f"s3://drift-log/log/{key}", path.read_bytes())
    days = drift.log_files("s3://drift-log/log")
    assert list(days) == ["2026-11-05"] and len(days["2026-11-05"]) == 2
    assert len(drift.read_log("s3://drift-log/log", day="2026-11-05")) == 30
