"""Give freed heap memory back to the operating system after heavy work.

glibc keeps memory freed by a large request (decoded audio, feature tables) in its arenas, so a
server's resident size stays near its peak long after the work is done. ``malloc_trim(0)``
returns the free pages; it costs a few milliseconds, so it runs only after requests of at least
:data:`TRIM_AFTER_AUDIO_S` seconds of audio. Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

TRIM_AFTER_AUDIO_S = 30.0


@functools.cache
def _malloc_trim() -> ctypes._CFuncPtr | None:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


def release_memory(audio_s: float) -> bool:
    """Trim the heap after a request of ``audio_s`` seconds of audio; whether it was trimmed."""
    trim = _malloc_trim()
    if trim is None or audio_s < TRIM_AFTER_AUDIO_S:
        return False
    trim(0)
    return True
