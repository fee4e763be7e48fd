"""Provider staff: sign in (see `staff.py`, the swap point) and answer visitors' reports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from exchange.core.deps import DbSession, RuntimeDep
from exchange.platforms.open_data import web
from exchange.platforms.open_data.feedback import service as feedback
from exchange.platforms.open_data.feedback.staff import COOKIE, StaffDep, principal_from_token

router = APIRouter(route_class=web.PortalRoute, include_in_schema=False)


@router.get("/staff/login", response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    return web.render(request, "staff_login.html", {})


@router.post("/staff/login")
def login(
    request: Request,
    rt: RuntimeDep,
    token: Annotated[str, Form(max_length=2000)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> RedirectResponse:
    web.check_csrf(request, rt.settings.secret_key.get_secret_value(), csrf_token)
    principal_from_token(rt.settings, token.strip())  # refuse a bad token here, not later
    response = RedirectResponse("/staff/feedback", status_code=303)
    response.set_cookie(COOKIE, token.strip(), httponly=True, samesite="strict", max_age=43200)
    return response


@router.post("/staff/logout")
def logout() -> RedirectResponse:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE)
    return response


@router.get("/staff/feedback", response_class=HTMLResponse)
def inbox(
    request: Request, session: DbSession, staff: StaffDep, status: str | None = None
) -> HTMLResponse:
    items = feedback.for_staff(session, staff, status=status)
    return web.render(
        request, "staff.html", {"staff": staff, "items": items, "status": status or ""}
    )


@router.post("/staff/feedback/{feedback_id}/answer")
def answer(
    request: Request,
    feedback_id: str,
    session: DbSession,
    rt: RuntimeDep,
    staff: StaffDep,
    answer: Annotated[str, Form(max_length=8000)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> RedirectResponse:
    web.check_csrf(request, rt.settings.secret_key.get_secret_value(), csrf_token)
    feedback.answer(session, staff, feedback_id, answer)
    return RedirectResponse("/staff/feedback", status_code=303)
