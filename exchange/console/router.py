"""`/console/quarantine`, `/console/batches/{id}` (lineage, gate, deliveries, problems, refused
rows) and `/console/connectors` (approve, suspend): the exchange platform's services, shown in
the staff console (its session, CSRF token and roles)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from exchange.core.deps import DbSession, RuntimeDep
from exchange.core.errors import HubError
from exchange.platforms.exchange.batches import problems as batches
from exchange.platforms.exchange.batches import service as batch_views
from exchange.platforms.exchange.connectors import repository as connectors_repo
from exchange.platforms.exchange.connectors import service as connector_service
from exchange.platforms.exchange.lineage.service import verify
from exchange.platforms.sharing.access.principal import Role
from exchange.platforms.sharing.console import router as console
from exchange.platforms.sharing.console.router import DepartmentUser, OperatorUser, Page, signed_in

router = APIRouter(
    prefix="/console", include_in_schema=False, route_class=console.SignedInFirstRoute
)
templates = Jinja2Templates(
    directory=[Path(__file__).parent / "templates", Path(console.__file__).parent / "templates"]
)
# Batches are the provider's and the bureau's to see; auditors read lineage as evidence.
BatchViewer = Annotated[Page, signed_in(Role.department, Role.operator, Role.auditor, Role.admin)]
FormStr = Annotated[str, Form(max_length=500)]


def render(page: Page, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    ctx |= {
        "user": page.user,
        "csrf": page.state.csrf if page.state else "",
        "node_name": page.env.node_name,
    }
    return templates.TemplateResponse(page.request, name, ctx, status_code=status)


def _viewer(page: Page) -> batches.Viewer:
    if page.who.role is Role.department:
        return batches.Viewer(page.who.department_id, may_read_rows=True)
    return batches.Viewer(None, may_read_rows=False)


def _refused(page: Page, session: Session, exc: HubError) -> Response:
    session.rollback()
    return page.error(exc.status_code, exc.code, exc.detail)


@router.get("/quarantine")
def quarantine(page: BatchViewer, session: DbSession, only: str = "") -> Response:
    status = "quarantined" if only == "quarantined" else None
    found = batches.latest(session, _viewer(page), status=status, limit=200)
    return render(page, "batches.html", batches=found, only=status)


@router.get("/batches/{batch_id}")
def batch_page(
    batch_id: uuid.UUID, page: BatchViewer, session: DbSession, rt: RuntimeDep
) -> Response:
    viewer = _viewer(page)
    try:
        batches.visible(session, viewer, batch_id)
        view = batch_views.batch_view(session, rt, batch_id)
        problems = (
            batches.problems(session, rt, viewer, batch_id)
            if view.status == "quarantined"
            else None
        )
    except HubError as exc:
        return _refused(page, session, exc)
    checked = [
        r.public_key is not None and verify(r.model_dump(), str(batch_id), r.public_key)
        for r in view.lineage
    ]
    return render(
        page,
        "batch.html",
        batch=view,
        steps=list(zip(view.lineage, checked, strict=True)),
        problems=problems,
        may_download=viewer.may_read_rows,
    )


@router.get("/batches/{batch_id}/refused.csv")
def refused_rows(
    batch_id: uuid.UUID, page: DepartmentUser, session: DbSession, rt: RuntimeDep
) -> Response:
    try:
        text = batches.refused_rows_csv(session, rt, _viewer(page), batch_id)
    except HubError as exc:
        return _refused(page, session, exc)
    # A BOM so that spreadsheet programs read the Chinese text as UTF-8.
    return Response(
        "\ufeff" + text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="refused-{batch_id}.csv"'},
    )


@router.get("/connectors")
def connectors(page: OperatorUser, session: DbSession, done: str = "") -> Response:
    found = [
        connector_service.connector_view(c, c.department.code)
        for c in connectors_repo.list_connectors(session)
    ]
    return render(page, "connectors.html", connectors=found, done=done)


@router.post("/connectors/{connector_id}/{action}")
def connector_action(
    connector_id: uuid.UUID,
    action: str,
    page: OperatorUser,
    session: DbSession,
    csrf: FormStr = "",
) -> Response:
    states = {"approve": "active", "suspend": "suspended"}
    if action not in states:
        return page.error(404, "NotFound", f"no action {action[:20]!r}: approve or suspend")
    if not page.csrf_ok(csrf):
        return page.error(403, "CsrfFailed", "the form's CSRF token is missing or wrong")
    try:
        c = connector_service.set_connector_state(session, connector_id, states[action])
    except HubError as exc:
        return _refused(page, session, exc)
    message = f"{c.name}: {states[action]}"
    return RedirectResponse(f"/console/connectors?done={quote(message)}", status_code=303)
