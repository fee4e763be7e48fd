"""Hostile input gets a 4xx that says what was wrong, never a 500 (issue 17 #8)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exchange.core.settings import Settings
from exchange.platforms.sharing.access.principal import Role
from tests.platforms.sharing.builders import (
    PURPOSE,
    Caller,
    console_login,
    csrf_of,
    grant,
    load_people,
    make_user,
)

BASE = "/sharing/v1/resources/population"
PAST_INT64 = str(2**63)  # 9223372036854775808: one past the largest BIGINT
NOT_ASCII = "游标é"


@pytest.fixture
def reader(city: TestClient, consumer: Caller, provider: Caller) -> Caller:
    load_people(city, 3)
    grant(consumer, provider)
    consumer.extra = PURPOSE
    return consumer


@pytest.mark.parametrize(
    ("path", "param"),
    [
        (f"{BASE}/records", "cursor"),
        (f"{BASE}/events", "after"),
        (f"{BASE}/snapshots/delta", "after"),
    ],
)
def test_a_non_ascii_cursor_is_a_400(reader: Caller, path: str, param: str) -> None:
    r = reader.get(path, params={param: NOT_ASCII})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "BadCursor"


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/sharing/v1/catalog", "offset"),
        ("/sharing/v1/applications", "offset"),
        ("/sharing/v1/grants", "offset"),
        ("/sharing/v1/audit", "after_id"),
    ],
)
def test_an_integer_past_bigint_is_refused_with_the_parameter_named(
    consumer: Caller, auditor: Caller, path: str, param: str
) -> None:
    who = auditor if "audit" in path else consumer
    r = who.get(path, params={param: PAST_INT64})
    assert r.status_code == 422, r.text
    assert r.json()["problems"][0]["field"] == f"query.{param}"


def test_a_non_ascii_csrf_token_on_the_login_form_is_refused(city: TestClient) -> None:
    browser = TestClient(city.app, follow_redirects=False)
    browser.get("/console/login")
    r = browser.post("/console/login", data={"username": "x", "password": "y", "csrf": NOT_ASCII})
    assert r.status_code in (400, 403), r.text


def test_a_non_ascii_csrf_token_on_a_signed_in_form_is_refused(
    city: TestClient, db: Session, settings: Settings
) -> None:
    browser = console_login(city, make_user(db, settings, Role.department))
    assert csrf_of(browser.get("/console/"))
    r = browser.post("/console/logout", data={"csrf": NOT_ASCII})
    assert r.status_code == 403, r.text
    assert browser.get("/console/").status_code == 200  # still signed in
