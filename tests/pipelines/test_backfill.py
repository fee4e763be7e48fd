"""Logical dates: an Airflow run checks the node as it is now, so one far behind its date is
refused with a message saying why and what to do, and stores nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from exchange.core.runtime import Runtime
from exchange.pipelines import runs, service
from exchange.pipelines.models import CheckRun

NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)


def test_a_run_within_its_systems_window_is_checked() -> None:
    service.refuse_backfill("ops", NOW - dt.timedelta(minutes=45), NOW)
    service.refuse_backfill("standards", NOW - dt.timedelta(days=1, hours=23), NOW)


def test_an_old_date_is_refused_with_what_to_do_instead() -> None:
    with pytest.raises(service.BackfillRefused) as refused:
        service.refuse_backfill("ops", NOW - dt.timedelta(days=3, hours=2), NOW)
    message = str(refused.value)
    assert "2026-12-03 10:00 UTC (3 days 2 h ago)" in message
    assert "`hub check ops`" in message and "without a logical date" in message


def test_a_refused_airflow_run_stores_nothing_and_a_manual_run_is_not_refused(
    runtime: Runtime,
) -> None:
    old = runs.run_key_for(dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
    with pytest.raises(service.BackfillRefused):
        service.open_run(runtime, "security", old, "airflow")
    with runtime.sessions() as session:
        assert session.scalars(select(CheckRun).where(CheckRun.run_key == old)).first() is None
    assert service.open_run(runtime, "security", old, "cli")  # by hand: the operator's call
