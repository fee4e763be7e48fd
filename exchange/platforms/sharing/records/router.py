"""Routes: reading shared data (records, change feed, Parquet snapshots) and bulk subscriptions.

The read routes are `async` and run all their database work in one worker thread and one
transaction (`run_read`): the hot path makes no thread hop per dependency.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.orm import Session

from exchange.core.arrow_io import PARQUET
from exchange.core.deps import DbSession, RuntimeDep, get_runtime
from exchange.core.errors import error_body
from exchange.platforms.sharing.audit.log import ReadContext
from exchange.platforms.sharing.bulk import service as bulk
from exchange.platforms.sharing.bulk.schemas import SubscriptionCreate, SubscriptionRead
from exchange.platforms.sharing.deps import (
    FILTERS,
    AuthFirstRoute,
    DepartmentActive,
    read_by_key,
    reading,
    run_read,
)
from exchange.platforms.sharing.disputes import service as disputes
from exchange.platforms.sharing.errors import RecordNotFound
from exchange.platforms.sharing.records import service as records
from exchange.platforms.sharing.records import snapshots
from exchange.platforms.sharing.records.schemas import EventPage, RecordPage, RecordRead
from exchange.platforms.sharing.records.service import PageResult
from exchange.platforms.sharing.vertical.router import relay_read

router = APIRouter(route_class=AuthFirstRoute, tags=["sharing: records"])
# An empty default rather than None: FastAPI checks an optional parameter's type on every call.
Fields = Annotated[
    str, Query(max_length=2000, description="comma-separated granted fields; default all")
]
HEADER_DOC = (
    "Conditional (有条件) resources need `X-Purpose` and `X-Case-Number` "
    "(percent-encoded UTF-8). Fields outside the grant are omitted; naming one is 403."
)


def _json(body: dict[str, Any], headers: dict[str, str], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


async def _mark_disputed(request: Request, code: str, items: list[dict[str, Any]]) -> None:
    """Open disputes (异议) shown on their records as `_disputes`: flagged, never changed."""
    if not items or disputes.cached_open(code) is False:
        return
    rt = get_runtime(request)
    schema = rt.schemas[code]
    key_field = schema.primary_key[0]
    keys = [item[key_field] for item in items if item.get(key_field) is not None]

    def look() -> dict[str, list[dict[str, Any]]]:
        with rt.sessions() as session:
            return disputes.marks(session, schema, keys)

    found = await run_in_threadpool(look)
    for item in items:
        if (marks := found.get(str(item.get(key_field)))) is not None:
            item["_disputes"] = marks


def _page(r: PageResult) -> JSONResponse:
    """A page of records or of change events: the one body both are answered with."""
    body = {
        "resource": r.resource,
        "grant_id": str(r.grant_id),
        "items": r.items,
        "next_cursor": r.next_cursor,
        "masked_fields": r.masked,
    }
    return _json(body, r.quota.headers())


@router.get(
    "/resources/{code}/records/{key}",
    responses={200: {"model": RecordRead}},
    summary="One record by its key (e.g. a person by ID number), now or as of a time",
    description=HEADER_DOC,
)
async def record_by_key(
    code: str,
    key: str,
    request: Request,
    ctx: Annotated[ReadContext, Depends(reading("record"))],
    fields: Fields = "",
    as_of: Annotated[
        dt.datetime | None,
        Query(description="as the base registry knew it then (registration time, with zone)"),
    ] = None,
    valid_at: Annotated[
        dt.datetime | None,
        Query(description="as it was in the world then (effective time, with zone)"),
    ] = None,
) -> JSONResponse:
    relayed = await relay_read(request, ctx, action="record", code=code, key=key, fields=fields)
    if relayed is not None:  # another node's resource (X-Provider-Node): asked hop by hop
        return relayed
    if as_of is None and valid_at is None:
        r = await read_by_key(request, ctx, code, key, fields)
    else:
        r = await run_read(
            request, ctx, "record", code, records.by_key_at, code, key, fields,
            as_of=as_of, valid_at=valid_at,
        )  # fmt: skip
    if r.record is None:  # returned, not raised: the audit entry of the miss must commit
        miss = RecordNotFound(code, r.key)
        return _json(error_body(miss.code, miss.detail), r.quota.headers(), 404)
    await _mark_disputed(request, code, [r.record])
    body = {
        "resource": r.resource,
        "key": r.key,
        "grant_id": str(r.grant_id),
        "record": r.record,
        "masked_fields": r.masked,
    }
    if r.version is not None:
        body["version"] = {
            "version": r.version.version,
            "recorded_at": r.version.recorded_at.isoformat(),
            "valid_from": r.version.valid_from.isoformat(),
        }
    return _json(body, r.quota.headers())


@router.get(
    "/resources/{code}/records",
    responses={200: {"model": RecordPage}},
    summary="Records, filtered on indexed fields (?field=value), keyset-paged by cursor",
    description=HEADER_DOC,
    openapi_extra={FILTERS: True},
)
async def list_records(
    code: str,
    request: Request,
    ctx: Annotated[ReadContext, Depends(reading("records"))],
    fields: Fields = "",
    cursor: Annotated[str | None, Query(max_length=4096)] = None,
    limit: Annotated[int, Query(ge=1)] = 100,
) -> JSONResponse:
    params = request.query_params.multi_items()
    relayed = await relay_read(
        request, ctx, action="records", code=code, fields=fields, params=params,
        cursor=cursor, limit=limit,
    )  # fmt: skip
    if relayed is not None:
        return relayed
    r = await run_read(
        request, ctx, "records", code, records.page, code, params,
        fields=fields, cursor=cursor, limit=limit,
    )  # fmt: skip
    await _mark_disputed(request, code, r.items)
    return _page(r)


@router.get(
    "/resources/{code}/events",
    responses={200: {"model": EventPage}},
    summary="The change feed: inserts, updates and deletes in order, after a cursor",
    description=HEADER_DOC,
)
async def list_events(
    code: str,
    request: Request,
    ctx: Annotated[ReadContext, Depends(reading("events"))],
    after: Annotated[str | None, Query(max_length=4096)] = None,
    limit: Annotated[int, Query(ge=1)] = 100,
) -> JSONResponse:
    r = await run_read(request, ctx, "events", code, records.events, code, after=after, limit=limit)
    return _page(r)


def _closing(chunks: Iterator[bytes], session: Session) -> Iterator[bytes]:
    """Stream, then end the stream's read-only transaction (commit: a joined savepoint is
    kept). The edge owns this transaction as it owns the request's."""
    try:
        yield from chunks
        session.commit()
    finally:
        session.close()


async def _snapshot(
    request: Request, ctx: ReadContext, code: str, after: str | None
) -> StreamingResponse:
    stream_session = get_runtime(request).sessions()
    action = "snapshot_full" if after is None else "snapshot_delta"
    try:
        snap = await run_read(
            request, ctx, action, code, snapshots.snapshot, stream_session, code, after=after
        )
    except BaseException:
        stream_session.close()
        raise
    name = f"{code}-{snap.kind}.parquet"
    return StreamingResponse(
        _closing(snap.chunks, stream_session),
        media_type=PARQUET,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Snapshot-Cursor": snap.cursor,
            "X-Snapshot-Rows": str(snap.rows),
        },
    )


@router.get(
    "/resources/{code}/snapshots/full",
    response_class=StreamingResponse,
    summary="Every current record as one Parquet file; X-Snapshot-Cursor says as of when",
)
async def full_snapshot(
    code: str,
    request: Request,
    ctx: Annotated[ReadContext, Depends(reading("snapshot_full", "bulk"))],
) -> StreamingResponse:
    return await _snapshot(request, ctx, code, None)


@router.get(
    "/resources/{code}/snapshots/delta",
    response_class=StreamingResponse,
    summary="Every change after a cursor as one Parquet file (_seq, _action, _version, fields)",
)
async def delta_snapshot(
    code: str,
    request: Request,
    ctx: Annotated[ReadContext, Depends(reading("snapshot_delta", "bulk"))],
    after: Annotated[str, Query(max_length=4096)],
) -> StreamingResponse:
    return await _snapshot(request, ctx, code, after)


@router.post(
    "/subscriptions",
    response_model=SubscriptionRead,
    status_code=201,
    summary="Deliver a granted resource's new batches to my connector inbox",
)
def subscribe(
    body: SubscriptionCreate, who: DepartmentActive, session: DbSession, rt: RuntimeDep
) -> SubscriptionRead:
    return bulk.subscribe(session, rt, who, body.resource)


@router.get("/subscriptions", response_model=list[SubscriptionRead], summary="My subscriptions")
def list_subscriptions(who: DepartmentActive, session: DbSession) -> list[SubscriptionRead]:
    return bulk.listed(session, who)


@router.delete(
    "/subscriptions/{subscription_id}", response_model=SubscriptionRead, summary="Stop one"
)
def unsubscribe(
    subscription_id: uuid.UUID, who: DepartmentActive, session: DbSession
) -> SubscriptionRead:
    return bulk.unsubscribe(session, who, subscription_id)
