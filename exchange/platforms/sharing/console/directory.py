"""The console's catalogue list (the current catalogue, every role) and a department's API
clients (the bureau mints a department's client; the department approves it here, as with
`POST /sharing/v1/clients/{id}/approve`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from exchange.core.deps import DbSession
from exchange.core.errors import HubError
from exchange.platforms.sharing.access import service as credentials
from exchange.platforms.sharing.applications.views import client_read
from exchange.platforms.sharing.catalog import service as catalog
from exchange.platforms.sharing.console.inbox import CSRF_FAILED, done_at, refused
from exchange.platforms.sharing.console.router import (
    AnyUser,
    DepartmentUser,
    FormStr,
    SignedInFirstRoute,
)

router = APIRouter(prefix="/console", include_in_schema=False, route_class=SignedInFirstRoute)


@router.get("/catalog")
def catalogue(
    page: AnyUser,
    session: DbSession,
    q: Annotated[str, Query(max_length=100)] = "",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    found = catalog.search(session, q=q.strip() or None, limit=100, offset=offset)
    return page.render("catalog.html", page_of=found, q=q, offset=offset)


@router.get("/clients")
def clients(page: DepartmentUser, session: DbSession, done: str = "") -> Response:
    mine = [
        client_read(c)
        for c in credentials.listed(session)
        if c.department_id == page.who.department_id
    ]
    return page.render("clients.html", clients=mine, done=done)


@router.post("/clients/{client_id}/approve")
def approve_client(
    client_id: uuid.UUID, page: DepartmentUser, session: DbSession, csrf: FormStr = ""
) -> Response:
    if not page.csrf_ok(csrf):
        return page.error(403, *CSRF_FAILED)
    try:
        c = credentials.approve_client(session, page.who, client_id)
    except HubError as exc:
        return refused(page, session, exc)
    return done_at("/console/clients", f"已批准 Approved: {c.name}")
