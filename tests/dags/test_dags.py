"""The DAGs load, parse fast, and each runs end to end with dag.test() against a seeded city."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from exchange.core.runtime import Runtime
from exchange.pipelines import runs
from tests.dags.conftest import DAGS_FOLDER
from tests.pipelines.city import Planted

DAG_IDS = {"hub_standards", "hub_security", "hub_ops"}


def test_dagbag_loads_every_dag_without_import_errors() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == DAG_IDS
    for dag_id in DAG_IDS:
        dag = bag.dags[dag_id]
        assert dag.tags and dag.doc_md and dag.default_args["owner"] == "data-bureau"
        assert all(t.retries >= 1 for t in dag.tasks)


@pytest.mark.parametrize("path", sorted(DAGS_FOLDER.glob("*.py")), ids=lambda p: p.name)
def test_each_dag_file_parses_in_under_a_second(path: Path) -> None:
    # A fresh interpreter with Airflow already imported: what is timed is the file itself
    # (heavy imports belong inside tasks, so parsing stays cheap for the dag processor).
    code = (
        "import time, runpy, airflow.sdk\n"
        f"t = time.perf_counter(); runpy.run_path({str(path)!r}); print(time.perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    seconds = float(out.stdout.strip().splitlines()[-1])
    assert seconds < 1.0, f"{path.name} took {seconds:.2f} s to parse"
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


def _test_run(dag_id: str, when: dt.datetime) -> None:
    from airflow.utils.state import DagRunState

    run = _dag(dag_id).test(logical_date=when)
    assert run.state == DagRunState.SUCCESS


@pytest.mark.parametrize("dag_id", sorted(DAG_IDS))
def test_dag_run_on_clean_city_reports_nothing(
    airflow_db: Path, clean_city: Runtime, monkeypatch: pytest.MonkeyPatch, dag_id: str
) -> None:
    _point_at(monkeypatch, clean_city)
    when = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    _test_run(dag_id, when)
    system = dag_id.removeprefix("hub_")
    with clean_city.sessions() as session:
        run = session.scalars(
            runs.select(runs.CheckRun).where(
                runs.CheckRun.system == system, runs.CheckRun.run_key == runs.run_key_for(when)
            )
        ).one()
        assert run.trigger == "airflow" and run.finished_at is not None
        assert [f.message for f in runs.findings(session, run.id)] == []


def test_dag_runs_find_every_planted_problem(
    airflow_db: Path, planted_city: tuple[Runtime, Planted], monkeypatch: pytest.MonkeyPatch
) -> None:
    rt, planted = planted_city
    _point_at(monkeypatch, rt)
    when = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    kinds: set[tuple[str, str]] = set()
    for dag_id in sorted(DAG_IDS):
        _test_run(dag_id, when)
        with rt.sessions() as session:
            run = session.scalars(
                runs.select(runs.CheckRun).where(
                    runs.CheckRun.system == dag_id.removeprefix("hub_"),
                    runs.CheckRun.run_key == runs.run_key_for(when),
                )
            ).one()
            kinds |= {(f.kind, f.subject) for f in runs.findings(session, run.id)}
    assert {
        ("rule.cn_ric.checksum", "population"),
        ("freshness.overdue", planted.stale_resource),
        ("pii.name_with_id", "geo_address.name"),
        ("connector.silent", f"connector:{planted.silent_connector}"),
        ("exposure.reachable", planted.contradicted_resource),
    } <= kinds
