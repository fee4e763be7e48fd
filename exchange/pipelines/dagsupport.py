"""What the DAG files share: one builder for the assurance DAG shape, and the task bodies.

Every assurance DAG is `open_run` -> `check` (one mapped task per check) -> `finish`. A DAG
file states only what differs (system, schedule, retries, docs) and calls `assurance_dag`.
The dag processor parses each file often, so importing this module costs nothing beyond
`airflow.sdk`: the hub itself (settings, database, Great Expectations) is imported inside the
tasks, when they run.

Tasks are idempotent and keyed by the run's logical date: `open_run` finds or creates the
check run of (system, date), a retried `check` replaces what it stored before (`runs.record`).
The database URL comes from the Airflow Variable `hub_database_url` (set by `make airflow` /
`hub airflow up`), else from `HUB_DATABASE_URL`; every other setting from the `HUB_*`
environment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from airflow.sdk import dag, task

if TYPE_CHECKING:
    from airflow.sdk import DAG

    from exchange.core.runtime import Runtime

VARIABLE = "hub_database_url"
OWNER = "data-bureau"
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
TAGS = {"standards": "standards", "security": "security", "ops": "operations"}


def assurance_dag(
    system: str,
    *,
    schedule: str,
    doc_md: str,
    retries: int,
    retry_delay: dt.timedelta,
    max_parallel_checks: int | None = None,
    timeout: dt.timedelta | None = None,
) -> DAG:
    """The DAG `hub_<system>`: open the run, plan its checks (`service.checks_of`: the
    standards checks are one per catalogued resource, so the list is read when the run starts,
    not when the file is parsed), one mapped `check` task each, finish the run."""

    @dag(
        dag_id=f"hub_{system}",
        schedule=schedule,
        start_date=START,
        catchup=False,
        max_active_runs=1,
        dagrun_timeout=timeout,
        tags=["hub", "assurance", TAGS[system]],
        default_args={"owner": OWNER, "retries": retries, "retry_delay": retry_delay},
        doc_md=doc_md,
    )
    def assurance() -> None:
        @task
        def open_run(**context: Any) -> str:
            return start_run(system, context)

        @task
        def plan() -> list[str]:
            return planned_checks(system)

        @task(max_active_tis_per_dagrun=max_parallel_checks)
        def check(check_run: str, name: str) -> dict[str, int]:
            return run_check(system, check_run, name)

        @task
        def finish(check_run: str, _done: list[dict[str, int]]) -> dict[str, int]:
            return finish_run(check_run)

        run = open_run()
        # XComArgs here; the tasks receive the values when they run
        finish(run, check.partial(check_run=run).expand(name=plan()))  # type: ignore[arg-type]

    return assurance()


# -- the task bodies: the hub is imported here, when a task runs -------------------------------
@contextmanager
def runtime() -> Iterator[Runtime]:
    from exchange.core.runtime import build_runtime
    from exchange.core.settings import load_settings
    from exchange.wiring import wire

    wire()
    url = _database_url()
    rt = build_runtime(load_settings(**({"database_url": url} if url else {})))
    try:
        yield rt
    finally:
        rt.close()


def _database_url() -> str | None:
    try:
        from airflow.sdk import Variable

        return Variable.get(VARIABLE, default=None)
    except Exception:  # outside a task, or Airflow without a reachable metadata store
        return None


def run_key(context: Mapping[str, Any]) -> str:
    """The logical date (None for manual runs in Airflow 3: then the run's own time)."""
    from exchange.pipelines import runs

    when: dt.datetime | None = context.get("logical_date")
    if when is None:
        when = getattr(context.get("dag_run"), "run_after", None)
    return runs.run_key_for(when)


def start_run(system: str, context: Mapping[str, Any]) -> str:
    from exchange.pipelines import service

    with runtime() as rt:
        return str(service.open_run(rt, system, run_key(context), "airflow"))


def planned_checks(system: str) -> list[str]:
    from exchange.pipelines import service

    with runtime() as rt:
        return service.checks_of(rt, system)


def run_check(system: str, run_id: str, name: str) -> dict[str, int]:
    import uuid

    from exchange.pipelines import service

    with runtime() as rt:
        return service.record_check(rt, system, uuid.UUID(run_id), name)


def finish_run(run_id: str) -> dict[str, int]:
    import uuid

    from exchange.pipelines import service

    with runtime() as rt:
        return service.finish_run(rt, uuid.UUID(run_id))
