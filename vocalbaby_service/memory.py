"""Keep the server's resident memory near its warm size after heavy, concurrent work.

- glibc serves allocations of at least ``M_MMAP_THRESHOLD`` bytes with their own mappings,
  given back to the system when freed, but it raises that threshold each time such a block is
  freed (up to 32 MiB). After a few large requests, the decoding blocks and feature tables of
  concurrent requests (0.1 to 2 MiB each) then come from per-thread arenas, which fragment and
  keep their pages. Measured: rounds of three concurrent 260 s ZIP requests grew the worker from
  282 to 561 MiB after four rounds; with the threshold fixed (:data:`MMAP_THRESHOLD_BYTES`) it
  stayed at 296 MiB.
- The threshold is fixed at 32 KiB, below glibc's 128 KiB start: what the soak's mix left
  behind was in arena pages (anonymous mappings over 1 MiB, kept after 30 s idle). Measured
  with ``benchmarks/soak.py`` (16 clients, 120 s, 600 s recordings): the worker ended 18 % over
  its warm size with 128 KiB (peak 681 MiB), 9 % with 32 KiB (peak 606 MiB), answering more
  requests in the same time (1,862 against 1,668). ``benchmarks/serve.py``, two runs of each:
  67 req/s at 16 clients with 128 KiB, 75-77 with 32 KiB (server CPU per request 21.6 ms,
  19.4 ms).
- pyarrow's default memory pool (mimalloc) keeps what the prediction log's parquet writes
  freed; the system allocator (under the fixed threshold) gives it back. Measured with the
  prediction log on, four rounds of mixed requests (3 long recordings, 3 heavy ZIPs, 30 clips):
  the worker ended 26 % over its warm size with mimalloc, 14 % with the system pool.

Elsewhere than glibc the threshold is left alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util

import pyarrow

M_MMAP_THRESHOLD = -3  # mallopt parameter (malloc.h)
MMAP_THRESHOLD_BYTES = 32 * 1024  # glibc starts at 128 KiB and raises it


def fix_mmap_threshold() -> bool:
    """Fix glibc's mmap threshold at :data:`MMAP_THRESHOLD_BYTES`; whether it could."""
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt if name else None
    except (OSError, AttributeError):
        return False
    return bool(mallopt and mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))


def keep_memory_bounded() -> None:
    """Both measures of the module docstring, for this process."""
    fix_mmap_threshold()
    pyarrow.set_memory_pool(pyarrow.system_memory_pool())
