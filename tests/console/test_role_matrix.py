"""Every console page x every role (三员分立: admin, auditor and operator kept apart), like the
API's role matrix: the allowed roles get the page (or a 404 for an id that does not exist),
every other role a 403, and a visitor without a session the sign-in page. A new console route
missing from the matrix fails the test."""

from __future__ import annotations

import uuid

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exchange.core.settings import Settings
from exchange.platforms.sharing.access.principal import Role
from tests.builders import seed_city
from tests.platforms.sharing.builders import console_login, csrf_of, make_user

D, A, U, OP = Role.department, Role.admin, Role.auditor, Role.operator
ALL = {D, A, U, OP}
ID = uuid.uuid4()
GET = {
    "/console/": ALL,
    "/console/catalog": ALL,
    "/console/lookup": {D},
    "/console/applications": {D},
    "/console/applications/{application_id}": {D},
    "/console/grants": {D},
    "/console/clients": {D},
    "/console/quarantine": {D, OP, U, A},
    "/console/batches/{batch_id}": {D, OP, U, A},
    "/console/batches/{batch_id}/refused.csv": {D},  # the rows hold the provider's data
    "/console/connectors": {OP},
    "/console/operations": {OP},
    "/console/ops": {OP},
    "/console/audit": {U},
    "/console/admin": {A},
    "/console/disputes": {D, U, OP},
}
POST = {
    "/console/lookup": {D},
    "/console/applications/{application_id}/acknowledge": {D},
    "/console/applications/{application_id}/approve": {D},
    "/console/applications/{application_id}/reject": {D},
    "/console/grants/{grant_id}/renew": {D},
    "/console/grants/{grant_id}/revoke": {D},
    "/console/clients/{client_id}/approve": {D},
    "/console/connectors/{connector_id}/{action}": {OP},
    "/console/disputes": {D},
    "/console/disputes/{dispute_id}/reject": {D},
    "/console/ops/alerts/{alert_id}/ack": {OP},
    "/console/ops/alerts/{alert_id}/assign": {OP},
    "/console/admin/users/{username}/disable": {A},
    "/console/admin/users/{username}/reset-password": {A},
}
UNGUARDED = {("GET", "/console/login"), ("POST", "/console/login"), ("POST", "/console/logout")}


def _url(path: str) -> str:
    return path.format(
        application_id=ID,
        batch_id=ID,
        grant_id=ID,
        client_id=ID,
        connector_id=ID,
        dispute_id=ID,
        alert_id=1,
        action="approve",
        username="nobody",
    )


@pytest.fixture
def browsers(client: TestClient, db: Session, settings: Settings) -> dict[Role, TestClient]:
    seed_city(db, settings)
    return {r: console_login(client, make_user(db, settings, r, "TJ")) for r in Role}


def test_the_matrix_names_every_console_route(client: TestClient) -> None:
    routes = {
        (m, r.path)
        for r in client.app.routes  # type: ignore[attr-defined]
        if isinstance(r, APIRoute) and r.path.startswith("/console")
        for m in r.methods
        if m in ("GET", "POST")
    }
    named = {("GET", p) for p in GET} | {("POST", p) for p in POST} | UNGUARDED
    assert routes == named


@pytest.mark.parametrize("path", sorted(GET))
def test_each_page_opens_for_its_roles_only(
    path: str, browsers: dict[Role, TestClient], client: TestClient
) -> None:
    for role, browser in browsers.items():
        r = browser.get(_url(path))
        if role in GET[path]:
            assert r.status_code in (200, 404), (role, path, r.status_code)
            assert r.status_code == 200 or "{" in path, (role, path)
        else:
            assert r.status_code == 403 and "RoleForbidden" in r.text, (role, path)
    anonymous = TestClient(client.app, follow_redirects=False).get(_url(path))
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/console/login"


@pytest.mark.parametrize("path", sorted(POST))
def test_each_form_is_refused_to_other_roles_and_without_a_session(
    path: str, browsers: dict[Role, TestClient], client: TestClient
) -> None:
    for role, browser in browsers.items():
        token = csrf_of(browser.get("/console/"))
        r = browser.post(_url(path), data={"csrf": token, "key": "x", "reason": "x"})
        if role in POST[path]:
            assert r.status_code != 403 or "RoleForbidden" not in r.text, (role, path)
            assert r.status_code < 500, (role, path, r.text)
        else:
            assert r.status_code == 403 and "RoleForbidden" in r.text, (role, path)
    anonymous = TestClient(client.app, follow_redirects=False).post(_url(path), data={"x": "1"})
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/console/login"


def test_console_pages_carry_the_security_headers(browsers: dict[Role, TestClient]) -> None:
    r = browsers[D].get("/console/applications")
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"
