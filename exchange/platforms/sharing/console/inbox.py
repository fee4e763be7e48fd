"""The console's applications and grants: the provider's review inbox (acknowledge, approve with
fewer fields or a shorter period, reject with the mandatory reason), the department's own
applications, and the grants it gave (renew, revoke) and holds.

Each form calls the same service function as the API (`/sharing/v1/applications/...`); the
console adds only the HTML and the session's CSRF check. A refused action rolls the request's
transaction back before the page says why, so nothing of it is kept.
"""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from exchange.core.db import utcnow
from exchange.core.deps import DbSession
from exchange.core.errors import BadRequest, HubError
from exchange.platforms.sharing.applications import service as applications
from exchange.platforms.sharing.applications.deadlines import working_days_left
from exchange.platforms.sharing.applications.schemas import Approval
from exchange.platforms.sharing.applications.views import application_read, grant_read
from exchange.platforms.sharing.console.router import (
    DepartmentUser,
    FormStr,
    Page,
    SignedInFirstRoute,
)
from exchange.platforms.sharing.deps import EnvDep
from exchange.platforms.sharing.env import SharingEnv
from exchange.platforms.sharing.grants import service as grants

router = APIRouter(prefix="/console", include_in_schema=False, route_class=SignedInFirstRoute)
Checked = Annotated[list[str] | None, Form()]  # each name is checked against the application
CSRF_FAILED = ("CsrfFailed", "the form's CSRF token is missing or wrong")
OPEN = ("submitted", "in_review")


def _ctx(env: SharingEnv) -> applications.Context:
    return applications.Context(env.settings, env.schemas, env.store)


def refused(page: Page, session: Session, exc: HubError) -> Response:
    """The service said no: keep nothing of the request and show why (the API's status)."""
    session.rollback()
    return page.error(exc.status_code, exc.code, exc.detail)


def done_at(url: str, message: str) -> Response:
    # Post/redirect/get: a reload does not send the form twice.
    return RedirectResponse(f"{url}?done={quote(message)}", status_code=303)


def optional_int(name: str, value: str, low: int, high: int) -> int | None:
    """A number typed into a form, or None when left blank; a 400 naming the field otherwise."""
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or not low <= int(value) <= high:
        raise BadRequest(f"{name}: a whole number from {low} to {high}, not {value[:20]!r}")
    return int(value)


@router.get("/applications")
def inbox(page: DepartmentUser, session: DbSession, done: str = "") -> Response:
    now = utcnow()

    def side(name: str) -> list[dict[str, object]]:
        rows = applications.listed(
            session, page.who, side=name, status=None, overdue_only=False, limit=200, offset=0
        )
        out: list[dict[str, object]] = []
        for a, g in rows:
            read = application_read(a, g, now)
            left = working_days_left(now, read.answer_due) if a.status in OPEN else None
            out.append({"app": read, "days_left": left})
        return out

    to_review = [r for r in side("provider") if r["days_left"] is not None]
    return page.render("applications.html", to_review=to_review, mine=side("applicant"), done=done)


@router.get("/applications/{application_id}")
def application_page(
    application_id: uuid.UUID, page: DepartmentUser, session: DbSession, env: EnvDep, done: str = ""
) -> Response:
    try:
        applications.visible(session, page.who, application_id)
    except HubError as exc:
        return refused(page, session, exc)
    app, grant_id = applications.read_back(session, application_id)
    read = application_read(app, grant_id, utcnow())
    schema = env.schemas.get(app.resource_code)
    titles = {f.name: f"{f.title} {f.name}" for f in schema.fields} if schema else {}
    return page.render(
        "application.html",
        app=read,
        titles=titles,
        is_provider=app.provider_id == page.who.department_id,
        is_open=app.status in OPEN,
        days_left=working_days_left(utcnow(), read.answer_due) if app.status in OPEN else None,
        done=done,
    )


@router.post("/applications/{application_id}/acknowledge")
def acknowledge(
    application_id: uuid.UUID, page: DepartmentUser, session: DbSession, csrf: FormStr = ""
) -> Response:
    if not page.csrf_ok(csrf):
        return page.error(403, *CSRF_FAILED)
    try:
        applications.acknowledge(session, page.who, application_id)
    except HubError as exc:
        return refused(page, session, exc)
    return done_at(f"/console/applications/{application_id}", "已受理 Taken up for review")


@router.post("/applications/{application_id}/approve")
def approve(
    application_id: uuid.UUID,
    page: DepartmentUser,
    session: DbSession,
    env: EnvDep,
    fields: Checked = None,
    plain_fields: Checked = None,
    duration_days: Annotated[str, Form(max_length=20)] = "",
    rate_per_minute: Annotated[str, Form(max_length=20)] = "",
    rows_per_day: Annotated[str, Form(max_length=20)] = "",
    csrf: FormStr = "",
) -> Response:
    if not page.csrf_ok(csrf):
        return page.error(403, *CSRF_FAILED)
    try:
        if not fields:
            # An unticked form is not "all fields": the provider chooses what is shared.
            raise BadRequest("fields: tick at least one field to share")
        approval = Approval(
            fields=fields,
            plain_fields=plain_fields or [],
            duration_days=optional_int("duration_days", duration_days, 1, 3650),
            rate_per_minute=optional_int("rate_per_minute", rate_per_minute, 1, 1_000_000_000),
            rows_per_day=optional_int("rows_per_day", rows_per_day, 1, 10**12),
        )
        applications.approve(session, _ctx(env), page.who, application_id, approval)
    except HubError as exc:
        return refused(page, session, exc)
    return done_at(f"/console/applications/{application_id}", "已批准 Approved: grant issued")


@router.post("/applications/{application_id}/reject")
def reject(
    application_id: uuid.UUID,
    page: DepartmentUser,
    session: DbSession,
    reason: Annotated[str, Form(max_length=2000)] = "",
    csrf: FormStr = "",
) -> Response:
    if not page.csrf_ok(csrf):
        return page.error(403, *CSRF_FAILED)
    try:
        if len(reason.strip()) < 4:
            raise BadRequest("reason: a refusal must give its reasons (at least 4 characters)")
        applications.reject(session, page.who, application_id, reason)
    except HubError as exc:
        return refused(page, session, exc)
    return done_at(f"/console/applications/{application_id}", "已驳回 Rejected")


@router.get("/grants")
def grants_page(page: DepartmentUser, session: DbSession, done: str = "") -> Response:
    now = utcnow()

    def side(name: str) -> list[object]:
        found = grants.listed(session, page.who, side=name, active_only=False, limit=500, offset=0)
        return [grant_read(g, now) for g in found]

    return page.render("grants.html", given=side("provider"), held=side("consumer"), done=done)


@router.post("/grants/{grant_id}/renew")
def renew(
    grant_id: uuid.UUID,
    page: DepartmentUser,
    session: DbSession,
    env: EnvDep,
    duration_days: Annotated[str, Form(max_length=20)] = "",
    csrf: FormStr = "",
) -> Response:
    if not page.csrf_ok(csrf):
        return page.error(403, *CSRF_FAILED)
    try:
        days = optional_int("duration_days", duration_days, 1, 3650)
        if days is None:
            raise BadRequest("duration_days: how many days to extend the grant by")
        g = grants.renew(session, env.settings, page.who, grant_id, days)
    except HubError as exc:
        return refused(page, session, exc)
    env.grants.evict(g.consumer_id, g.resource_code)
    return done_at("/console/grants", f"已续期 Renewed by {days} days")


@router.post("/grants/{grant_id}/revoke")
def revoke(
    grant_id: uuid.UUID,
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
            raise BadRequest("reason: say why the grant is revoked (at least 4 characters)")
        grants.revoke(session, env.grants, page.who, grant_id, reason)
    except HubError as exc:
        return refused(page, session, exc)
    return done_at("/console/grants", "已撤销 Revoked")
