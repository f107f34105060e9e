"""Atomic local writes under concurrency, and the error when S3 cannot be reached."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from vocalbaby import storage

SIZE = 2_000_000  # large enough that a write takes several system calls


def test_concurrent_writers_never_publish_a_partial_file(tmp_path) -> None:
    target = tmp_path / "deep" / "model.bin"
    payloads = {bytes([i]) * SIZE for i in range(8)}
    torn: list[int] = []
    done = threading.Event()

    def read_while_writing() -> None:
        while not done.is_set():
            try:
                data = target.read_bytes()
            except FileNotFoundError:
                continue
            if data not in payloads:
                torn.append(len(data))

    reader = threading.Thread(target=read_while_writing)
    reader.start()
    try:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: storage.write_bytes(target, bytes([i % 8]) * SIZE), range(200)))
    finally:
        done.set()
        reader.join()
    assert torn == []  # before: most reads saw a truncated file and writers hit FileNotFoundError
    assert target.read_bytes() in payloads
    assert [p.name for p in target.parent.iterdir()] == ["model.bin"]  # no temporaries left


def test_racing_creates_publish_exactly_one_complete_file(tmp_path) -> None:
    target = tmp_path / "once.bin"

    def create(i: int) -> bool:
        try:
            storage.create(target, bytes([i]) * SIZE)
        except FileExistsError:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        won = [i for i, ok in enumerate(pool.map(create, range(16))) if ok]
    assert len(won) == 1
    assert target.read_bytes() == bytes([won[0]]) * SIZE


def test_list_keys_skips_files_being_written(tmp_path) -> None:
    storage.write_bytes(tmp_path / "a.parquet", b"x")
    (tmp_path / f".b.parquet.0123{storage.TEMPORARY_SUFFIX}").write_bytes(b"partial")
    assert storage.list_keys(str(tmp_path)) == [str(tmp_path / "a.parquet")]


@pytest.mark.parametrize(
    "call",
    [
        lambda uri: storage.read_bytes(uri),
        lambda uri: storage.write_bytes(uri, b"x"),
        lambda uri: storage.create(uri, b"x"),
        lambda uri: storage.exists(uri),
        lambda uri: storage.list_keys(uri),
    ],
    ids=["read", "write", "create", "exists", "list"],
)
def test_unreachable_s3_raises_storage_unavailable_naming_endpoint_and_uri(
    closed_endpoint, call
) -> None:
    with pytest.raises(storage.StorageUnavailable) as raised:
        call("s3://bucket/some/key.parquet")
    assert closed_endpoint in str(raised.value)
    assert "s3://bucket/some/key.parquet" in str(raised.value)
    assert isinstance(raised.value, OSError)
