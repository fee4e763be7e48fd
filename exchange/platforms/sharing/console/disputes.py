"""`/console/disputes` (异议/纠错): raise a dispute about a record read through a grant, answer
(reject with reasons) the ones about our data, the history and the counts per department.
The same service as `POST /sharing/v1/disputes`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import Response
from pydantic import ValidationError

from exchange.core.deps import DbSession
from exchange.core.errors import BadRequest, HubError
from exchange.platforms.sharing.access.principal import Role
from exchange.platforms.sharing.console.inbox import CSRF_FAILED, done_at, refused
from exchange.platforms.sharing.console.router import (
    DepartmentUser,
    FormStr,
    Page,
    SignedInFirstRoute,
    signed_in,
)
from exchange.platforms.sharing.deps import EnvDep
from exchange.platforms.sharing.disputes import service as disputes
from exchange.platforms.sharing.disputes.schemas import DisputeCreate

router = APIRouter(prefix="/console", include_in_schema=False, route_class=SignedInFirstRoute)
# The auditor and the operator follow disputes and their deadlines; the admin manages accounts.
DisputeViewer = Annotated[Page, signed_in(Role.department, Role.auditor, Role.operator)]
Text = Annotated[str, Form(max_length=4000)]


@router.get("/disputes")
def disputes_page(
    page: DisputeViewer, session: DbSession, env: EnvDep, done: str = "", error: str = ""
) -> Response:
    found = [
        disputes.view(d)
        for d in disputes.listed(session, env.schemas, page.who, status=None, limit=500)
    ]
    counts = disputes.counts(session) if page.who.role is not Role.department else []
    return page.render(
        "disputes.html", disputes=found, counts=counts, done=done,
        mine=page.who.department_code, resources=sorted(env.schemas),
    )  # fmt: skip


@router.post("/disputes")
def raise_dispute(
    page: DepartmentUser,
    session: DbSession,
    env: EnvDep,
    resource: Annotated[str, Form(max_length=64)] = "",
    key: Annotated[str, Form(max_length=200)] = "",
    field: Annotated[str, Form(max_length=64)] = "",
    claim: Text = "",
    evidence: Text = "",
    csrf: FormStr = "",
) -> Response:
    if not page.csrf_ok(csrf):
        return page.error(403, *CSRF_FAILED)
    try:
        try:
            req = DisputeCreate(
                resource=resource, key=key, field=field.strip() or None, claim=claim,
                evidence=evidence,
            )  # fmt: skip
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise BadRequest(f"{where}: {first['msg']}") from None
        d = disputes.raise_dispute(session, env.schemas, page.who, req, "console")
    except HubError as exc:
        return refused(page, session, exc)
    return done_at("/console/disputes", f"已提交异议 Dispute raised, due {d.due_at:%Y-%m-%d}")


@router.post("/disputes/{dispute_id}/reject")
def reject_dispute(
    dispute_id: uuid.UUID,
    page: DepartmentUser,
    session: DbSession,
    env: EnvDep,
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf: FormStr = "",
) -> Response:
    if not page.csrf_ok(csrf):
        return page.error(403, *CSRF_FAILED)
    try:
        if len(reason.strip()) < 4:
            raise BadRequest("reason: a rejected dispute must give its reasons (at least 4)")
        disputes.reject(session, env.schemas, page.who, dispute_id, reason)
    except HubError as exc:
        return refused(page, session, exc)
    return done_at("/console/disputes", "已驳回异议 Dispute rejected")
