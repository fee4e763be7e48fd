"""A lean HTTP/1.1 keep-alive load generator (asyncio streams): N clients, fixed duration.

Lean on purpose: on a 2-core machine the client shares the CPU with the server it measures,
so it must cost as little per request as possible (no HTTP library, no parsing beyond the
status line and Content-Length). Both servers of a comparison get the same client.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Result:
    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    last_done: float = 0.0  # perf_counter() when the last measured request was answered

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) * 1000


async def _client(
    port: int,
    paths: Sequence[str],
    headers: str,
    start_at: float,
    stop_at: float,
    result: Result,
    seed: int,
) -> None:
    rng = random.Random(seed)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    measured = False  # every client measures one request at least, however slow the server
    try:
        while (now := time.perf_counter()) < stop_at or not measured:
            path = paths[rng.randrange(len(paths))]
            writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\n{headers}\r\n".encode())
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            if now >= start_at:
                measured, result.last_done = True, time.perf_counter()
                result.latencies.append(result.last_done - now)
                status = int(status_line.split()[1])
                result.statuses[status] = result.statuses.get(status, 0) + 1
    finally:
        writer.close()


async def _run(
    port: int,
    paths: Sequence[str],
    headers: dict[str, str],
    clients: int,
    warmup: float,
    seconds: float,
) -> Result:
    text = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    start_at = time.perf_counter() + warmup
    stop_at = start_at + seconds
    result = Result(seconds)
    await asyncio.gather(
        *(_client(port, paths, text, start_at, stop_at, result, i) for i in range(clients))
    )
    # a server slower than the window answered its last measured request after it closed
    result.seconds = max(seconds, result.last_done - start_at)
    return result


def load(
    port: int,
    paths: Sequence[str],
    *,
    headers: dict[str, str] | None = None,
    clients: int = 64,
    warmup: float = 2.0,
    seconds: float = 10.0,
) -> Result:
    load = _run(port, paths, headers or {}, clients, warmup, seconds)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        return asyncio.run(load)
    return uvloop.run(load)
