"""The staff console (server-rendered): sign in, look up a record by key, and the pages of the
auditor, the operator and the admin. Same roles, masking, quotas and audit as the API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from exchange.core import ratelimit
from exchange.core.context import request_id_var
from exchange.core.db import utcnow
from exchange.core.deps import DbSession
from exchange.core.errors import HubError
from exchange.core.masking import mask
from exchange.core.resource_schema import Sensitivity
from exchange.directory.keys import own_history
from exchange.platforms.sharing.access import service as credentials
from exchange.platforms.sharing.access.principal import Principal, Role
from exchange.platforms.sharing.applications import service as applications
from exchange.platforms.sharing.applications.views import application_read, client_read
from exchange.platforms.sharing.audit import chain as audit_chain
from exchange.platforms.sharing.audit.log import ReadContext
from exchange.platforms.sharing.console import lookup as page_query
from exchange.platforms.sharing.console import session as cookies
from exchange.platforms.sharing.deps import EnvDep
from exchange.platforms.sharing.env import SharingEnv
from exchange.platforms.sharing.records.query import typed_call_headers


class SignedInFirstRoute(APIRoute):
    """A form is read only once its session cookie opens (FastAPI parses a body before any
    dependency runs); `signed_in` then reloads the user as before. Login is the exception."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None or self.path.endswith("/login"):
            return _as_page(handler)

        async def signed(request: Request) -> Response:
            if not cookies.looks_like_session(request.cookies.get(cookies.SESSION_COOKIE)):
                return RedirectResponse("/console/login", status_code=303)
            return await handler(request)

        return _as_page(signed)


def _as_page(
    handler: Callable[[Request], Coroutine[Any, Any, Response]],
) -> Callable[[Request], Coroutine[Any, Any, Response]]:
    """A form or query the console cannot read is answered with a page naming the field, as
    a person in a browser expects (the API answers the same mistake with its JSON body)."""

    async def page(request: Request) -> Response:
        try:
            return await handler(request)
        except RequestValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query"))
            ctx = {
                "user": None,
                "csrf": "",
                "node_name": "",
                "status": 422,
                "error": "InvalidRequest",
                "detail": f"{where}: {first.get('msg', 'invalid')}",
            }
            return templates.TemplateResponse(request, "error.html", ctx, status_code=422)

    return page


router = APIRouter(prefix="/console", include_in_schema=False, route_class=SignedInFirstRoute)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
FormStr = Annotated[str, Form(max_length=500)]


class ConsoleRefusal(Exception):
    """Raised by a page's dependency (before its form is read): sends this response instead."""

    def __init__(self, response: Response) -> None:
        super().__init__("console access refused")
        self.response = response


def refusal_handler(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConsoleRefusal)
    return exc.response


class Page:
    """The signed-in user of a request, and how to render for them."""

    def __init__(
        self,
        request: Request,
        env: SharingEnv,
        state: cookies.ConsoleSession | None,
        user: Principal | None,
    ) -> None:
        self.request, self.env, self.state, self.user = request, env, state, user

    def render(self, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        ctx |= {
            "user": self.user,
            "csrf": self.state.csrf if self.state else "",
            "node_name": self.env.node_name,
        }
        return templates.TemplateResponse(self.request, name, ctx, status_code=status)

    def error(self, status: int, error: str, detail: str) -> HTMLResponse:
        return self.render("error.html", status, error=error, detail=detail)

    def csrf_ok(self, token: str | None) -> bool:
        return self.state is not None and cookies.csrf_ok(self.state, token)

    @property
    def who(self) -> Principal:
        assert self.user is not None
        return self.user


def signed_in(*roles: Role) -> Any:
    """A dependency: the page of a signed-in user of one of `roles` (any role if none)."""

    def dependency(request: Request, session: DbSession, env: EnvDep) -> Page:
        state = cookies.read_session(
            session,
            request.cookies.get(cookies.SESSION_COOKIE),
            idle=dt.timedelta(minutes=env.settings.console_idle_minutes),
            hours=env.settings.console_session_hours,
        )
        user = credentials.active_user(session, env.node_code, state.user_id) if state else None
        page = Page(request, env, state, user)
        if page.user is None:
            raise ConsoleRefusal(RedirectResponse("/console/login", status_code=303))
        if roles and page.user.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise ConsoleRefusal(page.error(403, "RoleForbidden", f"for roles: {allowed}"))
        return page

    return Depends(dependency)


AnyUser = Annotated[Page, signed_in()]
DepartmentUser = Annotated[Page, signed_in(Role.department)]
AuditorUser = Annotated[Page, signed_in(Role.auditor)]
OperatorUser = Annotated[Page, signed_in(Role.operator)]
AdminUser = Annotated[Page, signed_in(Role.admin)]
LOGIN_FREE_FAILURES = 5  # then each wrong password doubles the wait: 1 s, 2 s, 4 s, ...
LOGIN_BACKOFF_WINDOW_S = 900


@router.get("/login")
def login_form(request: Request, env: EnvDep) -> HTMLResponse:
    token = cookies.new_login_token(env.cookie_key)
    ctx = {"login_csrf": token, "username": "", "user": None, "node_name": env.node_name}
    response = templates.TemplateResponse(request, "login.html", ctx)
    _set_cookie(response, env, cookies.LOGIN_COOKIE, token, cookies.LOGIN_TTL_S)
    return response


@router.post("/login")
def login(
    request: Request,
    session: DbSession,
    env: EnvDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    def again(status: int, error: str) -> HTMLResponse:
        token = cookies.new_login_token(env.cookie_key)
        ctx = {"login_csrf": token, "username": username, "error": error, "user": None}
        response = templates.TemplateResponse(
            request, "login.html", ctx | {"node_name": env.node_name}, status_code=status
        )
        _set_cookie(response, env, cookies.LOGIN_COOKIE, token, cookies.LOGIN_TTL_S)
        return response

    if not cookies.login_token_ok(env.cookie_key, request.cookies.get(cookies.LOGIN_COOKIE), csrf):
        return again(403, "表单已过期，请重试 The form expired or was not ours; try again.")
    address = request.client.host if request.client else "unknown"
    failures = f"console-login-failed:{username.strip().lower()}:{address}"
    wait = ratelimit.backoff_wait(
        session, failures, free=LOGIN_FREE_FAILURES, window_s=LOGIN_BACKOFF_WINDOW_S
    )
    if wait:
        refused = again(429, f"尝试过多，请 {wait} 秒后再试 Too many attempts; wait {wait} s.")
        refused.headers["Retry-After"] = str(wait)
        return refused
    who = credentials.authenticate_user(session, env.node_code, username, password)
    if who is None:
        ratelimit.note_failure(session, failures, window_s=LOGIN_BACKOFF_WINDOW_S)
        return again(401, "用户名或密码错误 Wrong username or password.")
    idle = dt.timedelta(minutes=env.settings.console_idle_minutes)
    value, _ = cookies.new_session(session, who.id, env.settings.console_session_hours, idle)
    response = RedirectResponse("/console/", status_code=303)
    hours = env.settings.console_session_hours
    _set_cookie(response, env, cookies.SESSION_COOKIE, value, hours * 3600)
    response.delete_cookie(cookies.LOGIN_COOKIE, path="/console")
    return response


@router.post("/logout")
def logout(
    page: AnyUser, session: DbSession, csrf: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    if not page.csrf_ok(csrf):
        return page.error(403, "CsrfFailed", "the form's CSRF token is missing or wrong")
    cookies.end_session(session, page.request.cookies.get(cookies.SESSION_COOKIE))
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(cookies.SESSION_COOKIE, path=_cookie_path(cookies.SESSION_COOKIE))
    return response


@router.get("/")
def home(page: AnyUser, session: DbSession, env: EnvDep) -> Response:
    found = []
    if page.who.role is Role.department:
        found = page_query.registries(session, env, ReadContext(page.who, "page"))
    return page.render("home.html", registries=found)


@router.get("/lookup")
def lookup_form(page: DepartmentUser) -> Response:
    return page.render("lookup.html", key="", purpose="", case_number="", searched=False)


@router.post("/lookup")
def lookup(
    page: DepartmentUser,
    request: Request,
    session: DbSession,
    env: EnvDep,
    key: Annotated[str, Form(max_length=64)],
    purpose: FormStr = "",
    case_number: Annotated[str, Form(max_length=64)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    form: dict[str, Any] = {"key": "", "purpose": purpose, "case_number": case_number}
    if not page.csrf_ok(csrf):
        return page.error(403, "CsrfFailed", "the form's CSRF token is missing or wrong")
    try:
        headers = typed_call_headers(purpose, case_number)
        ctx = ReadContext(
            page.who, "page", headers.purpose, headers.case_number, request_id_var.get()
        )
        hits = page_query.lookup(session, env, ctx, key)
    except HubError as exc:
        page_query.refused(session, env, page.who, exc)
        return page.render("lookup.html", exc.status_code, searched=False, error=exc.detail, **form)
    # The typed key is not echoed back in clear: it is shown masked, like the field it matched.
    shown = mask(key, Sensitivity.personal_id)
    return page.render("lookup.html", **form, searched=True, hits=hits, shown_key=shown)


@router.get("/audit")
def audit_page(page: AuditorUser, session: DbSession, env: EnvDep) -> Response:
    node_keys = own_history(session, env.node_code, env.keys.current())
    report = audit_chain.verify(session, node_keys, env.audit)
    last = audit_chain.latest(session, 200)
    return page.render("audit.html", report=report, entries=last)


@router.get("/operations")
def operations_page(page: OperatorUser, session: DbSession) -> Response:
    rows = applications.listed(
        session, page.who, side=None, status=None, overdue_only=True, limit=200, offset=0
    )
    now = utcnow()
    overdue = [application_read(a, g, now) for a, g in rows]
    return page.render("operations.html", overdue=overdue, last_seal=audit_chain.last_seal(session))


@router.get("/admin")
def admin_page(page: AdminUser, session: DbSession, done: str = "", password: str = "") -> Response:
    users = [
        {
            "id": str(u.id),
            "username": u.username,
            "role": u.role,
            "department": u.department.code if u.department else "",
            "active": u.active,
        }
        for u in credentials.users(session)
    ]
    clients = [client_read(c) for c in credentials.listed(session)]
    return page.render("admin.html", users=users, clients=clients, done=done, new_password=password)


@router.post("/admin/users/{username}/disable")
def admin_disable_user(
    username: str, page: AdminUser, session: DbSession, csrf: FormStr = ""
) -> Response:
    if not page.csrf_ok(csrf):
        return page.error(403, "CsrfFailed", "the form's CSRF token is missing or wrong")
    credentials.disable_user(session, username)
    return admin_page(page, session, done=f"已停用 {username} disabled; its sessions are ended")


@router.post("/admin/users/{username}/reset-password")
def admin_reset_password(
    username: str, page: AdminUser, session: DbSession, csrf: FormStr = ""
) -> Response:
    if not page.csrf_ok(csrf):
        return page.error(403, "CsrfFailed", "the form's CSRF token is missing or wrong")
    password = credentials.reset_password(session, username)
    return admin_page(page, session, done=f"{username}: 新密码 new password", password=password)


def _set_cookie(response: Response, env: SharingEnv, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=_cookie_path(name),
        httponly=True,
        samesite="strict",
        secure=env.secure_cookies,
    )


def _cookie_path(name: str) -> str:
    # The session also admits its user to the sharing catalogue (/sharing/v1/catalog, GET only).
    return "/" if name == cookies.SESSION_COOKIE else "/console"
