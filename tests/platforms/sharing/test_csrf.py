"""Cross-site requests: the console's session cookie (path `/`) goes with every request a
browser sends to the node, so an unsafe /sharing/v1 call carrying it must also carry the
session's CSRF token, which another site cannot read."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exchange.core.settings import Settings
from exchange.platforms.sharing.access.principal import Role
from tests.platforms.sharing.builders import (
    Caller,
    apply,
    console_login,
    csrf_of,
    make_user,
)

APPLICATION = {
    "resource": "population",
    "purpose": "核验低保申请人身份",
    "legal_basis": "《社会救助暂行办法》第十一条",
    "fields": ["id_number", "name"],
    "duration_days": 30,
}


def _browser(city: TestClient, db: Session, settings: Settings) -> TestClient:
    return console_login(city, make_user(db, settings, Role.department))


def test_a_cross_site_post_with_only_the_session_cookie_is_403_naming_csrf(
    city: TestClient, db: Session, settings: Settings, consumer: Caller
) -> None:
    browser = _browser(city, db, settings)
    before = consumer.get("/sharing/v1/applications").json()["items"]
    for url, body in (
        ("/sharing/v1/applications", APPLICATION),
        ("/sharing/v1/clients", {"name": "forged", "department": "MZ"}),
        ("/sharing/v1/subscriptions", {"resource": "population"}),
    ):
        r = browser.post(url, json=body, headers={"Origin": "https://evil.example"})
        assert r.status_code == 403, (url, r.text)
        assert r.json()["error"] == "CsrfFailed" and "CSRF" in r.json()["detail"]
        wrong = browser.post(url, json=body, headers={"X-CSRF-Token": "guessed-token"})
        assert wrong.status_code == 403 and wrong.json()["error"] == "CsrfFailed"
    assert consumer.get("/sharing/v1/applications").json()["items"] == before


def test_the_sessions_own_token_passes_the_guard_and_the_route_still_wants_its_credential(
    city: TestClient, db: Session, settings: Settings
) -> None:
    browser = _browser(city, db, settings)
    token = csrf_of(browser.get("/console/"))
    r = browser.post("/sharing/v1/applications", json=APPLICATION, headers={"X-CSRF-Token": token})
    # past the CSRF guard; the cookie is no credential for an API write (bearer tokens are)
    assert r.status_code == 401 and r.json()["error"] == "MissingToken"


def test_gets_with_the_cookie_and_bearer_calls_beside_a_cookie_need_no_csrf_token(
    city: TestClient, db: Session, settings: Settings, consumer: Caller
) -> None:
    browser = _browser(city, db, settings)
    assert browser.get("/sharing/v1/catalog").status_code == 200
    consumer.http.cookies.update(browser.cookies)  # the cookie rides along, the token decides
    try:
        assert apply(consumer).status_code == 201
    finally:
        consumer.http.cookies.clear()
