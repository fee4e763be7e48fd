"""Credential endpoints under attack: /token and the console sign-in back off per (who,
address) without locking the real owner out; console sessions end when they are ended."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exchange.core.settings import Settings
from exchange.platforms.sharing.access import service as credentials
from exchange.platforms.sharing.access.principal import Role
from tests.platforms.sharing.builders import (
    PASSWORD,
    Caller,
    console_login,
    csrf_of,
    make_user,
)

TOKEN = "/sharing/v1/token"


def _spellings(cid: uuid.UUID) -> list[str]:
    return [str(cid).upper(), cid.hex, f"{{{cid}}}", f"urn:uuid:{cid}", str(cid)]


def _try(http: TestClient, client_id: str, secret: str) -> int:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    return http.post(TOKEN, data=form).status_code


def test_token_failures_back_off_per_client_and_address(city: TestClient, consumer: Caller) -> None:
    attacker = TestClient(city.app, client=("203.0.113.9", 4000))
    codes = [_try(attacker, spelling, "wrong") for spelling in _spellings(consumer.client_id)]
    assert codes == [401] * 5
    r = attacker.post(
        TOKEN,
        data={"grant_type": "client_credentials", "client_id": consumer.client_id.hex.upper(),
              "client_secret": consumer.secret},
    )  # fmt: skip
    assert r.status_code == 429, "other spellings of the UUID share one budget"
    assert r.json()["error"] == "Throttled" and int(r.headers["retry-after"]) >= 1
    real = TestClient(city.app, client=("198.51.100.7", 4000))
    assert _try(real, str(consumer.client_id), consumer.secret) == 200, "no lock-out elsewhere"


def test_console_sign_in_backs_off_after_wrong_passwords(
    city: TestClient, db: Session, settings: Settings
) -> None:
    name = make_user(db, settings, Role.auditor)
    browser = TestClient(city.app, follow_redirects=False, client=("203.0.113.9", 4000))
    statuses = []
    for _ in range(7):
        form = browser.get("/console/login")
        data = {"username": name, "password": "guess", "csrf": csrf_of(form)}
        statuses.append(browser.post("/console/login", data=data).status_code)
    assert statuses[:5] == [401] * 5 and 429 in statuses[5:]
    console_login(city, name)  # the user, from its own address, still signs in


def test_logout_ends_the_session_on_the_server(
    city: TestClient, db: Session, settings: Settings
) -> None:
    browser = console_login(city, make_user(db, settings, Role.auditor))
    stolen = dict(browser.cookies)
    home = browser.get("/console/")
    assert home.status_code == 200
    assert browser.post("/console/logout", data={"csrf": csrf_of(home)}).status_code == 303
    replay = TestClient(city.app, follow_redirects=False, cookies=stolen)
    r = replay.get("/console/")
    assert r.status_code == 303 and r.headers["location"] == "/console/login"


def test_disable_and_reset_password_end_every_session(
    city: TestClient, db: Session, settings: Settings
) -> None:
    name = make_user(db, settings, Role.operator)
    first, second = console_login(city, name), console_login(city, name)
    new = credentials.reset_password(db, name)
    db.commit()
    assert first.get("/console/").status_code == 303
    assert second.get("/console/").status_code == 303
    console_login(city, name, new)
    credentials.disable_user(db, name)
    db.commit()
    form = city.get("/console/login")
    r = city.post("/console/login", data={"username": name, "password": new, "csrf": csrf_of(form)})
    assert r.status_code == 401


def test_the_admin_page_disables_and_resets(
    city: TestClient, db: Session, settings: Settings
) -> None:
    admin = console_login(city, make_user(db, settings, Role.admin))
    clerk = make_user(db, settings, Role.auditor)
    victim = console_login(city, clerk)
    page = admin.get("/console/admin")
    assert f"/console/admin/users/{clerk}/disable" in page.text
    reset = admin.post(f"/console/admin/users/{clerk}/reset-password", data={"csrf": csrf_of(page)})
    assert reset.status_code == 200 and "new password" in reset.text
    assert victim.get("/console/").status_code == 303
    done = admin.post(f"/console/admin/users/{clerk}/disable", data={"csrf": csrf_of(page)})
    assert done.status_code == 200
    form = city.get("/console/login")
    data = {"username": clerk, "password": PASSWORD, "csrf": csrf_of(form)}
    assert city.post("/console/login", data=data).status_code == 401
