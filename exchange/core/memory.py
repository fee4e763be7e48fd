"""Giving freed memory back to the operating system after a big piece of work.

A batch of a million rows passes through Arrow's allocator (mimalloc) and glibc's malloc, and
both keep what was freed for reuse: a node that had loaded one big batch stayed 30-40 MB above
what it needed until it loaded the next. The resident size of a node is what its container is
sized by, so after each batch the freed pages are returned (a few milliseconds).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

import pyarrow as pa


@functools.cache
def _malloc_trim() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None


def release_freed_memory() -> None:
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
