"""The console's catalogue list and a department's approval of the clients made for it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exchange.core.settings import Settings
from exchange.platforms.sharing.access.principal import Role
from tests.platforms.sharing.builders import (
    CONSUMER,
    Caller,
    console_login,
    csrf_of,
    make_user,
)


def test_every_role_lists_the_current_catalogue_and_searches_it(
    city: TestClient, db: Session, settings: Settings
) -> None:
    for role in Role:
        browser = console_login(city, make_user(db, settings, role))
        page = browser.get("/console/catalog")
        assert page.status_code == 200 and "population" in page.text, role
    found = browser.get("/console/catalog", params={"q": "法人"}).text
    assert "legal_person" in found and "population" not in found


def test_a_department_approves_the_client_the_bureau_made_for_it(
    city: TestClient, admin: Caller, db: Session, settings: Settings
) -> None:
    r = admin.post(
        "/sharing/v1/clients",
        json={"name": "低保核验系统", "role": "department", "department": CONSUMER},
    )
    assert r.status_code == 201, r.text
    client_id, secret = r.json()["client_id"], r.json()["client_secret"]
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    assert city.post("/sharing/v1/token", data=form).status_code != 200, "pending: no token"
    staff = console_login(city, make_user(db, settings, Role.department, CONSUMER))
    page = staff.get("/console/clients")
    url = f"/console/clients/{client_id}/approve"
    assert "低保核验系统" in page.text and url in page.text
    assert staff.post(url).status_code == 403, "no CSRF token, no approval"
    r = staff.post(url, data={"csrf": csrf_of(page)})
    assert r.status_code == 303
    assert url not in staff.get("/console/clients").text
    assert city.post("/sharing/v1/token", data=form).status_code == 200
    bureau = console_login(city, make_user(db, settings, Role.admin)).get("/console/admin").text
    assert "低保核验系统" in bureau and "user:" in bureau, "the admin sees who approved it"
    other = console_login(city, make_user(db, settings, Role.department, "GA"))
    assert "低保核验系统" not in other.get("/console/clients").text
