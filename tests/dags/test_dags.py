"""The DAGs load, parse fast, and each runs end to end with dag.test() against a seeded city."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from exchange.core.db import utcnow
from exchange.core.runtime import Runtime
from exchange.pipelines import runs
from exchange.pipelines.models import CheckFinding, CheckRun, MetricSample
from exchange.platforms.sharing.models import AuditEntry
from tests.dags.conftest import DAGS_FOLDER
from tests.pipelines.city import Planted

DAG_IDS = {"hub_standards", "hub_security", "hub_ops"}
# Runs check the node as it is now: their dates are recent (an old one is a refused backfill).
RECENT = (utcnow() - dt.timedelta(minutes=20)).replace(second=0, microsecond=0)


def test_dagbag_loads_every_dag_without_import_errors() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == DAG_IDS
    for dag_id in DAG_IDS:
        dag = bag.dags[dag_id]
        assert dag.tags and dag.doc_md and dag.default_args["owner"] == "data-bureau"
        assert all(t.retries >= 1 for t in dag.tasks)
        assert {t.task_id for t in dag.tasks} == {"open_run", "plan", "check", "finish", "alert"}
        assert all(t.execution_timeout is not None for t in dag.tasks)
        assert dag.task_dict["finish"].trigger_rule == "all_done"
        assert dag.task_dict["check"].map_index_template == "{{ hub_check }}"
        assert dag.fileloc == str(DAGS_FOLDER / f"{dag_id}.py")


@pytest.mark.parametrize("path", sorted(DAGS_FOLDER.glob("*.py")), ids=lambda p: p.name)
def test_each_dag_file_parses_in_under_a_second(path: Path) -> None:
    # A fresh interpreter with Airflow already imported: what is timed is the file itself
    # (heavy imports belong inside tasks, so parsing stays cheap for the dag processor).
    code = (
        "import sys, time, runpy, airflow.sdk\n"
        "before = set(sys.modules)\n"
        f"t = time.perf_counter(); runpy.run_path({str(path)!r}); t = time.perf_counter() - t\n"
        "print(sorted(m for m in set(sys.modules) - before if m.startswith('exchange')))\n"
        "print(t)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    *_, imported, seconds = out.stdout.strip().splitlines()
    assert float(seconds) < 1.0, f"{path.name} took {float(seconds):.2f} s to parse"
    # Of the hub, parsing imports the DAG builder alone; the tasks import the rest when run.
    assert imported == str(["exchange", "exchange.pipelines", "exchange.pipelines.dagsupport"])
    assert "great_expectations" not in out.stderr


def _dag(dag_id: str):  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER)).dags[dag_id]


def _point_at(monkeypatch: pytest.MonkeyPatch, rt: Runtime) -> None:
    s = rt.settings
    monkeypatch.setenv(
        "AIRFLOW_VAR_HUB_DATABASE_URL", rt.engine.url.render_as_string(hide_password=False)
    )
    monkeypatch.setenv("HUB_ENV", "test")
    monkeypatch.setenv("HUB_SECRET_KEY", s.secret_key.get_secret_value())
    monkeypatch.setenv("HUB_VAR_DIR", str(s.var_dir))
    monkeypatch.setenv("HUB_STORE_URL", s.resolved_store_url)


def _test_run(dag_id: str, when: dt.datetime, *, red: bool = False) -> None:
    """Run the DAG; a run with a critical finding must end red (its `alert` task failed)."""
    from airflow.utils.state import DagRunState, TaskInstanceState

    run = _dag(dag_id).test(logical_date=when)
    assert run.state == (DagRunState.FAILED if red else DagRunState.SUCCESS)
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["finish"] == TaskInstanceState.SUCCESS  # the run is always closed
    if red:
        assert states["alert"] == TaskInstanceState.FAILED


def _stored_run(rt: Runtime, system: str, when: dt.datetime) -> tuple[CheckRun, list[CheckFinding]]:
    with rt.sessions() as session:
        run = session.scalars(
            select(CheckRun).where(
                CheckRun.system == system, CheckRun.run_key == runs.run_key_for(when)
            )
        ).one()
        return run, list(runs.findings(session, run.id))


@pytest.mark.parametrize("dag_id", sorted(DAG_IDS))
def test_dag_run_on_clean_city_reports_nothing(
    airflow_db: Path, clean_city: Runtime, monkeypatch: pytest.MonkeyPatch, dag_id: str
) -> None:
    _point_at(monkeypatch, clean_city)
    when = RECENT
    _test_run(dag_id, when)
    run, found = _stored_run(clean_city, dag_id.removeprefix("hub_"), when)
    assert run.trigger == "airflow" and run.finished_at is not None
    assert [(f.kind, f.subject, f.message) for f in found] == []
    assert run.checks and all(c["status"] == "ok" for c in run.checks.values()), run.checks


def test_clean_security_run_checked_real_sharing_traffic(
    airflow_db: Path, clean_city: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No finding counts only if there was something to look at: weeks of reads, every one
    of them sealed and verified."""
    _point_at(monkeypatch, clean_city)
    when = RECENT
    _test_run("hub_security", when)
    run, _ = _stored_run(clean_city, "security", when)
    with clean_city.sessions() as session:
        sealed = session.scalar(
            select(MetricSample.value).where(
                MetricSample.run_id == run.id,
                MetricSample.name == "hub_security_audit_chain_entries_sealed",
            )
        )
        entries = session.scalar(select(func.count()).select_from(AuditEntry))
    assert entries and entries >= 40
    assert sealed == entries


# Every planted problem: the kind of finding it must produce, on which subject, how severe.
# Subjects that depend on generated ids name the Planted attribute holding them: {attribute}.
PLANTED: dict[str, tuple[str, str, str]] = {
    "bad checksum": ("rule.cn_ric.checksum", "population", "critical"),
    "stale resource": ("freshness.overdue", "{stale_resource}", "critical"),
    "PII leak in an open dataset": ("pii.name_with_id", "geo_address.name", "critical"),
    "PII in a public response": (
        "pii.response.name_with_id",
        "/api/3/action/datastore_search?resource_id=geo_address",
        "critical",
    ),
    "silent connector": ("connector.silent", "connector:{silent_connector}", "critical"),
    "不予共享 resource on the portal": (
        "exposure.reachable",
        "{contradicted_resource}",
        "critical",
    ),
    "禁止开放 resource opened in the catalogue": (
        "exposure.reachable",
        "{reopened_resource}",
        "critical",
    ),
    "不予共享 resource with a grant still holding": (
        "exposure.granted",
        "{unshared_granted}",
        "critical",
    ),
    "tampered audit row": ("audit.entry_altered", "audit_entry:{tampered_entry}", "critical"),
    "deleted audit row": ("audit.entry_deleted", "audit_entry:{deleted_entry}", "critical"),
    "expired grant still used": ("access.expired_grant_used", "{expired_grant}", "critical"),
    "revoked grant still used": ("access.revoked_grant_used", "{revoked_grant}", "critical"),
    "dormant credential": ("access.dormant_credential", "{dormant_client}", "warning"),
    "access volume far above baseline": ("access.volume_surge", "{surging_department}", "warning"),
}
PLANTED_RUN = RECENT


def _subject(template: str, planted: Planted) -> str:
    return template.format(**dataclasses.asdict(planted))


@pytest.fixture(scope="module")
def planted_findings(
    airflow_db: Path, planted_city: tuple[Runtime, Planted]
) -> dict[tuple[str, str], str]:
    """The three DAGs run once over the planted city: (kind, subject) -> severity."""
    rt, _ = planted_city
    found: dict[tuple[str, str], str] = {}
    with pytest.MonkeyPatch.context() as monkeypatch:
        _point_at(monkeypatch, rt)
        for dag_id in sorted(DAG_IDS):
            _test_run(dag_id, PLANTED_RUN, red=True)  # each system has a critical plant
            run, findings = _stored_run(rt, dag_id.removeprefix("hub_"), PLANTED_RUN)
            assert run.trigger == "airflow" and run.finished_at is not None
            found |= {(f.kind, f.subject): f.severity for f in findings}
    return found


@pytest.mark.parametrize("problem", list(PLANTED))
def test_dag_runs_find_the_planted_problem(
    planted_findings: dict[tuple[str, str], str],
    planted_city: tuple[Runtime, Planted],
    problem: str,
) -> None:
    kind, subject, severity = PLANTED[problem]
    key = (kind, _subject(subject, planted_city[1]))
    assert key in planted_findings, sorted(planted_findings)
    assert planted_findings[key] == severity


def test_a_dag_run_that_crashes_on_one_resource_finishes_red_with_an_error_finding(
    airflow_db: Path, clean_city: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import update

    from exchange.directory.models import Resource

    _point_at(monkeypatch, clean_city)
    when = RECENT - dt.timedelta(minutes=5)
    with clean_city.sessions() as session, session.begin():
        cycle = session.get(Resource, "credit_record").update_cycle  # type: ignore[union-attr]
        session.execute(
            update(Resource)
            .where(Resource.code == "credit_record")
            .values(update_cycle="fortnightly")
        )
    try:
        _test_run("hub_ops", when, red=True)
    finally:
        with clean_city.sessions() as session, session.begin():
            session.execute(
                update(Resource).where(Resource.code == "credit_record").values(update_cycle=cycle)
            )
    run, found = _stored_run(clean_city, "ops", when)
    assert run.status == "error" and run.finished_at is not None
    assert [(f.kind, f.subject) for f in found] == [(runs.CRASHED, "credit_record")]


def test_a_task_runtime_bounds_each_sql_statement(
    clean_city: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import text

    from exchange.pipelines import dagsupport

    _point_at(monkeypatch, clean_city)
    monkeypatch.setenv("HUB_DATABASE_URL", clean_city.engine.url.render_as_string(False))
    with dagsupport.runtime() as rt, rt.engine.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "10min"
    sqlite = "sqlite:////tmp/hub.db"
    assert dagsupport.with_statement_timeout(sqlite) == sqlite


def test_a_backfill_of_an_old_date_is_refused_and_stores_nothing(
    airflow_db: Path, clean_city: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.utils.state import DagRunState, TaskInstanceState

    _point_at(monkeypatch, clean_city)
    old = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    run = _dag("hub_ops").test(logical_date=old)
    assert run.state == DagRunState.FAILED
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["open_run"] == TaskInstanceState.FAILED
    with clean_city.sessions() as session:
        stored = session.scalars(
            select(CheckRun).where(
                CheckRun.system == "ops", CheckRun.run_key == runs.run_key_for(old)
            )
        ).first()
    assert stored is None
