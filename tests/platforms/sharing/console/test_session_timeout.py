"""A console session ends after `console_idle_minutes` unused, and never lives past
`console_session_hours` however busy its user."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from exchange.core.settings import Settings
from exchange.platforms.sharing.access.principal import Role
from exchange.platforms.sharing.models import ConsoleSessionRow
from tests.platforms.sharing.builders import console_login, make_user


def _row(db: Session) -> ConsoleSessionRow:
    db.expire_all()
    return db.scalars(select(ConsoleSessionRow)).one()


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _set(db: Session, **values: dt.datetime) -> None:
    db.execute(update(ConsoleSessionRow).values(**values))
    db.commit()


@pytest.mark.both_backends
def test_an_unused_session_times_out_and_a_used_one_slides(
    city: TestClient, db: Session, settings: Settings
) -> None:
    browser = console_login(city, make_user(db, settings, Role.auditor))
    now = dt.datetime.now(dt.UTC)
    idle = dt.timedelta(minutes=settings.sharing.console_idle_minutes)
    left = _aware(_row(db).expires_at) - now
    assert idle - dt.timedelta(minutes=1) < left <= idle, "a new session lasts the idle time"
    _set(db, expires_at=now + dt.timedelta(minutes=2))
    assert browser.get("/console/").status_code == 200
    assert _aware(_row(db).expires_at) - now > idle - dt.timedelta(minutes=1), "use extends it"
    _set(db, expires_at=now - dt.timedelta(seconds=1))
    r = browser.get("/console/")
    assert r.status_code == 303 and r.headers["location"] == "/console/login"


def test_a_busy_session_still_ends_at_its_lifetime(
    city: TestClient, db: Session, settings: Settings
) -> None:
    browser = console_login(city, make_user(db, settings, Role.auditor))
    now = dt.datetime.now(dt.UTC)
    hours = settings.sharing.console_session_hours
    end = now + dt.timedelta(minutes=3)
    _set(db, created_at=end - dt.timedelta(hours=hours), expires_at=now + dt.timedelta(minutes=1))
    assert browser.get("/console/").status_code == 200
    assert abs(_aware(_row(db).expires_at) - end) < dt.timedelta(seconds=1), "capped"
