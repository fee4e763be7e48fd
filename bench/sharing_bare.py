"""The baseline of bench.sharing: a bare FastAPI + psycopg keyed lookup, nothing else.

    python -m bench.sharing_bare DSN PORT

Same SELECT as the sharing path's keyed lookup, async psycopg connections in a small pool,
no authentication, grant check, masking, quota or audit.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse

POOL_SIZE = 16
SQL = (
    "SELECT id_number, name, gender, household_division, phone, status "
    "FROM ds_population WHERE id_number = %s AND NOT _deleted"
)
COLUMNS = ("id_number", "name", "gender", "household_division", "phone", "status")


def make_app(dsn: str) -> FastAPI:
    pool: asyncio.Queue[psycopg.AsyncConnection] = asyncio.Queue()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for _i in range(POOL_SIZE):
            pool.put_nowait(await psycopg.AsyncConnection.connect(dsn, autocommit=True))
        yield
        while not pool.empty():
            await pool.get_nowait().close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/records/{key}")
    async def record(key: str) -> JSONResponse:
        conn = await pool.get()
        try:
            cur = await conn.execute(SQL, (key,))
            row = await cur.fetchone()
        finally:
            pool.put_nowait(conn)
        if row is None:
            return JSONResponse({"error": "RecordNotFound"}, status_code=404)
        return JSONResponse({"key": key, "record": dict(zip(COLUMNS, row, strict=True))})

    return app


def main() -> None:
    dsn, port = sys.argv[1], int(sys.argv[2])
    uvicorn.run(make_app(dsn), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
