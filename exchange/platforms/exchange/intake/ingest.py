"""Stream a request body into the payload store without ever holding it whole in memory."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import anyio.to_thread

from exchange.core.store import PayloadStore, StoredObject
from exchange.platforms.exchange.errors import BatchTooLarge

# Writes are handed to a thread in pieces of this size: big enough that thread hops are rare,
# small enough that memory stays flat (X-Road was seen writing 8 KB at a time: slow).
WRITE_BUFFER = 4 * 1024 * 1024


async def stream_to_store(
    store: PayloadStore, key: str, body: AsyncIterator[bytes], limit: int
) -> StoredObject:
    digest = hashlib.sha256()
    size = 0
    pending: list[bytes] = []
    pending_size = 0
    out = await anyio.to_thread.run_sync(store.begin_write, key)
    try:
        async for chunk in body:
            size += len(chunk)
            if size > limit:
                raise BatchTooLarge(limit)
            digest.update(chunk)
            pending.append(chunk)
            pending_size += len(chunk)
            if pending_size >= WRITE_BUFFER:
                await anyio.to_thread.run_sync(out.write, b"".join(pending))
                pending, pending_size = [], 0
        if pending:
            await anyio.to_thread.run_sync(out.write, b"".join(pending))
    except BaseException:
        await anyio.to_thread.run_sync(out.abort)
        raise
    await anyio.to_thread.run_sync(out.commit)
    return StoredObject(key, size, digest.hexdigest())
