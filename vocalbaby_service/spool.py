"""A durable local spool of prediction-log rows: one append-only file per process.

A spool file (``<dir>/<pid>-<hex>.spool``) is a sequence of frames, each an 8-byte big-endian
length and that many bytes of parquet (one table of rows). :meth:`Spool.append` writes a frame
and fsyncs it; :meth:`Spool.frames` reads them back and :meth:`Spool.clear` empties the file
once they are shipped. The owning process holds an exclusive ``flock`` on its file, so
:func:`recover` (files of processes that died) never picks a live process's spool. A frame
cut short by a crash (the tail of the file) is ignored.
"""

from __future__ import annotations

import fcntl
import io
import logging
import os
import struct
import uuid
from collections.abc import Callable
from pathlib import Path

import pandas as pd

logger = logging.getLogger(__name__)

SUFFIX = ".spool"
_LENGTH = struct.Struct(">Q")


def to_parquet(frame: pd.DataFrame) -> bytes:
    """Parquet bytes of a frame (index dropped)."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def read_frames(path: Path) -> list[pd.DataFrame]:
    """The complete frames of a spool file, in order (a torn last frame is left out)."""
    data, frames, at = path.read_bytes(), [], 0
    while at + _LENGTH.size <= len(data):
        (length,) = _LENGTH.unpack_from(data, at)
        end = at + _LENGTH.size + length
        if end > len(data):
            break
        frames.append(pd.read_parquet(io.BytesIO(data[at + _LENGTH.size : end])))
        at = end
    if at < len(data):
        logger.warning("prediction spool %s: ignored a torn frame (%d bytes)", path, len(data) - at)
    return frames


class Spool:
    """This process's spool file, created (and locked) on construction."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{os.getpid()}-{uuid.uuid4().hex[:12]}{SUFFIX}"
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def append(self, frame: pd.DataFrame) -> None:
        """Write one frame and fsync it."""
        data = to_parquet(frame)
        os.write(self._fd, _LENGTH.pack(len(data)) + data)
        os.fsync(self._fd)

    def frames(self) -> list[pd.DataFrame]:
        """Every frame written since the last :meth:`clear`."""
        return read_frames(self.path)

    def clear(self) -> None:
        """Empty the file (its frames were shipped)."""
        os.ftruncate(self._fd, 0)
        os.fsync(self._fd)

    def remove(self) -> None:
        """Delete the file and release it (on a clean stop, after shipping)."""
        self.path.unlink(missing_ok=True)
        os.close(self._fd)


def recover(folder: Path, own: Path, ship: Callable[[list[pd.DataFrame]], None]) -> None:
    """Ship the frames of every spool file in ``folder`` that no live process holds (not ``own``),
    then delete it; a file whose ``ship`` raises is kept for the next start."""
    for path in sorted(folder.glob(f"*{SUFFIX}")):
        if path == own:
            continue
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.fstat(fd).st_nlink == 0:  # recovered and deleted by another process meanwhile
                continue
            frames = read_frames(path)
            if frames:
                ship(frames)
            path.unlink()
        except BlockingIOError:  # a live process's spool
            continue
        finally:
            os.close(fd)
