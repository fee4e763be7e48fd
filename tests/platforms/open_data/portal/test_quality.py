import datetime as dt
import hashlib
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from exchange.core.db import utcnow
from exchange.core.settings import Settings
from exchange.directory.models import Resource
from exchange.platforms.exchange.models import Batch
from exchange.platforms.open_data.portal import service
from exchange.quality import score as quality
from tests.platforms.open_data.builders import SCHEMAS, make_dataset

pytestmark = pytest.mark.both_backends
NOW = dt.datetime(2026, 6, 30, tzinfo=dt.UTC)


def entry(**kw: object) -> Resource:
    base = dict(
        code="macro_indicator",
        title="宏观经济指标",
        abstract="全" * 60,
        classification="x",
        share_class="unconditional",
        open_class="open",
        update_cycle="monthly",
        tags=["经济"],
        licence="CC-BY-4.0",
        published_at=NOW - dt.timedelta(days=400),
        last_updated_at=NOW - dt.timedelta(days=3),
        row_count=10,
    )
    return Resource(**{**base, **kw})


def test_overdue_follows_the_declared_cycle() -> None:
    assert quality.is_overdue(entry(last_updated_at=NOW - dt.timedelta(days=33)), NOW)
    assert not quality.is_overdue(entry(last_updated_at=NOW - dt.timedelta(days=31)), NOW)
    assert quality.is_overdue(
        entry(update_cycle="daily", last_updated_at=NOW - dt.timedelta(3)), NOW
    )
    assert not quality.is_overdue(entry(update_cycle="irregular", last_updated_at=None), NOW)
    never_loaded = entry(last_updated_at=None, published_at=NOW - dt.timedelta(days=10))
    assert not quality.is_overdue(never_loaded, NOW)  # still within its first month
    assert quality.is_overdue(entry(last_updated_at=None), NOW)


def _batch(code: str, pass_rate: float, received_at: dt.datetime) -> Batch:
    return Batch(
        id=uuid.uuid4(),
        resource_code=code,
        origin="o",
        origin_public_key="k",
        sender="s",
        sha256=hashlib.sha256(str(pass_rate).encode()).hexdigest(),
        signature="sig",
        size_bytes=1,
        status="accepted",
        payload_key="p",
        gate={"passed": True, "pass_rate": pass_rate, "rows": 10},
        received_at=received_at,
    )


def test_without_a_standards_run_the_latest_batchs_gate_decides(
    db: Session, settings: Settings, city: None
) -> None:
    make_dataset(db, settings, "bus_stops", title="公交站点", last_updated_at=utcnow())
    db.add(_batch("bus_stops", 1.0, utcnow() - dt.timedelta(days=2)))
    db.add(_batch("bus_stops", 0.25, utcnow() - dt.timedelta(days=1)))
    db.flush()
    card = service.card_of(db, SCHEMAS, "bus_stops")
    assert card.quality.checks[0].name == "standards" and card.quality.checks[0].value == 0.25


def test_overdue_badge_shows_in_search_and_on_the_page(
    client: TestClient, db: Session, settings: Settings, city: None
) -> None:
    make_dataset(
        db,
        settings,
        "bus_stops",
        title="公交站点",
        update_cycle="weekly",
        last_updated_at=utcnow() - dt.timedelta(days=20),
    )
    make_dataset(db, settings, "bike_docks", title="公共自行车站点", last_updated_at=utcnow())
    db.commit()
    page = client.get("/datasets/bus_stops")
    assert 'id="overdue"' in page.text
    assert 'id="overdue"' not in client.get("/datasets/bike_docks").text
    listing = client.get("/datasets", params={"q": "站点"}).text
    cards = listing.split('data-code="')[1:]
    by_code = {c.split('"', 1)[0]: c for c in cards}
    assert "更新逾期" in by_code["bus_stops"] and "更新逾期" not in by_code["bike_docks"]


def test_refresh_stores_the_score_in_the_catalogue(
    db: Session, settings: Settings, city: None
) -> None:
    entry_ = make_dataset(db, settings, "bus_stops", title="公交站点", licence=None)
    service.refresh_catalog(db, SCHEMAS)
    db.refresh(entry_)
    assert entry_.quality_score == service.card_of(db, SCHEMAS, "bus_stops").quality.score
    assert entry_.quality_score is not None and 0 < entry_.quality_score < 1
