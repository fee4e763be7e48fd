"""The one quality score: half the standards pass rate, half the metadata promises kept."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

import pytest
from sqlalchemy.orm import Session

from exchange.core.db import utcnow
from exchange.core.settings import Settings
from exchange.directory.models import Resource
from exchange.pipelines.models import CheckRun, QualityRun
from exchange.platforms.exchange.models import Batch
from exchange.quality import results_repository as results
from exchange.quality import score
from tests.builders import seed_city

NOW = dt.datetime(2026, 6, 30, tzinfo=dt.UTC)
ITEMS = [{"name": "indicator", "title": "指标", "type": "string", "sensitivity": "public"}]


def entry(**kw: object) -> Resource:
    base = dict(
        code="macro_indicator",
        title="宏观经济指标",
        abstract="全" * 60,
        classification="x",
        identifier="330100/TJ-0001",
        provider_id=uuid.uuid4(),
        share_class="unconditional",
        open_class="open",
        update_cycle="monthly",
        tags=["经济"],
        licence="CC-BY-4.0",
        data_items=ITEMS,
        published_at=NOW - dt.timedelta(days=400),
        last_updated_at=NOW - dt.timedelta(days=3),
        row_count=10,
    )
    return Resource(**{**base, **kw})


def test_a_complete_entry_whose_rows_all_pass_scores_full_marks() -> None:
    q = score.assess(entry(), 1.0)
    assert q.score == 1.0 and q.percent == 100 and q.stars == 5
    assert [c.name for c in q.checks] == [
        "standards",
        "complete",
        "described",
        "documented",
        "licensed",
        "keywords",
        "cycle",
    ]


@pytest.mark.parametrize(
    ("change", "failed"),
    [
        ({"identifier": None}, "complete"),
        ({"abstract": "太短的描述"}, "described"),
        ({"data_items": [{**ITEMS[0], "title": "indicator"}]}, "documented"),
        ({"licence": None}, "licensed"),
        ({"licence": "all-rights-reserved"}, "licensed"),
        ({"tags": []}, "keywords"),
        ({"update_cycle": "irregular"}, "cycle"),
    ],
)
def test_each_broken_promise_costs_a_sixth_of_the_metadata_half(
    change: dict[str, object], failed: str
) -> None:
    q = score.assess(entry(**change), 1.0)
    assert [c.name for c in q.checks if not c.passed] == [failed]
    assert q.score == pytest.approx(1 - 0.5 / 6, abs=1e-4)


def test_the_pass_rate_counts_in_proportion_and_none_counts_as_zero() -> None:
    half, none = score.assess(entry(), 0.5), score.assess(entry(), None)
    assert half.score == pytest.approx(0.75) and none.score == pytest.approx(0.5)
    assert none.checks[0].detail == "no stored standards result yet"


def test_freshness_is_shown_apart_not_scored() -> None:
    stale = entry(last_updated_at=NOW - dt.timedelta(days=400))
    assert score.assess(stale, 1.0).score == 1.0 and score.is_overdue(stale, NOW)


def test_closed_data_needs_no_open_licence() -> None:
    assert score.assess(entry(open_class="closed", licence=None), 1.0).score == 1.0


def _batch(code: str, pass_rate: float, rows: int, at: dt.datetime) -> Batch:
    return Batch(
        id=uuid.uuid4(),
        resource_code=code,
        origin="o",
        origin_public_key="k",
        sender="s",
        sha256=hashlib.sha256(f"{code}{pass_rate}{at}".encode()).hexdigest(),
        signature="sig",
        size_bytes=1,
        status="accepted",
        payload_key="p",
        gate={"passed": True, "pass_rate": pass_rate, "rows": rows},
        received_at=at,
    )


def _standards_run(db: Session, code: str, pass_rate: float, rows: int, at: dt.datetime) -> None:
    run = CheckRun(system="standards", run_key=f"{code}-{at.isoformat()}", trigger="cli")
    db.add(run)
    db.flush()
    db.add(
        QualityRun(
            run_id=run.id,
            resource_code=code,
            engine="great_expectations",
            rows=rows,
            failed_rows=round(rows * (1 - pass_rate)),
            pass_rate=pass_rate,
            passed=pass_rate == 1.0,
            checked_at=at,
        )
    )
    db.flush()


@pytest.mark.both_backends
def test_the_latest_standards_run_feeds_the_score_else_the_latest_gate(
    db: Session, settings: Settings
) -> None:
    seed_city(db, settings)
    now = utcnow()
    db.add(_batch("legal_person", 0.5, 10, now - dt.timedelta(days=2)))
    db.add(_batch("legal_person", 0.8, 10, now - dt.timedelta(days=1)))
    db.add(_batch("population", 0.6, 10, now - dt.timedelta(days=1)))
    db.add(_batch("macro_indicator", 1.0, 0, now))  # an empty batch vouches for nothing
    db.flush()
    codes = ["legal_person", "population", "macro_indicator", "geo_address"]
    assert results.pass_rates(db, codes) == {
        "legal_person": 0.8,
        "population": 0.6,
        "macro_indicator": None,
    }
    _standards_run(db, "population", 0.9, 1000, now - dt.timedelta(days=3))
    _standards_run(db, "population", 0.95, 1000, now - dt.timedelta(hours=1))
    assert results.pass_rates(db, ["population"]) == {"population": 0.95}
