"""Keeping a node's resident memory close to what it uses: containers are sized by it.

Arrow's default allocator (mimalloc) holds on to what a batch freed: after a million-row load
a node kept ~30 MB resident in mimalloc's arena, and a 1 GB batch took it to 300-310 MB.
With the system allocator the same node peaks at 250-255 MB and loads as fast
(`bench.exchange`), so every `hub` process switches to it unless ARROW_DEFAULT_MEMORY_POOL
names a pool. After each batch, what glibc's malloc keeps free is handed back as well.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

ARROW_POOL = "ARROW_DEFAULT_MEMORY_POOL"


def prefer_system_allocator() -> None:
    """Arrow allocates from the system allocator from now on (unless the environment chose)."""
    import pyarrow as pa

    if ARROW_POOL not in os.environ:
        pa.set_memory_pool(pa.system_memory_pool())


@functools.cache
def _malloc_trim() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None


def release_freed_memory() -> None:
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
