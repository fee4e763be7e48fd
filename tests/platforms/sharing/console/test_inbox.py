"""The console's applications inbox and grants: the same rules as the API, through forms."""

from __future__ import annotations

import datetime as dt
import re

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exchange.core.settings import Settings
from exchange.platforms.sharing.access.principal import Role
from exchange.platforms.sharing.applications.deadlines import CST, working_days_left
from tests.platforms.sharing.builders import (
    PROVIDER,
    PURPOSE,
    Caller,
    apply,
    console_login,
    csrf_of,
    grant,
    load_people,
    make_user,
)


@pytest.fixture
def reviewer(city: TestClient, db: Session, settings: Settings) -> TestClient:
    return console_login(city, make_user(db, settings, Role.department, PROVIDER, "ga_clerk"))


@pytest.fixture
def people(city: TestClient) -> pa.Table:
    return load_people(city, 5)


def _form(browser: TestClient, url: str, page: str, **data: object) -> object:
    return browser.post(url, data={"csrf": csrf_of(browser.get(page))} | data)


def test_the_inbox_lists_applications_to_review_with_working_days_left(
    reviewer: TestClient, consumer: Caller
) -> None:
    app = apply(consumer).json()
    page = reviewer.get("/console/applications")
    assert page.status_code == 200
    assert f"/console/applications/{app['id']}" in page.text
    assert re.search(r"\d+ 个工作日 working days", page.text)
    assert "Nothing to review" not in page.text


def test_a_provider_approves_fewer_fields_and_the_next_api_call_sees_only_those(
    reviewer: TestClient, consumer: Caller, people: pa.Table
) -> None:
    app = apply(consumer, days=60).json()
    page = f"/console/applications/{app['id']}"
    assert "受理 Take up" in reviewer.get(page).text
    r = _form(reviewer, f"{page}/acknowledge", page)
    assert r.status_code == 303  # type: ignore[attr-defined]
    r = _form(
        reviewer,
        f"{page}/approve",
        page,
        fields=["id_number", "name", "status"],
        duration_days="10",
        rate_per_minute="20",
    )
    assert r.status_code == 303, r.text  # type: ignore[attr-defined]
    assert "Approved" in reviewer.get(r.headers["location"]).text  # type: ignore[attr-defined]
    consumer.extra = PURPOSE
    record = consumer.get(
        f"/sharing/v1/resources/population/records/{people['id_number'][0].as_py()}"
    )
    assert record.status_code == 200, record.text
    body = record.json()
    row = body.get("record", body)
    shown = {k for k in row if not k.startswith("_")}
    assert shown <= {"id_number", "name", "status"} and "phone" not in shown
    gid = consumer.get(f"/sharing/v1/applications/{app['id']}").json()["grant_id"]
    g = consumer.get(f"/sharing/v1/grants/{gid}").json()
    assert g["rate_per_minute"] == 20 and g["fields"] == ["id_number", "name", "status"]


@pytest.mark.parametrize(
    ("form", "problem"),
    [
        ({"fields": ["id_number", "address"]}, "address"),
        ({}, "tick at least one field"),
        ({"fields": ["id_number"], "duration_days": "31"}, "31"),
        ({"fields": ["id_number"], "duration_days": "ten"}, "duration_days"),
        ({"fields": ["id_number"], "rows_per_day": "-5"}, "rows_per_day"),
    ],
)
def test_a_bad_approval_form_is_refused_naming_the_field_and_grants_nothing(
    reviewer: TestClient, consumer: Caller, form: dict[str, object], problem: str
) -> None:
    app = apply(consumer, days=30).json()
    page = f"/console/applications/{app['id']}"
    r = _form(reviewer, f"{page}/approve", page, **form)
    assert r.status_code in (400, 422) and problem in r.text  # type: ignore[attr-defined]
    after = consumer.get(f"/sharing/v1/applications/{app['id']}").json()
    assert after["status"] == "submitted" and after["grant_id"] is None


def test_a_rejection_needs_a_reason_and_the_applicant_sees_it(
    reviewer: TestClient, consumer: Caller, city: TestClient, db: Session, settings: Settings
) -> None:
    app = apply(consumer).json()
    page = f"/console/applications/{app['id']}"
    r = _form(reviewer, f"{page}/reject", page, reason="  ")
    assert r.status_code == 400 and "reason" in r.text  # type: ignore[attr-defined]
    assert consumer.get(f"/sharing/v1/applications/{app['id']}").json()["status"] == "submitted"
    r = _form(reviewer, f"{page}/reject", page, reason="事由与所申请字段不相符")
    assert r.status_code == 303  # type: ignore[attr-defined]
    applicant = console_login(city, make_user(db, settings, Role.department, "MZ"))
    mine = applicant.get("/console/applications").text
    assert "事由与所申请字段不相符" in mine and "rejected" in mine


def test_the_applicant_cannot_decide_its_own_application(
    city: TestClient, consumer: Caller, db: Session, settings: Settings
) -> None:
    app = apply(consumer).json()
    applicant = console_login(city, make_user(db, settings, Role.department, "MZ"))
    page = f"/console/applications/{app['id']}"
    assert "/approve" not in applicant.get(page).text
    r = _form(applicant, f"{page}/approve", page, fields=["id_number"])
    assert r.status_code == 403 and "NotProvider" in r.text  # type: ignore[attr-defined]


def test_another_departments_application_is_not_found(
    city: TestClient, consumer: Caller, db: Session, settings: Settings
) -> None:
    app = apply(consumer).json()
    outsider = console_login(city, make_user(db, settings, Role.department, "TJ"))
    assert outsider.get(f"/console/applications/{app['id']}").status_code == 404


def test_forms_need_the_sessions_csrf_token(reviewer: TestClient, consumer: Caller) -> None:
    app = apply(consumer).json()
    r = reviewer.post(f"/console/applications/{app['id']}/approve", data={"fields": ["name"]})
    assert r.status_code == 403 and "CsrfFailed" in r.text
    assert consumer.get(f"/sharing/v1/applications/{app['id']}").json()["status"] == "submitted"


def test_the_provider_renews_and_revokes_a_grant_from_the_console(
    reviewer: TestClient, consumer: Caller, provider: Caller, people: pa.Table
) -> None:
    app = grant(consumer, provider)
    gid = app["grant_id"]
    before = consumer.get(f"/sharing/v1/grants/{gid}").json()["expires_at"]
    page = reviewer.get("/console/grants")
    assert f"/console/grants/{gid}/revoke" in page.text
    r = _form(reviewer, f"/console/grants/{gid}/renew", "/console/grants", duration_days="30")
    assert r.status_code == 303  # type: ignore[attr-defined]
    after = consumer.get(f"/sharing/v1/grants/{gid}").json()["expires_at"]
    assert after > before
    r = _form(reviewer, f"/console/grants/{gid}/revoke", "/console/grants", reason="")
    assert r.status_code == 400  # type: ignore[attr-defined]
    r = _form(reviewer, f"/console/grants/{gid}/revoke", "/console/grants", reason="超出用途使用")
    assert r.status_code == 303  # type: ignore[attr-defined]
    consumer.extra = PURPOSE
    refused = consumer.get(
        f"/sharing/v1/resources/population/records/{people['id_number'][0].as_py()}"
    )
    assert refused.status_code == 403 and refused.json()["error"] == "GrantRevoked"


def test_the_consumer_sees_the_grants_it_holds(
    city: TestClient, consumer: Caller, provider: Caller, db: Session, settings: Settings
) -> None:
    grant(consumer, provider)
    holder = console_login(city, make_user(db, settings, Role.department, "MZ"))
    page = holder.get("/console/grants").text
    held = page[page.index("Grants we hold") :]
    assert "population" in held and "GA" in held and "/revoke" not in held


@pytest.mark.parametrize(
    ("now", "due", "left"),
    [
        # National Day 2025: 1-8 October off, Sunday 28 Sep and Saturday 11 Oct worked.
        (dt.datetime(2025, 9, 30, 9, tzinfo=CST), dt.datetime(2025, 10, 10, 23, tzinfo=CST), 2),
        (dt.datetime(2025, 10, 10, 9, tzinfo=CST), dt.datetime(2025, 10, 10, 23, tzinfo=CST), 0),
        (dt.datetime(2025, 10, 13, 9, tzinfo=CST), dt.datetime(2025, 10, 9, 23, tzinfo=CST), -3),
    ],
)
def test_working_days_left_skip_holidays_and_count_make_up_days(
    now: dt.datetime, due: dt.datetime, left: int
) -> None:
    assert working_days_left(now, due) == left


def test_a_form_the_console_cannot_read_gets_a_page_naming_the_field(
    reviewer: TestClient, consumer: Caller
) -> None:
    app = apply(consumer).json()
    page = f"/console/applications/{app['id']}"
    r = _form(reviewer, f"{page}/reject", page, reason="太长" * 1001)
    assert r.status_code == 422  # type: ignore[attr-defined]
    assert r.headers["content-type"].startswith("text/html") and "reason" in r.text  # type: ignore[attr-defined]
    assert consumer.get(f"/sharing/v1/applications/{app['id']}").json()["status"] == "submitted"
    r = reviewer.get("/console/catalog", params={"offset": "-1"})  # type: ignore[assignment]
    assert r.status_code == 422 and "offset" in r.text  # type: ignore[attr-defined]
