"""Every hub process allocates Arrow memory from the system allocator unless told otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = (
    "import pyarrow as pa; from exchange.core.memory import prefer_system_allocator, "
    "release_freed_memory; prefer_system_allocator(); pa.array(range(10**6)); "
    "release_freed_memory(); print(pa.default_memory_pool().backend_name)"
)


def backend(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=clean | env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_arrow_uses_the_system_allocator_by_default() -> None:
    assert backend() == "system"


def test_a_pool_named_in_the_environment_is_kept() -> None:
    assert backend(ARROW_DEFAULT_MEMORY_POOL="jemalloc") == "jemalloc"
