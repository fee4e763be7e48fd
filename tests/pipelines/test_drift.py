"""Drift checks on PostgreSQL: each planted change to the database's shape is found, critical,
naming the table and what changed; an untouched database has none."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from exchange.core.db import make_engine
from exchange.core.resource_schema import SCHEMAS_DIR, load_all
from exchange.core.runtime import Runtime, build_runtime
from exchange.lifecycle import prepare_database
from exchange.pipelines import drift
from exchange.pipelines.runs import Issue
from exchange.testing.postgres import LocalPostgres
from tests.pipelines.city import city_settings

# fault -> (SQL that plants it, kind, subject, a detail the finding must carry)
FAULTS: dict[str, tuple[str, str, str, dict[str, object]]] = {
    "dropped primary key": (
        "ALTER TABLE ds_population DROP CONSTRAINT pk_ds_population",
        "drift.primary_key",
        "ds_population",
        {"actual": []},
    ),
    "dropped unique index": (
        "DROP INDEX ix_ds_geo_division__seq",
        "drift.unique_index",
        "ds_geo_division",
        {"index": "ix_ds_geo_division__seq"},
    ),
    "changed column type": (
        "ALTER TABLE ds_macro_indicator ALTER COLUMN value TYPE text",
        "drift.column_type",
        "ds_macro_indicator",
        {"column": "value", "actual": "TEXT"},
    ),
    "dropped NOT NULL": (
        "ALTER TABLE ds_legal_person__hist ALTER COLUMN _batch_id DROP NOT NULL",
        "drift.not_null",
        "ds_legal_person__hist",
        {"column": "_batch_id"},
    ),
    "disabled audit trigger": (
        "ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only",
        "drift.audit_trigger",
        "audit_entry",
        {"missing": ["audit_entry_append_only"]},
    ),
    "dropped audit trigger": (
        "DROP TRIGGER audit_seal_no_truncate ON audit_seal",
        "drift.audit_trigger",
        "audit_seal",
        {"missing": ["audit_seal_no_truncate"]},
    ),
}


@pytest.fixture(scope="module")
def drifted(
    pg_server: LocalPostgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[list[Issue], list[Issue]]]:
    """A migrated node checked before and after every fault is planted."""
    url = pg_server.create_database("assurance_drift")
    engine = make_engine(url)
    prepare_database(engine, load_all(SCHEMAS_DIR))
    engine.dispose()
    rt: Runtime = build_runtime(city_settings(url, tmp_path_factory.mktemp("drift")))
    try:
        clean = drift.check_drift(rt)
        # both tables of each of the 7 built-in resources were looked at
        assert [(g.name, g.value) for g in clean.gauges] == [("tables_checked", 14.0)]
        with rt.engine.begin() as conn:
            for sql, *_ in FAULTS.values():
                conn.execute(text(sql))
        yield clean.issues, drift.check_drift(rt).issues
    finally:
        rt.close()


def test_an_untouched_database_has_no_drift(drifted: tuple[list[Issue], list[Issue]]) -> None:
    before, _ = drifted
    assert [(i.kind, i.subject, i.message) for i in before] == []


@pytest.mark.parametrize("fault", list(FAULTS))
def test_each_planted_fault_is_a_critical_finding_naming_what_changed(
    drifted: tuple[list[Issue], list[Issue]], fault: str
) -> None:
    _, after = drifted
    _, kind, subject, detail = FAULTS[fault]
    found = [i for i in after if (i.kind, i.subject) == (kind, subject)]
    assert found, sorted((i.kind, i.subject) for i in after)
    assert all(i.severity == "critical" for i in found)
    assert any(detail.items() <= i.detail.items() for i in found), [i.detail for i in found]


def test_nothing_but_the_planted_faults_is_found(
    drifted: tuple[list[Issue], list[Issue]],
) -> None:
    _, after = drifted
    planted = {(kind, subject) for _, kind, subject, _ in FAULTS.values()}
    assert {(i.kind, i.subject) for i in after} == planted
