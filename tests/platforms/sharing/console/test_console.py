"""The staff console: sign-in, CSRF, page query by key with masking and audit, role pages."""

from __future__ import annotations

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from exchange.core.settings import Settings
from exchange.platforms.sharing.access.principal import Role
from exchange.platforms.sharing.models import ConsoleUser
from tests.platforms.sharing.builders import (
    PASSWORD,
    Caller,
    console_login,
    csrf_of,
    grant,
    load_people,
    make_user,
)


@pytest.fixture
def people(city: TestClient) -> pa.Table:
    return load_people(city, 10)


@pytest.fixture
def staff(city: TestClient, db: Session, settings: Settings) -> TestClient:
    return console_login(city, make_user(db, settings, Role.department, "MZ", "mz_clerk"))


def _lookup(browser: TestClient, key: str, **form: str):  # type: ignore[no-untyped-def]
    page = browser.get("/console/lookup")
    data = {"key": key, "purpose": "核验低保申请人身份", "case_number": "MZ-2024-007"}
    return browser.post("/console/lookup", data=data | {"csrf": csrf_of(page)} | form)


@pytest.mark.both_backends
def test_sign_in_sets_a_hardened_session_cookie(
    city: TestClient, db: Session, settings: Settings
) -> None:
    make_user(db, settings, Role.auditor, username="auditor1")
    browser = TestClient(city.app, follow_redirects=False)
    form = browser.get("/console/login")
    wrong = browser.post(
        "/console/login", data={"username": "auditor1", "password": "nope", "csrf": csrf_of(form)}
    )
    assert wrong.status_code == 401 and "hub_console=" not in wrong.headers.get("set-cookie", "")
    r = browser.post(
        "/console/login",
        data={"username": "auditor1", "password": PASSWORD, "csrf": csrf_of(wrong)},
    )
    assert r.status_code == 303 and r.headers["location"] == "/console/"
    cookie = r.headers["set-cookie"]
    assert "hub_console=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert browser.get("/console/").status_code == 200


def test_sign_in_without_the_forms_token_is_refused(
    city: TestClient, db: Session, settings: Settings
) -> None:
    make_user(db, settings, Role.admin, username="admin1")
    browser = TestClient(city.app, follow_redirects=False)
    r = browser.post("/console/login", data={"username": "admin1", "password": PASSWORD})
    assert r.status_code == 403 and "hub_console=" not in r.headers.get("set-cookie", "")


@pytest.mark.both_backends
def test_staff_look_up_a_person_across_granted_registries_masked_and_audited(
    staff: TestClient, consumer: Caller, provider: Caller, auditor: Caller, people: pa.Table
) -> None:
    grant(consumer, provider)
    row = people.slice(0, 1).to_pylist()[0]
    r = _lookup(staff, row["id_number"])
    assert r.status_code == 200
    masked = row["id_number"][:6] + "********" + row["id_number"][-4:]
    assert masked in r.text and row["household_division"] in r.text
    assert row["name"] not in r.text and (row["phone"] or "absent") not in r.text
    entry = auditor.get("/sharing/v1/audit").json()["items"][-1]
    assert (entry["channel"], entry["action"], entry["actor"]) == (
        "page",
        "lookup",
        "user:mz_clerk",
    )
    assert (entry["keys"], entry["case_number"]) == ([row["id_number"]], "MZ-2024-007")


def test_a_lookup_without_a_grant_finds_nothing_to_search(
    staff: TestClient, people: pa.Table
) -> None:
    r = _lookup(staff, people["id_number"][0].as_py())
    assert r.status_code == 200 and "No granted registry" in r.text


def test_a_lookup_needs_the_sessions_csrf_token(
    staff: TestClient, city: TestClient, db: Session, settings: Settings
) -> None:
    r = staff.post(
        "/console/lookup",
        data={"key": "330106199001011234", "purpose": "核验", "case_number": "A-1"},
    )
    assert r.status_code == 403 and "CsrfFailed" in r.text
    other = console_login(city, make_user(db, settings, Role.department, "MZ"))
    r = _lookup(staff, "330106199001011234", csrf=csrf_of(other.get("/console/lookup")))
    assert r.status_code == 403, "another session's token does not work"


@pytest.mark.parametrize(
    ("typed", "shown"), [("{{7*7}}", 'value="{{7*7}}"'), ("<script>x</script>", "&lt;script&gt;x")]
)
def test_what_a_user_types_is_shown_as_text_never_run(
    staff: TestClient, consumer: Caller, provider: Caller, people: pa.Table, typed: str, shown: str
) -> None:
    grant(consumer, provider)
    r = _lookup(staff, typed, purpose=typed)
    assert r.status_code == 200
    assert shown in r.text, "echoed as text"
    assert "<script>x" not in r.text and 'value="49"' not in r.text


def test_a_conditional_lookup_needs_a_case_number(
    staff: TestClient, consumer: Caller, provider: Caller, people: pa.Table
) -> None:
    grant(consumer, provider)
    r = _lookup(staff, people["id_number"][0].as_py(), case_number="")
    assert r.status_code == 400 and "X-Case-Number" in r.text


def test_a_disabled_user_is_signed_out_at_once(
    city: TestClient, db: Session, settings: Settings
) -> None:
    name = make_user(db, settings, Role.operator)
    browser = console_login(city, name)
    assert browser.get("/console/operations").status_code == 200
    db.execute(update(ConsoleUser).where(ConsoleUser.username == name).values(active=False))
    db.commit()
    r = browser.get("/console/operations")
    assert r.status_code == 303 and r.headers["location"] == "/console/login"


def test_sign_out_ends_the_session(staff: TestClient) -> None:
    r = staff.post("/console/logout", data={"csrf": csrf_of(staff.get("/console/"))})
    assert r.status_code == 303 and 'hub_console=""' in r.headers["set-cookie"]


def test_role_pages_show_what_the_role_is_for(
    city: TestClient, db: Session, settings: Settings, staff: TestClient, people: pa.Table
) -> None:
    _lookup(staff, people["id_number"][0].as_py())
    auditor = console_login(city, make_user(db, settings, Role.auditor))
    page = auditor.get("/console/audit")
    assert page.status_code == 200 and "intact" in page.text and "user:mz_clerk" in page.text
    admin = console_login(city, make_user(db, settings, Role.admin))
    page = admin.get("/console/admin")
    assert page.status_code == 200 and "mz_clerk" in page.text and PASSWORD not in page.text
    operator = console_login(city, make_user(db, settings, Role.operator))
    assert "Overdue applications" in operator.get("/console/operations").text
