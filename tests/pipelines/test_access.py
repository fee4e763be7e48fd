"""The access check's rules on their own, on both databases (the embedded node runs SQLite)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from exchange.core.db import utcnow
from exchange.core.runtime import Runtime
from exchange.core.settings import Settings
from exchange.pipelines import access
from tests.builders import seed_city
from tests.pipelines.sharing_scene import DAY, Scene

pytestmark = pytest.mark.both_backends


@pytest.fixture
def scene(db: Session, settings: Settings, runtime: Runtime) -> Scene:
    seed_city(db, settings)
    db.commit()
    return Scene(runtime, db, utcnow())


def _found(runtime: Runtime, now: dt.datetime) -> dict[str, str]:
    return {i.subject: i.kind for i in access.check_access(runtime, now).issues}


def test_a_read_one_minute_after_expiry_is_caught_and_one_before_is_not(
    scene: Scene, runtime: Runtime
) -> None:
    who = scene.consumer("RS")
    grant = scene.grant(who, "population", granted=10, expires=-1)
    scene.read(who, grant, days_ago=1 + 1 / 1440, rows=5)  # a minute before it ended
    scene.done()
    assert _found(runtime, scene.now) == {}
    scene.read(who, grant, days_ago=1 - 1 / 1440, rows=5)  # a minute after
    scene.done()
    assert _found(runtime, scene.now) == {f"grant:{grant.id}": "access.expired_grant_used"}


def test_a_read_after_revocation_is_named_as_such(scene: Scene, runtime: Runtime) -> None:
    who = scene.consumer("WJ")
    grant = scene.grant(who, "population", granted=10, expires=100)
    grant.revoked_at = scene.now - 2 * DAY
    scene.read(who, grant, days_ago=1, rows=5)
    scene.done()
    assert _found(runtime, scene.now) == {f"grant:{grant.id}": "access.revoked_grant_used"}


def test_a_credential_is_dormant_after_ninety_days_without_a_token(
    scene: Scene, runtime: Runtime
) -> None:
    fresh = scene.consumer("MZ", created_days_ago=400, token_days_ago=89)
    stale = scene.client("MZ", "MZ-old", created_days_ago=400, token_days_ago=91)
    never = scene.client("MZ", "MZ-unused", created_days_ago=91, token_days_ago=None)
    scene.done()
    assert _found(runtime, scene.now) == {
        f"client:{stale.id}": "access.dormant_credential",
        f"client:{never.id}": "access.dormant_credential",
    }
    assert f"client:{fresh.id}" not in _found(runtime, scene.now)


def test_a_surge_counts_the_last_24_hours_not_the_calendar_day(
    scene: Scene, runtime: Runtime
) -> None:
    who = scene.consumer("SW")
    grant = scene.grant(who, "legal_person", granted=40, expires=300)
    scene.steady(who, grant, days=range(1, 29), rows=200)
    # 1,500 rows read 23 hours ago: yesterday on the calendar for a run just after midnight
    scene.read(who, grant, days_ago=23 / 24, rows=1_500)
    scene.done()
    assert _found(runtime, scene.now) == {}  # 1,500 is not ten times a median of about 206
    scene.read(who, grant, days_ago=22 / 24, rows=1_000)
    scene.done()
    surge = access.check_access(runtime, scene.now).issues
    assert [(i.kind, i.subject, i.detail["last_24h"]) for i in surge] == [
        ("access.volume_surge", f"department:{who.department_path}", 2_500)
    ]
    # A day later the same reads are the baseline's past, not a surge.
    assert _found(runtime, scene.now + 2 * DAY) == {}
